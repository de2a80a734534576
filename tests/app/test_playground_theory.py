"""The Playground's theory beside the paths (quadratic surfaces) and its export as code,
under AppTest: eigenvector traces on the map, predicted loss lines, the optimal-settings button
(its measured rate matches the prediction) and the three script downloads."""

from __future__ import annotations

from typing import Any

import numpy as np
from app_helpers import assert_clean, decode, figures, is_map, open_page, widget
from streamlit.testing.v1 import AppTest

from optim_core import theory as th
from playground import code_export as ce
from playground.compute import run_setup
from playground.setup import from_query
from viz.theory_overlay import EIGEN_NAME_PREFIX, PREDICTED_NAME

PAGE = "app_pages/playground.py"
TIMEOUT = 180
RAVINE = {"s": "ravine", "sp.condition": "10", "o": ["sgd", "momentum"]}


def contour(at: AppTest) -> dict[str, Any]:
    return next(f for f in figures(at) if is_map(f))


def loss_fig(at: AppTest) -> dict[str, Any]:
    return next(f for f in figures(at) if "Loss" in str(f["layout"].get("title", {}).get("text", "")))


def named(fig: dict[str, Any], part: str) -> list[dict[str, Any]]:
    return [t for t in fig["data"] if part in str(t.get("name", ""))]


def entry_value(at: AppTest, n: int, name: str, hp: str) -> float:
    """The value the entry's widgets hold (a log slider's exact box, else the slider)."""
    key = f"pg.e.{n}.{name}.{hp}"
    try:
        return float(widget(at, key + ".box").value)
    except KeyError:
        return float(widget(at, key).value)


def test_ravine_shows_eigenvectors_and_the_optimal_button_matches_the_prediction() -> None:
    at = open_page(PAGE, RAVINE, TIMEOUT)
    assert_clean(at)
    q = th.surface_quadratic("ravine", {"condition": 10.0})
    assert q is not None
    eig = named(contour(at), EIGEN_NAME_PREFIX)
    assert len(eig) == 2
    for trace in eig:  # each segment passes through the minimum along an eigenvector
        x, y = decode(trace["x"]), decode(trace["y"])
        d = np.array([x[1] - x[0], y[1] - y[0]])
        mid = np.array([x.mean(), y.mean()])
        assert np.allclose(q.hessian @ d, (d @ q.hessian @ d) / (d @ d) * d)
        assert (
            abs(d[0] * (mid - q.minimum)[1] - d[1] * (mid - q.minimum)[0]) < 1e-6 * np.linalg.norm(d) + 1e-9
        )
    captions = "\n".join(c.value for c in at.caption)
    assert "κ = λ₂/λ₁ = **10**" in captions

    (button,) = [b for b in at.button if b.key == "pg.use_optimal"]
    button.click().run()
    assert_clean(at)
    best_gd = th.optimal_hparams(q, "sgd")
    best_hb = th.optimal_hparams(q, "momentum")
    assert best_gd is not None and best_hb is not None
    assert np.isclose(entry_value(at, 0, "sgd", "learning_rate"), best_gd["learning_rate"], rtol=1e-6)
    assert np.isclose(entry_value(at, 1, "momentum", "learning_rate"), best_hb["learning_rate"], rtol=1e-6)
    assert np.isclose(entry_value(at, 1, "momentum", "momentum"), best_hb["momentum"], rtol=1e-6)

    # The run at the optimum: measured rate within 5 % of the predicted one.
    setup = from_query(dict(at.query_params))[0]
    assert [e.name for e in setup.optimizers] == ["sgd", "momentum"]
    assert np.isclose(setup.optimizers[0].hparams["learning_rate"], best_gd["learning_rate"], rtol=1e-3)
    assert np.isclose(setup.optimizers[1].hparams["momentum"], best_hb["momentum"], rtol=1e-3)
    result = run_setup(setup)
    for traj in result.trajectories:
        rate = th.predicted_rate(q, traj.optimizer, traj.hparams)
        assert rate is not None
        gaps = np.asarray(traj.loss, np.float64) - q.f_min
        # The rate is asymptotic: skip the first 20 steps (the transient; heavy ball at its optimum
        # has a double eigenvalue, so its gap goes as k²·rate^2k) and stop before float underflow.
        usable = np.flatnonzero(gaps > 1e-30)
        last = min(int(usable[-1]), 60)
        assert last >= 40
        measured = th.measured_rate(gaps, 20, last, squared=True)
        assert abs(measured - rate) <= 0.05 * rate, (traj.optimizer, measured, rate)


def test_ravine_loss_figure_has_predicted_lines_following_the_rate() -> None:
    at = open_page(PAGE, {**RAVINE, "pg.tab": "Curves"}, TIMEOUT)
    assert_clean(at)
    q = th.surface_quadratic("ravine", {"condition": 10.0})
    assert q is not None
    setup = from_query(dict(at.query_params))[0]
    predicted = named(loss_fig(at), PREDICTED_NAME)
    assert len(predicted) == 2
    for trace, entry in zip(predicted, setup.optimizers, strict=True):
        rate = th.predicted_rate(q, entry.name, entry.hparams)
        assert rate is not None and f"rate {rate:.4g}" in trace["name"]
        x, y = decode(trace["x"]), decode(trace["y"])
        assert x.size > 10
        # a straight line on the log axis: y_k = y_0 · rate^(2k)
        assert np.allclose(np.log(y[1:] / y[0]), 2 * x[1:] * np.log(rate), rtol=1e-6, atol=1e-9)


def test_no_theory_traces_on_rosenbrock() -> None:
    at = open_page(PAGE, {"s": "rosenbrock", "o": ["sgd", "momentum"], "pg.tab": "Curves"}, TIMEOUT)
    assert_clean(at)
    assert not any(w.key == "pg.theory" for w in at.checkbox)
    assert not any(named(f, EIGEN_NAME_PREFIX) or named(f, PREDICTED_NAME) for f in figures(at))
    assert not any(b.key == "pg.use_optimal" for b in at.button)


def test_theory_checkbox_turns_the_overlay_off() -> None:
    at = open_page(PAGE, RAVINE, TIMEOUT)
    assert named(contour(at), EIGEN_NAME_PREFIX)
    widget(at, "pg.theory").uncheck().run()
    assert_clean(at)
    assert not named(contour(at), EIGEN_NAME_PREFIX)


def test_metrics_tab_offers_the_three_scripts_and_the_optax_one_compiles() -> None:
    at = open_page(PAGE, {**RAVINE, "pg.tab": "Metrics & export"}, TIMEOUT)
    assert_clean(at)
    buttons = {b.key: b for b in at.get("download_button")}
    for framework in ce.FRAMEWORKS:
        assert f"dl.script.{framework}" in buttons
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"optax script", "PyTorch script", "Keras 3 script"} <= labels
    setup = from_query(dict(at.query_params))[0]
    text = ce.export_script(setup, "optax")
    compile(text, "optax_script.py", "exec")
    (entry,) = [s for s in ce.script_downloads(setup) if s.framework == "optax"]
    assert entry.text == text
