"""Live scrub: the values it runs, one batched engine call, and paths equal to separate runs."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from optim_core import OPTIMIZERS
from playground import scrub
from playground.compute import run_setup
from playground.scrub import MIN_SCRUB_VALUES, run_scrub, scrub_values, scrubbable
from playground.setup import OptimizerEntry, Setup, log_stops
from viz.contour import CLICK_LAYER_NAME
from viz.raster import surface_raster
from viz.scrub import SCRUB_SLIDER_NAME, live_scrub_figure

SETUP = Setup(steps=200)  # Rosenbrock, SGD, momentum, RMSprop, Adam


@pytest.mark.parametrize(
    ("name", "hparam"),
    [(n, h) for n in OPTIMIZERS for h in scrubbable(n)],
)
def test_scrub_values_cover_the_slider_with_at_least_41_and_hold_the_value_in_use(
    name: str, hparam: str
) -> None:
    h = OPTIMIZERS[name].hyperparam(hparam)
    current = float(h.default)
    values, index = scrub_values(name, hparam, current)
    assert len(values) >= MIN_SCRUB_VALUES
    assert values[index] == current
    assert list(values) == sorted(set(values))
    assert all(h.low <= v <= h.high for v in values if v != current)
    assert math.isclose(min(values), min(h.low, current), rel_tol=1e-2)
    assert math.isclose(max(values), max(h.high, current), rel_tol=1e-2)
    if h.log:  # the stops of the real log slider, so a release lands on one of its values
        assert set(log_stops(h.low, h.high)) <= set(values)


def test_switches_are_not_scrubbed() -> None:
    assert (
        "nesterov" not in scrubbable("momentum")
        or OPTIMIZERS["momentum"].hyperparam("nesterov").kind != "bool"
    )
    for name in OPTIMIZERS:
        for hp in scrubbable(name):
            assert OPTIMIZERS[name].hyperparam(hp).kind != "bool"


def test_scrub_is_one_engine_call_and_each_path_equals_a_separate_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = scrub.run_configs

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(scrub, "run_configs", counting)
    setup = SETUP.with_changes(steps=150)
    run = run_scrub(setup, 3, "learning_rate")
    assert calls == [len(run.values)], "the scrub must be one batched engine call"
    compared = 0
    for i in range(0, len(run.values), 6):
        entry = setup.optimizers[3]
        hparams = {**dict(entry.hparams), "learning_rate": run.values[i]}
        alone = setup.with_changes(
            optimizers=(*setup.optimizers[:3], OptimizerEntry(entry.name, hparams, entry.preset))
        )
        expected = run_setup(alone).trajectories[3]
        assert (run.trajectories[i].diverged_at is None) == (expected.diverged_at is None)
        if expected.diverged_at is None and run.values[i] <= 0.1:  # not chaotic: float32 agrees
            np.testing.assert_allclose(run.trajectories[i].path, expected.path, rtol=1e-5, atol=1e-5)
            compared += 1
    assert compared >= 5


def test_releasing_on_a_stop_reuses_the_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    first = run_scrub(SETUP, 3, "learning_rate")
    calls = []
    monkeypatch.setattr(scrub, "run_configs", lambda *a, **k: calls.append(1) or [])
    stop = first.values[5]
    entry = SETUP.optimizers[3]
    moved = SETUP.with_changes(
        optimizers=(
            *SETUP.optimizers[:3],
            OptimizerEntry(entry.name, {**dict(entry.hparams), "learning_rate": stop}, entry.preset),
        )
    )
    again = run_scrub(moved, 3, "learning_rate")
    assert not calls and again.current == 5 and again.trajectories is first.trajectories


def test_unknown_or_switch_hyperparameter_is_refused() -> None:
    with pytest.raises(ValueError):
        run_scrub(SETUP, 0, "b1")  # SGD has no β1


def test_live_figure_frames_draw_each_value_and_the_map_carries_no_surface_grid() -> None:
    setup = SETUP
    result = run_setup(setup)
    run = run_scrub(setup, 3, "learning_rate")
    surface = setup.resolved_surface()
    raster = surface_raster(surface, {})
    fig = live_scrub_figure(
        surface,
        list(result.trajectories),
        run.trajectories,
        run.values,
        run.current,
        3,
        "Adam α",
        background=(raster, "media/surface.png"),
        frames_key=("test", run.key),
    )
    spec = fig.to_dict()
    go.Figure(spec)  # plotly's validating constructor accepts every part, frames included
    # No contour: the surface is the picture; the one heatmap is the 30 x 30 click layer.
    heavy = [t.get("name") for t in spec["data"] if t.get("type") in ("contour", "heatmap", "surface")]
    assert heavy == [CLICK_LAYER_NAME]
    assert spec["layout"]["images"][0]["source"] == "media/surface.png"
    slider = spec["layout"]["sliders"][0]
    assert slider["name"] == SCRUB_SLIDER_NAME and slider["active"] == run.current
    assert len(slider["steps"]) == len(spec["frames"]) == len(run.values)
    names = [t.get("name") for t in spec["data"]]
    adam = names.index("Adam")
    for i in (0, run.current, len(run.values) - 1):
        frame = spec["frames"][i]
        assert frame["traces"][0] == adam
        assert slider["steps"][i]["args"][0] == [frame["name"]]
        drawn = _decode(frame["data"][0]["x"])
        path = np.asarray(run.trajectories[i].path)
        finite = np.all(np.isfinite(path), axis=1)
        # The frame's path starts at the start and ends where the run ends (first and last kept).
        assert np.isclose(drawn[0], path[0, 0], atol=1e-5)
        assert np.isclose(
            drawn[-1],
            path[finite][-1, 0] if run.trajectories[i].diverged_at is None else drawn[-1],
            atol=1e-4,
        )
    # The other optimizers are not in any frame: they do not move while Adam's α is scrubbed.
    assert all(set(f["traces"]) <= {adam, names.index("Adam end")} for f in spec["frames"])


def _decode(values):
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values, dtype=float)
