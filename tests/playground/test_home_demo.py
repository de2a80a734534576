"""The home page's ravine demo: its caption holds at every value of its slider, robustly."""

from __future__ import annotations

import itertools

import pytest

from playground.compute import run_setup
from playground.home import DEMO_FIXED, DEMO_SGD_RATES, DEMO_START, DEMO_TEXT, demo_setup, demo_text_holds
from playground.lesson_runs import run_setups
from playground.setup import from_query, to_query


def _variants(sgd_lr: float):
    """The demo at this slider value, its start's x and y and the fixed optimizers' α each at ×0.9
    and ×1.1 (one at a time)."""
    yield "as given", demo_setup(sgd_lr)
    x, y = DEMO_START
    for factor in (0.9, 1.1):
        yield f"x0×{factor}", demo_setup(sgd_lr, start=(x * factor, y))
        yield f"y0×{factor}", demo_setup(sgd_lr, start=(x, y * factor))
        fixed = {
            name: {**hp, "learning_rate": hp["learning_rate"] * factor} for name, hp in DEMO_FIXED.items()
        }
        yield f"α×{factor}", demo_setup(sgd_lr, fixed=fixed)


def test_demo_caption_holds_at_every_slider_value_and_nudged() -> None:
    cases = [(lr, name, setup) for lr in DEMO_SGD_RATES for name, setup in _variants(lr)]
    runs = run_setups([setup for _, _, setup in cases])
    failures = [f"α={lr} {name}" for (lr, name, _), run in zip(cases, runs) if not demo_text_holds(run, lr)]
    assert failures == []


def test_demo_check_can_fail() -> None:
    # Momentum slowed to a crawl: it no longer reaches the minimum, so the caption is false.
    slow = {**DEMO_FIXED, "momentum": {"learning_rate": 0.0005, "momentum": 0.5}}
    assert not demo_text_holds(run_setup(demo_setup(0.019, fixed=slow)), 0.019)
    # SGD below the cap does not bounce at 0.005, so the caption's "0.019 bounces" is specific.
    assert not demo_text_holds(run_setup(demo_setup(0.005)), 0.019)


def test_demo_caption_names_the_settings_it_runs() -> None:
    assert "2/100 = 0.02" in DEMO_TEXT and "0.021" in DEMO_TEXT and "0.019" in DEMO_TEXT
    assert "μ = 0.9, α = 0.004" in DEMO_TEXT and "α = 0.05" in DEMO_TEXT
    assert max(DEMO_SGD_RATES) > 0.02 > max(r for r in DEMO_SGD_RATES if r < 0.02)


@pytest.mark.parametrize("sgd_lr", DEMO_SGD_RATES)
def test_demo_link_opens_the_same_setup(sgd_lr: float) -> None:
    setup = demo_setup(sgd_lr)
    again, warnings = from_query(to_query(setup))
    assert warnings == []
    assert run_setup(again).metrics == run_setup(setup).metrics


def test_variants_are_distinct() -> None:
    setups = [s for _, s in _variants(0.019)]
    assert len(setups) == 7
    assert all(a != b for a, b in itertools.combinations(setups, 2))
