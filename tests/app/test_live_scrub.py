"""The live scrub on the Playground: the map it draws, and what the bridge accepts from the browser."""

from __future__ import annotations

from typing import Any

import pytest
from app_helpers import assert_clean, figures, open_page, widget

from app_pages.live_scrub import released_index
from optim_core import OPTIMIZERS


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"released": {"index": 3, "token": "t"}}, 3),
        ({"released": {"index": 3.0, "token": "t"}}, 3),
        ({"released": {"index": 3, "token": "old"}}, None),  # a scrub that is no longer shown
        ({"released": {"index": 10, "token": "t"}}, None),  # past the last step
        ({"released": {"index": -1, "token": "t"}}, None),
        ({"released": {"index": 2.5, "token": "t"}}, None),
        ({"released": {"index": True, "token": "t"}}, None),
        ({"released": {"index": "3", "token": "t"}}, None),
        ({"released": {"index": float("nan"), "token": "t"}}, None),
        ({"released": "3"}, None),
        ({}, None),
        (None, None),
        ("<img src=x>", None),
    ],
)
def test_only_a_release_of_the_shown_scrub_within_its_steps_counts(
    payload: Any, expected: int | None
) -> None:
    assert released_index(payload, "t", 10) == expected


def test_turning_on_the_live_scrub_draws_one_frame_per_value_over_the_picture() -> None:
    at = open_page("app_pages/playground.py", {"s": "rosenbrock", "o": ["sgd", "adam"], "steps": "200"})
    widget(at, "pg.live").set_value(True).run()
    assert_clean(at)
    fig = next(f for f in figures(at) if f["layout"].get("sliders"))
    assert fig["layout"]["images"], "the surface is a picture under the paths"
    assert not any(t.get("type") == "contour" for t in fig["data"])
    steps = fig["layout"]["sliders"][0]["steps"]
    assert len(steps) == len(fig["frames"]) >= 41
    active = steps[fig["layout"]["sliders"][0]["active"]]["label"]
    assert float(active) == OPTIMIZERS["adam"].hyperparam("learning_rate").default
    # Scrub β1 instead: the slider now runs over β1's range.
    widget(at, "pg.live.hp").set_value("b1").run()
    assert_clean(at)
    fig = next(f for f in figures(at) if f["layout"].get("sliders"))
    labels = [s["label"] for s in fig["layout"]["sliders"][0]["steps"]]
    assert "0.9" in labels and float(labels[0]) == 0.0
