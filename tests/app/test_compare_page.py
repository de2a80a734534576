"""The Compare page under streamlit.testing.v1.AppTest (no browser).

AppTest does not draw charts: each Plotly chart's figure JSON sits in its element's proto
(`proto.spec`); these tests decode it. Widgets are found by their session-state keys
(`cmp.w.*`), which survive layout changes better than labels. Tabs open through the URL
(`cmp.tab`, bound to the tabs widget), as a shared link opens them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from app_helpers import assert_clean, decode, figures, open_page, widget
from streamlit.testing.v1 import AppTest

PAGE = "app_pages/compare.py"
TIMEOUT = 180  # the first run compiles the JAX engine (seconds on this machine, cold)
FAST = {"steps": "100"}  # one small step bucket keeps every run here quick


def new_app(query: dict[str, Any] | None = None) -> AppTest:
    return open_page(PAGE, query, TIMEOUT)


def panel_titles(fig: dict[str, Any]) -> list[str]:
    return [a["text"].replace("<br>", ", ") for a in fig["layout"].get("annotations", [])]


def path_arrays(fig: dict[str, Any]) -> list[np.ndarray]:
    return [
        decode(t["x"])
        for t in fig["data"]
        if t.get("type") == "scatter" and str(t.get("mode", "")).startswith("lines")
    ]


def heatmap_z(fig: dict[str, Any]) -> np.ndarray:
    return decode(next(t for t in fig["data"] if t["type"] == "heatmap")["z"])


def names(fig: dict[str, Any]) -> list[str]:
    return [t.get("name") or "" for t in fig["data"]]


def query(at: AppTest) -> dict[str, list[str]]:
    """The page's URL query, every value as a list (repeated keys such as `o` have several)."""
    out = {}
    for key in at.query_params:
        value = at.query_params[key]
        out[key] = list(value) if isinstance(value, (list, tuple)) else [value]
    return out


# --- tests ----------------------------------------------------------------------------------


def test_default_page_renders_one_panel_per_optimizer() -> None:
    at = new_app()
    assert_clean(at)
    (fig,) = figures(at)
    titles = panel_titles(fig)
    assert [t.split(",")[0] for t in titles[:4]] == ["SGD", "Momentum (heavy ball)", "RMSprop", "Adam"]
    assert query(at)["s"] == ["himmelblau"]
    assert not at.warning


def test_moving_widgets_changes_the_figure_and_the_link() -> None:
    at = new_app(FAST)
    before = path_arrays(figures(at)[0])
    widget(at, "cmp.w.noise").set_value(0.5).run()
    assert_clean(at)
    after = path_arrays(figures(at)[0])
    assert len(before) == len(after) > 0
    assert not all(np.allclose(a, b, equal_nan=True) for a, b in zip(before, after))
    assert query(at)["noise"] == ["0.5"]

    widget(at, "cmp.w.panels").set_value("sweep").run()
    assert_clean(at)
    titles = panel_titles(figures(at)[0])
    assert titles[:4] == ["Adam, β₁ = 0", "Adam, β₁ = 0.5", "Adam, β₁ = 0.9", "Adam, β₁ = 0.99"]
    assert query(at)["cmp.panels"] == ["sweep"]

    widget(at, "cmp.w.sw.vals.adam.b1").set_value("0.3, 0.6").run()
    assert panel_titles(figures(at)[0])[:2] == ["Adam, β₁ = 0.3", "Adam, β₁ = 0.6"]
    assert query(at)["cmp.sw.vals"] == ["0.3,0.6"]


def test_a_link_restores_the_sweep() -> None:
    at = new_app(
        {
            **FAST,
            "s": "rosenbrock",
            "cmp.panels": "sweep",
            "cmp.sw": "adam(learning_rate=0.05)",
            "cmp.sw.hp": "b2",
            "cmp.sw.vals": "0.5,0.999",
            "noise": "0.1",
            "seed": "7",
        }
    )
    assert_clean(at)
    assert not at.warning
    assert widget(at, "cmp.w.surface").value == "rosenbrock"
    assert widget(at, "cmp.w.sw.hp.adam").value == "b2"
    assert widget(at, "cmp.w.noise").value == 0.1
    assert widget(at, "cmp.w.seed").value == 7
    assert panel_titles(figures(at)[0])[:2] == ["Adam, β₂ = 0.5", "Adam, β₂ = 0.999"]


