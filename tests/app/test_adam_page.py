"""The Adam explained page under streamlit.testing.v1.AppTest (no browser).

Every widget on the page is bound to the URL under its key (`adam.*`), so setting
`at.query_params` before the run is the same as opening a shared link. Chart contents are read
from each Plotly chart's figure JSON in its proto (`proto.spec`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from app_helpers import assert_clean, decode, open_page, widget
from streamlit.testing.v1 import AppTest

PAGE = "app_pages/adam.py"
TIMEOUT = 180
CHARTS = (
    "adam.gd.chart",
    "adam.mom.chart",
    "adam.rms.chart",
    "adam.adam.chart",
    "adam.bc.chart",
    "adam.eps.chart",
    "adam.eps.plateau",
    "adam.b2.chart",
)


def new_app(query: dict[str, Any] | None = None) -> AppTest:
    return open_page(PAGE, query, TIMEOUT)


def charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Figure JSON by chart key (the element id ends with the user key)."""
    out = {}
    for chart in at.get("plotly_chart"):
        key = next((k for k in CHARTS if chart.proto.id.endswith(k)), None)
        out[key or chart.proto.id] = json.loads(chart.proto.spec)
    return out


def trace(fig: dict[str, Any], name_start: str) -> dict[str, Any]:
    return next(t for t in fig["data"] if (t.get("name") or "").startswith(name_start))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_every_section() -> None:
    at = new_app()
    assert_clean(at)
    figs = charts(at)
    assert set(CHARTS) <= set(figs)
    assert len(at.get("latex")) >= 8  # each section's equations
    shown = metrics(at)
    assert shown["first step, optax / PyTorch"] == "0.99 α"
    assert shown["first step, Keras"] == "0.24 α"
    assert shown["first step, corrected"] == "1.00 α"
    assert shown["first step, uncorrected"] == "3.16 α"
    links = [e for e in at.get("page_link")]
    assert len(links) == 6
    assert not at.warning


def test_beta2_slider_changes_the_step_sizes() -> None:
    at = new_app()
    before = decode(trace(charts(at)["adam.b2.chart"], "β₂ = 0.6")["y"])
    widget(at, "adam.b2.b2").set_value(0.95).run()
    assert_clean(at)
    fig = charts(at)["adam.b2.chart"]
    after = decode(trace(fig, "β₂ = 0.95")["y"])
    assert before.max() > 10 and after.max() < before.max() / 10
    assert metrics(at)["largest step, β₂ = 0.95"].endswith("α")
    # (The browser writes bound widget values into the URL; AppTest has no browser, so the
    # URL side is covered by test_a_link_restores_the_widgets, reading links back.)


def test_bias_correction_toggle_changes_the_moments_figure() -> None:
    at = new_app()
    fig = charts(at)["adam.adam.chart"]
    m_hat = decode(trace(fig, "m̂ₜ")["y"])
    np.testing.assert_allclose(m_hat, 1.0, rtol=1e-5)  # constant g = 1: corrected m̂ = g
    widget(at, "adam.adam.bc").set_value(False).run()
    assert_clean(at)
    fig = charts(at)["adam.adam.chart"]
    np.testing.assert_allclose(decode(trace(fig, "m̂ₜ")["y"]), decode(trace(fig, "mₜ")["y"]))


def test_a_link_restores_the_widgets() -> None:
    at = new_app(
        {
            "adam.eps.g": "1e-05",
            "adam.mom.b1": "0.5",
            "adam.mom.stream": "sign-flipping",
            "adam.adam.bc": "false",
            "adam.gd.batch": "64",
            "adam.seed": "3",
        }
    )
    assert_clean(at)
    assert not at.warning
    assert widget(at, "adam.mom.b1").value == 0.5
    assert widget(at, "adam.mom.stream").value == "sign-flipping"
    assert widget(at, "adam.adam.bc").value is False
    assert widget(at, "adam.gd.batch").value == 64
    shown = metrics(at)
    assert shown["first step, optax / PyTorch"] == "1.00 α"  # |g| = 1e-5 ≫ ε = 1e-8
    assert shown["first step, Keras"] != "0.24 α"
    mom = charts(at)["adam.mom.chart"]
    g = decode(trace(mom, "gradient")["y"])
    assert np.all(g[:-1] * g[1:] < 0)  # the sign-flipping stream


def test_bad_link_values_warn_and_are_read_to_the_widgets_range() -> None:
    at = new_app(
        {
            "adam.b2.b2": "7",
            "adam.mom.stream": "zigzag",
            "adam.eps.g": "3e-5",
            "adam.adam.bc": "maybe",
            "adam.nope": "1",
        }
    )
    assert_clean(at)
    text = " ".join(w.value for w in at.warning)
    for key in ("adam.b2.b2", "adam.mom.stream", "adam.eps.g", "adam.adam.bc", "adam.nope"):
        assert key.replace(".", "\\.") in text  # escaped: the message is no markup
    assert widget(at, "adam.b2.b2").value == 0.999  # clamped to the slider's maximum
    assert widget(at, "adam.mom.stream").value == "noisy"  # unknown: the default
    assert widget(at, "adam.eps.g").value == 1e-5  # the nearest choice
    assert widget(at, "adam.adam.bc").value is True
    assert len(charts(at)) == len(CHARTS)
    # The URL now says what the page shows.
    assert at.query_params["adam.b2.b2"] == "0.999" and at.query_params["adam.eps.g"] == "1e-05"
    assert "adam.nope" not in at.query_params and "adam.mom.stream" not in at.query_params


def test_returning_from_another_page_keeps_the_values() -> None:
    at = new_app({"adam.b2.b2": "0.95", "adam.seed": "7"})
    assert_clean(at)
    widget(at, "adam.mom.b1").set_value(0.5).run()
    at.switch_page("app_pages/lessons.py").run()
    assert_clean(at)
    at.query_params.clear()  # navigating drops the page's query
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert not at.warning
    assert widget(at, "adam.b2.b2").value == 0.95 and widget(at, "adam.seed").value == 7
    assert widget(at, "adam.mom.b1").value == 0.5
    assert at.query_params["adam.mom.b1"] == "0.5"  # and the URL says so again


def test_a_widget_move_is_written_into_the_url() -> None:
    at = new_app()
    assert "adam.b2.b2" not in at.query_params  # defaults stay out of the URL
    widget(at, "adam.b2.b2").set_value(0.95).run()
    widget(at, "adam.eps.g").set_value(1e-5).run()
    assert_clean(at)
    assert at.query_params["adam.b2.b2"] == "0.95" and at.query_params["adam.eps.g"] == "1e-05"
    assert not at.warning
