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
from playground.setup import OptimizerEntry, Setup, linear_step, log_stops
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
    padded = next(n for n in scrub.BATCH_SIZES if n >= len(run.values))
    assert calls == [padded], "the scrub must be one batched engine call, padded to a compiled size"
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


# --- the open card's sliders: the map follows them from every stop ---------------------------------


@pytest.mark.parametrize(
    ("name", "hparam"),
    [(n, h) for n in ("sgd", "momentum", "adam", "lion") for h in scrubbable(n)],
)
def test_slider_stops_are_the_values_the_cards_slider_can_take(name: str, hparam: str) -> None:
    h = OPTIMIZERS[name].hyperparam(hparam)
    for current in (float(h.default), float(h.low), float(h.high)):
        values, index = scrub.slider_stops(name, hparam, current)
        assert list(values) == sorted(set(values))
        if h.log:  # the select slider's options, in order (the page reports an index into them):
            # its stops, and the value in use when it lies on the slider's range
            assert set(log_stops(h.low, h.high)) <= set(values)
            assert (current in values) == (h.low <= current <= h.high)
            assert len(values) == len(log_stops(h.low, h.high)) + (current not in log_stops(h.low, h.high))
            assert values[index] == pytest.approx(current, rel=0.13)
        else:  # every step of the slider from its low end, its high end, and the value in use
            step = linear_step(h)
            assert values[0] == h.low and values[-1] == h.high and current in values
            gaps = np.diff(
                [
                    v
                    for v in values
                    if v == h.high or abs((v - h.low) / step - round((v - h.low) / step)) < 1e-6
                ]
            )
            assert np.all(gaps <= step * (1 + 1e-9))
            assert len(values) >= round((h.high - h.low) / step)
            assert values[index] == current


def test_the_batch_is_padded_so_a_new_number_of_stops_never_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = []
    real = scrub.run_configs
    monkeypatch.setattr(scrub, "run_configs", lambda s, c, **k: sizes.append(len(c)) or real(s, c, **k))
    for hparam in ("learning_rate", "b1", "eps"):
        run = run_scrub(SETUP.with_changes(steps=60), 3, hparam, every_stop=True)
        assert len(run.trajectories) == len(run.values)
    assert sizes and set(sizes) <= set(scrub.BATCH_SIZES), sizes


def _decode(spec: object) -> np.ndarray:
    import base64

    if isinstance(spec, dict):
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"])
    return np.asarray(spec, dtype=np.float64)


@pytest.mark.parametrize("hparam", ["learning_rate", "b1"])
def test_card_preview_draws_each_stop_as_the_paths_map_draws_that_setup(hparam: str) -> None:
    """The browser shows the preview while the thumb moves; the rerun after the release draws
    the map from run_setup: both must be the same picture (same points, same end marker)."""
    import orjson

    from viz.colors import color_for
    from viz.contour import contour_spec

    setup = SETUP.with_changes(steps=120)
    stops = orjson.loads(scrub.card_preview(setup, 3, hparam, color_for(3)))
    assert stops["group"] == "run3" and len(stops["values"]) == len(stops["updates"])
    surface = setup.resolved_surface()
    # The same picture: every point within a quarter of a pixel of a 640-pixel map (float32 runs
    # batched in groups of different sizes agree to ~1e-5 of the view, not to the last bit).
    tol = max(hi - lo for lo, hi in surface.domain) / 2560
    checked = 0
    for i in range(0, len(stops["values"]), max(1, len(stops["values"]) // 6)):
        entry = setup.optimizers[3]
        moved = setup.with_changes(
            optimizers=(
                *setup.optimizers[:3],
                OptimizerEntry(entry.name, {**dict(entry.hparams), hparam: stops["values"][i]}, entry.preset),
            )
        )
        data, _ = contour_spec(
            surface, run_setup(moved).trajectories, colors=[color_for(k) for k in range(4)]
        )
        drawn = [t for t in data if t.get("legendgroup") == "run3"]
        assert len(drawn) == 2  # the path, then its end marker
        for update, trace in zip(stops["updates"][i], drawn, strict=True):
            if trace["x"].size == 0 or not np.isfinite(trace["x"]).all() or abs(trace["x"]).max() > 1e3:
                continue  # a diverged run: not float-stable between batch sizes
            np.testing.assert_allclose(_decode(update["x"]), trace["x"], atol=tol)
            np.testing.assert_allclose(_decode(update["y"]), trace["y"], atol=tol)
            assert update.get("marker", {}).get("symbol", trace.get("marker", {}).get("symbol")) == trace.get(
                "marker", {}
            ).get("symbol")
            checked += 1
    assert checked >= 6


def test_card_preview_is_cached_with_its_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = SETUP.with_changes(steps=80)
    first = scrub.card_preview(setup, 2, "learning_rate", "#123456")
    monkeypatch.setattr(scrub, "run_configs", lambda *a, **k: pytest.fail("computed again"))
    assert scrub.card_preview(setup, 2, "learning_rate", "#123456") is first