def test_heatmap_tab_from_a_link_and_its_widgets() -> None:
    at = new_app({**FAST, "cmp.tab": "Sensitivity heatmap", "cmp.hm.n": "4"})
    assert_clean(at)
    (fig,) = figures(at)
    assert heatmap_z(fig).shape == (4, 4)
    assert "default setting" in names(fig)  # the star: Adam's defaults lie inside the grid
    assert "final loss" in fig["layout"]["title"]["text"]

    widget(at, "cmp.w.hm.n").set_value(6).run()
    assert_clean(at)
    assert heatmap_z(figures(at)[0]).shape == (6, 6)
    assert query(at)["cmp.hm.n"] == ["6"]

    widget(at, "cmp.w.hm.z").set_value("steps").run()
    fig = figures(at)[0]
    assert "steps" in fig["layout"]["title"]["text"]
    assert query(at)["cmp.hm.z"] == ["steps"]


def test_heatmap_marks_divergence() -> None:
    at = new_app(
        {
            **FAST,
            "s": "rosenbrock",
            "cmp.tab": "Sensitivity heatmap",
            "cmp.hm": "momentum",
            "cmp.hm.y": "momentum",
            "cmp.hm.xr": "0.0001,0.05",
            "cmp.hm.n": "4",
        }
    )
    assert_clean(at)
    fig = figures(at)[0]
    z = heatmap_z(fig)
    assert np.isnan(z).any() and np.isfinite(z).any()
    assert "diverged" in names(fig)


def test_bad_range_gives_an_inline_error() -> None:
    at = new_app({**FAST, "cmp.tab": "Sensitivity heatmap", "cmp.hm.n": "3"})
    widget(at, "cmp.w.hm.xlo.adam.learning_rate").set_value(5.0).run()
    assert_clean(at)
    assert any("low end must be below" in e.value for e in at.error)
    assert heatmap_z(figures(at)[0]).shape == (3, 3)  # the default range is used instead


def test_basin_tab_from_a_link_and_its_metric() -> None:
    at = new_app({**FAST, "cmp.tab": "Basin map", "cmp.bm.n": "10"})
    assert_clean(at)
    fig = figures(at)[0]
    assert heatmap_z(fig).shape == (10, 10)
    assert sum(n.startswith("reaches minimum") for n in names(fig)) == 4
    widget(at, "cmp.w.bm.z").set_value("steps").run()
    assert_clean(at)
    fig = figures(at)[0]
    heat = next(t for t in fig["data"] if t["type"] == "heatmap")
    assert "steps" in heat["colorbar"]["title"]["text"]
    assert query(at)["cmp.bm.z"] == ["steps"]


def test_bad_link_values_warn_instead_of_failing() -> None:
    at = new_app(
        {
            **FAST,
            "s": "nowhere",
            "cmp.hm.n": "999",
            "cmp.sw.vals": "abc",
            "cmp.panels": "sweep",
            "cmp.zz": "1",
            "o": ["adam(b1=banana)", "nope"],
        }
    )
    assert_clean(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")  # escaped Markdown
    for fragment in ("surface", "heatmap resolution", "sweep values", "cmp.zz", "nope"):
        assert fragment in text
    assert len(figures(at)) == 1
    assert widget(at, "cmp.w.surface").value == "rosenbrock"  # the fallback surface


def test_bad_formula_and_bad_sweep_values_show_errors() -> None:
    at = new_app({**FAST, "cmp.panels": "sweep"})
    widget(at, "cmp.w.surface").set_value("custom").run()
    assert_clean(at)
    widget(at, "cmp.w.expression").set_value("x**").run()
    assert_clean(at)
    assert any("formula" in e.value for e in at.error)
    assert len(figures(at)) == 1  # the example formula is drawn instead
    widget(at, "cmp.w.sw.vals.adam.b1").set_value("0.5, 7, x").run()
    assert_clean(at)
    assert sum("Sweep value ignored" in e.value for e in at.error) == 2
    assert panel_titles(figures(at)[0])[0] == "Adam, β₁ = 0.5"
