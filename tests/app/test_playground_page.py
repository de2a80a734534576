"""The Playground page under streamlit.testing.v1.AppTest (no browser).

AppTest does not draw charts: a Plotly chart's figure JSON sits in its element's proto, so these
tests decode that JSON and compare paths. Widgets are found by their session-state keys
(`pg.*`, see playground/page_state.py), which survive layout changes better than labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from app_helpers import assert_clean, decode, figures, is_map, open_page, widget
from streamlit.testing.v1 import AppTest

from optim_core import OPTIMIZERS
from optim_core.engine import trace_count
from playground.setup import OptimizerEntry, Setup, from_query, to_json

PAGE = "app_pages/playground.py"
TIMEOUT = 180  # the first run compiles the JAX engine (seconds on this machine, cold)

# Known bugs found by these tests (strict: remove the marker once fixed).

# --- helpers ---------------------------------------------------------------------------------


def new_app(query: dict[str, Any] | None = None) -> AppTest:
    return open_page(PAGE, query, TIMEOUT)


def has_widget(at: AppTest, key: str) -> bool:
    try:
        widget(at, key)
    except KeyError:
        return False
    return True


def optimizer_labels() -> set[str]:
    return {spec.label for spec in OPTIMIZERS.values()}


def paths(fig: dict[str, Any]) -> dict[str, np.ndarray]:
    """The optimizer paths of a contour figure: legend name -> (n, 2) array of points.

    A path is a 2D trace named after an optimizer (numbered when one appears twice)."""
    labels = optimizer_labels()
    out = {}
    for trace in fig["data"]:
        name = str(trace.get("name", ""))
        if (
            trace.get("type", "scatter") == "scatter"
            and name.split(" #")[0] in labels
            and "x" in trace
            and "y" in trace
        ):
            out[name] = np.column_stack([decode(trace["x"]), decode(trace["y"])])
    return out


def contour(at: AppTest) -> dict[str, Any]:
    """The map with the paths (the first figure holding a contour trace)."""
    for fig in figures(at):
        if is_map(fig):
            return fig
    raise AssertionError(f"no contour map among {len(figures(at))} figures")


def effective(setup: Setup) -> Setup:
    """The setup with omitted surface parameters spelled out (both forms run the same)."""
    params = setup.resolved_surface().params
    return setup.with_changes(
        surface_params={p.name: float(setup.surface_params.get(p.name, p.default)) for p in params}
    )


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def flatten(node: Any) -> Iterator[Any]:
    """Leaf elements of a block, in page order."""
    children = getattr(node, "children", None)
    if not children:
        yield node
        return
    for child in children.values():
        yield from flatten(child)


# --- tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_app() -> AppTest:
    return new_app()


def test_renders_default_setup_without_exceptions(default_app: AppTest) -> None:
    at = default_app
    assert_clean(at)
    assert not at.error and not at.warning
    found = paths(contour(at))
    assert set(found) == {"SGD", "Momentum (heavy ball)", "RMSprop", "Adam"}
    for name, path in found.items():
        assert path.shape[0] >= 2, name
        assert np.allclose(path[0], Setup().resolved_start(), atol=1e-4), name
    # The page wrote its state into the URL.
    assert at.query_params["s"] == "rosenbrock"
    assert at.query_params["o"] == ["sgd", "momentum", "rmsprop", "adam"]


def test_moving_a_hyperparameter_slider_changes_only_that_path() -> None:
    at = new_app()
    before = paths(contour(at))
    compiles = trace_count()
    widget(at, "pg.e.3.adam.b1").set_value(0.5).run()
    assert_clean(at)
    after = paths(contour(at))
    assert not np.allclose(before["Adam"], after["Adam"], equal_nan=True)
    for name in ("SGD", "Momentum (heavy ball)", "RMSprop"):
        np.testing.assert_array_equal(before[name], after[name])
    assert "adam(b1=0.5)" in at.query_params["o"]
    assert trace_count() == compiles, "a slider move recompiled the engine"


def test_steps_slider_changes_path_length_without_recompiling() -> None:
    at = new_app()
    compiles = trace_count()
    widget(at, "pg.steps").set_value(250).run()  # same step bucket as 300? no: 300 > 250 > 200
    widget(at, "pg.steps").set_value(260).run()  # now inside the bucket just compiled
    compiles_after_bucket = trace_count()
    widget(at, "pg.steps").set_value(270).run()
    assert_clean(at)
    assert trace_count() == compiles_after_bucket, "moving steps inside a bucket recompiled"
    # A new bucket compiles once per optimizer group (the engine runs each group as its own
    # small program), never again inside the bucket.
    assert compiles_after_bucket - compiles <= len(Setup().optimizers)
    for name, path in paths(contour(at)).items():
        assert len(path) <= 271, name  # at most 270 steps + the start (the plot may subsample)
    assert at.query_params["steps"] == "270"


def test_typed_start_moves_every_path() -> None:
    at = new_app()
    widget(at, "pg.x0").set_value(0.5).run()
    widget(at, "pg.y0").set_value(-0.5).run()
    assert_clean(at)
    for name, path in paths(contour(at)).items():
        assert np.allclose(path[0], (0.5, -0.5), atol=1e-4), name
    assert (at.query_params["x0"], at.query_params["y0"]) == ("0.5", "-0.5")


SHARED = {
    "s": "ravine",
    "sp.condition": "30",
    "steps": "200",
    "x0": "-2",
    "y0": "1.5",
    "noise": "0.1",
    "seed": "7",
    "o": ["sgd(learning_rate=0.01)", "adam(b1=0.5)@keras"],
}


def test_share_link_restores_the_setup() -> None:
    at = new_app(SHARED)
    assert_clean(at)
    assert not at.warning, texts(at.warning)
    assert widget(at, "pg.surface").value == "ravine"
    assert widget(at, "pg.sp.condition").value == 30.0
    assert widget(at, "pg.steps").value == 200
    assert widget(at, "pg.noise").value == pytest.approx(0.1)
    assert widget(at, "pg.seed").value == 7
    assert (widget(at, "pg.x0").value, widget(at, "pg.y0").value) == (-2.0, 1.5)
    assert [widget(at, f"pg.e.{i}.name").value for i in (0, 1)] == ["sgd", "adam"]
    assert widget(at, "pg.e.1.preset").value == "keras"
    assert widget(at, "pg.e.1.adam.b1").value == 0.5
    assert not has_widget(at, "pg.e.2.name")
    found = paths(contour(at))
    assert set(found) == {"SGD", "Adam"}
    for path in found.values():
        assert np.allclose(path[0], (-2.0, 1.5), atol=1e-4)
    # The URL the page writes back is the same setup (no drift, no lost values).
    assert effective(from_query(at.query_params)[0]) == effective(from_query(SHARED)[0])


def test_bad_url_values_give_warnings_not_exceptions() -> None:
    at = new_app(
        {
            "s": "nowhere",
            "steps": "lots",
            "x0": "inf",
            "noise": "-5",
            "o": ["bogus", "adam(learning_rate=nan)", "sgd((("],
        }
    )
    assert_clean(at)
    warning = "\n".join(texts(at.warning)).replace("\\", "")  # messages are escaped Markdown
    for fragment in ("nowhere", "lots", "bogus", "not finite", "sgd((("):
        assert fragment in warning, fragment
    # ... and the page still shows a run on defaults.
    assert widget(at, "pg.surface").value == "rosenbrock"
    assert widget(at, "pg.steps").value == 500
    assert set(paths(contour(at))) == {"Adam"}
    # The warning goes away once the page has rewritten the URL with what it used.
    at.run()
    assert_clean(at)
    assert not at.warning
    assert at.query_params["s"] == "rosenbrock"


def test_bad_custom_formula_shows_an_error_under_the_box_and_keeps_the_rest() -> None:
    at = new_app()
    widget(at, "pg.e.3.adam.b1").set_value(0.5).run()
    widget(at, "pg.surface").set_value("custom").run()
    assert_clean(at)
    box = widget(at, "pg.expression")
    box.set_value("__import__('os').system('echo pwned')").run()
    assert_clean(at)
    errors = texts(at.error)
    assert len(errors) == 1 and "__import__" in errors[0].replace("\\", "")  # escaped Markdown
    # The error sits right under the box, in the same container.
    leaves = [e for e in flatten(at.sidebar) if getattr(e, "type", "") != "empty"]
    index = next(i for i, e in enumerate(leaves) if getattr(e, "key", None) == "pg.expression")
    assert leaves[index + 1].type == "exception" or str(leaves[index + 1].value) == errors[0]
    # The rest of the page is intact: the paths are drawn and the other widgets kept.
    assert widget(at, "pg.e.3.adam.b1").value == 0.5
    assert set(paths(contour(at))) == {"SGD", "Momentum (heavy ball)", "RMSprop", "Adam"}
    # A good formula clears the error and is used.
    widget(at, "pg.expression").set_value("x**2 + 3*y**2").run()
    assert_clean(at)
    assert not at.error
    assert at.query_params["f"] == "x**2 + 3*y**2"


def test_divergence_is_a_message_not_a_traceback() -> None:
    at = new_app({"o": ["sgd(learning_rate=10)", "adam"]})
    assert_clean(at)
    messages = "\n".join(texts(at.warning))
    assert "SGD diverged at step" in messages and "smaller α" in messages
    assert "Adam" in paths(contour(at))


def test_classroom_link_hides_the_chosen_controls() -> None:
    at = new_app({"classroom": "1", "hide": "steps,surface", "steps": "300"})
    assert_clean(at)
    assert not has_widget(at, "pg.steps") and not has_widget(at, "pg.surface")
    assert has_widget(at, "pg.noise")
    assert at.query_params["steps"] == "300"  # the hidden value is still the one used


def open_tab(tab: str, query: dict[str, Any] | None = None) -> AppTest:
    """The page with `tab` open, as a link to it would open it."""
    return new_app({**(query or {}), "pg.tab": tab})


@pytest.mark.parametrize(
    ("tab", "charts"),
    [
        ("Animation", 1),
        ("3D view", 1),
        ("Curves", 3),
        ("Internals", 3),
    ],
)
def test_every_tab_renders_its_charts(tab: str, charts: int) -> None:
    at = open_tab(tab)
    assert_clean(at)
    assert len(figures(at)) >= charts
    widget(at, "pg.noise").set_value(0.2).run()  # a change while the tab is open
    assert_clean(at)


def test_metrics_tab_offers_downloads_and_loads_an_uploaded_setup() -> None:
    at = open_tab("Metrics & export")
    assert_clean(at)
    assert len(at.get("download_button")) >= 10
    (table,) = at.table
    assert {"oscillation", "zig-zag", "steps to tol"} <= set(table.value.columns)
    uploader = next(u for u in at.get("file_uploader") if u.key == "pg.upload")
    uploader.set_value(("setup.json", b"{ this is not json", "application/json")).run()
    assert_clean(at)
    assert "not valid JSON" in "\n".join(texts(at.warning))
    good = Setup(surface="himmelblau", steps=200, optimizers=(OptimizerEntry.default("nadam"),))
    at.get("file_uploader")[0].set_value(("good.json", to_json(good).encode(), "application/json"))
    at.run()
    assert_clean(at)
    assert widget(at, "pg.surface").value == "himmelblau"
    assert widget(at, "pg.steps").value == 200
    assert widget(at, "pg.e.0.name").value == "nadam"


def test_a_quick_second_move_is_not_undone_by_the_lagging_url() -> None:
    at = new_app()
    stale = {k: (list(v) if isinstance(v, list) else v) for k, v in at.query_params.items()}
    widget(at, "pg.noise").set_value(0.01).run()
    assert at.query_params["noise"] == "0.01"
    # The browser sends the next rerun before it has received the URL the last run wrote.
    at.query_params.clear()
    at.query_params.update(stale)
    widget(at, "pg.noise").set_value(0.02).run()
    assert_clean(at)
    assert widget(at, "pg.noise").value == 0.02
    assert at.query_params.get("noise") == "0.02"


def test_preset_picker_says_what_a_framework_lacks_and_divergence_names_its_cause() -> None:
    at = open_page(PAGE, {"s": "rosenbrock", "o": ["radam@keras", "rmsprop(centered=1,bias_correction=1)"]})
    assert_clean(at)
    captions = "\n".join(c.value for c in at.caption)
    assert "Keras 3 has no RAdam" in captions
    warnings = "\n".join(w.value for w in at.warning)
    assert "RMSprop diverged at step" in warnings and "centered and bias correction" in warnings
    assert "try a smaller α" not in warnings


def test_only_the_open_card_draws_its_sliders_and_closed_cards_keep_their_values() -> None:
    at = new_app()
    slider_keys = {s.key for s in at.get("select_slider")} | {s.key for s in at.slider}
    assert any(k and k.startswith("pg.e.0.") for k in slider_keys)  # the first card is open
    assert not any(k and k.startswith(("pg.e.1.", "pg.e.2.", "pg.e.3.")) for k in slider_keys)
    widget(at, "pg.e.3.adam.b1").set_value(0.5).run()  # opens Adam's card, closes SGD's
    widget(at, "pg.e.1.momentum.momentum").set_value(0.5).run()  # opens momentum's
    assert_clean(at)
    assert "adam(b1=0.5)" in at.query_params["o"], "Adam's value was lost when its card closed"
    assert any(o.startswith("momentum(") and "momentum=0.5" in o for o in at.query_params["o"])
    # Reopened, the card shows the value it kept.
    assert widget(at, "pg.e.3.adam.b1").value == 0.5


def test_a_typed_learning_rate_is_the_value_the_slider_shows() -> None:
    at = new_app()
    widget(at, "pg.e.0.sgd.learning_rate.box").set_value(0.035).run()
    assert_clean(at)
    assert widget(at, "pg.e.0.sgd.learning_rate.slider").value == 0.035
    assert "sgd(learning_rate=0.035)" in at.query_params["o"]


def test_log_sliders_have_ten_stops_per_decade() -> None:
    at = new_app()
    options = [float(o) for o in widget(at, "pg.e.0.sgd.learning_rate.slider").options]
    decades = np.log10(max(options) / min(options))
    assert len(options) >= 10 * decades


def test_internals_choices_in_the_link_survive_while_that_tab_is_closed() -> None:
    query = {"s": "rosenbrock", "o": ["sgd", "adam"], "focus": "1", "scrub": "7"}
    at = new_app(query)
    widget(at, "pg.noise").set_value(0.01).run()  # a rerun of the Paths tab
    assert_clean(at)
    assert (at.query_params["focus"], at.query_params["scrub"]) == ("1", "7")
    setup, warnings = from_query(at.query_params)
    assert not warnings and (setup.focus, setup.scrub) == (1, 7)


def test_picking_the_noisy_bowl_starts_with_its_noise() -> None:
    at = new_app()
    assert widget(at, "pg.noise").value == 0.0
    widget(at, "pg.surface").set_value("noisy_bowl").run()
    assert_clean(at)
    from surfaces import SURFACES

    assert widget(at, "pg.noise").value == SURFACES["noisy_bowl"].default_noise > 0
    assert float(at.query_params["noise"]) == SURFACES["noisy_bowl"].default_noise
