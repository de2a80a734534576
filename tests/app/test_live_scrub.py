"""The live scrub on the Playground: the map it draws, and what the bridge accepts from the browser."""

from __future__ import annotations

from typing import Any

import pytest
from app_helpers import assert_clean, figures, open_page, widget

from app_pages.map_bridge import clicked_point, preview, released_index, wanted, widget_class
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


DOMAIN = ((-2.0, 2.0), (-1.0, 3.0))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"clicked": {"x": 0.0, "y": 1.0}}, (0.0, 1.0)),  # grid points: -2, -1.6, ..., 2 (11)
        ({"clicked": {"x": 0.15, "y": 0.95}}, (0.0, 1.0)),  # snapped to the nearest
        ({"clicked": {"x": 0.25, "y": 1.0}}, (0.4, 1.0)),
        ({"clicked": {"x": 2.5, "y": 1.0}}, None),  # outside the map
        ({"clicked": {"x": float("inf"), "y": 1.0}}, None),
        ({"clicked": {"x": "0", "y": 1.0}}, None),
        ({"clicked": {"x": True, "y": 1.0}}, None),
        ({"clicked": [0, 1]}, None),
        ({}, None),
        (None, None),
    ],
)
def test_a_click_counts_only_inside_the_map_snapped_to_its_grid(payload: Any, expected: Any) -> None:
    point = clicked_point(payload, DOMAIN, 11)
    assert point == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"want": "learning_rate"}, "learning_rate"),
        ({"want": "b1"}, "b1"),
        ({"want": "nesterov"}, None),  # not one of the open card's numbers
        ({"want": ["learning_rate"]}, None),
        ({"want": None}, None),
        ({}, None),
        (None, None),
        ("learning_rate", None),
    ],
)
def test_only_a_slider_of_the_open_card_can_be_asked_for(payload: Any, expected: Any) -> None:
    assert wanted(payload, ("learning_rate", "b1", "b2", "eps")) == expected


def test_a_card_slider_is_named_by_the_class_streamlit_gives_its_key() -> None:
    # Streamlit 1.67 writes st-key-<key> with every character outside [a-zA-Z0-9_-] as "-" (seen in
    # the browser test of the card preview, which finds the slider by this class).
    assert widget_class("pg.e.3.adam.learning_rate.slider") == "st-key-pg-e-3-adam-learning_rate-slider"
    log = preview("learning_rate", "pg.e.3.adam.learning_rate.slider", True, 0.01, None)
    linear = preview("b1", "pg.e.3.adam.b1", False, 0.005, "media/x.json")
    assert log["kind"] == "index" and log["url"] is None
    assert linear["kind"] == "value" and linear["step"] == 0.005 and linear["cls"] == "st-key-pg-e-3-adam-b1"
