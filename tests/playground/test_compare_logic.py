"""playground.compare: the Compare page's state, link codec, batched runs and grids.

The grids are checked against independent single runs (optim_core.run), and the "one batched
call" promise by counting calls to the engine.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math

import numpy as np
import pytest

from optim_core import OPTIMIZERS, run
from playground import compare as cmp
from playground import compare_runs
from playground.setup import OptimizerEntry, Setup
from surfaces import SURFACES

STEPS = 100  # one step bucket for every run in this file: few compiles


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    cmp._PANELS.clear()
    cmp._GRIDS.clear()


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Records every run_grid / run_batch call the compare module makes."""
    calls: dict[str, list] = {"run_grid": [], "run_batch": []}
    real_grid, real_batch = compare_runs.run_grid, compare_runs.run_batch

    def grid(*args, **kwargs):
        calls["run_grid"].append((args, kwargs))
        return real_grid(*args, **kwargs)

    def batch(*args, **kwargs):
        calls["run_batch"].append((args, kwargs))
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(compare_runs, "run_grid", grid)
    monkeypatch.setattr(compare_runs, "run_batch", batch)
    return calls


def state_with(**changes) -> cmp.CompareState:
    setup = changes.pop("setup", Setup(surface="rosenbrock", steps=STEPS))
    return cmp.CompareState(setup=setup).with_changes(**changes)


# --- link codec -----------------------------------------------------------------------------


def test_empty_link_gives_the_defaults_and_a_short_link() -> None:
    state, warnings = cmp.from_query({})
    assert warnings == []
    assert state == cmp.CompareState()
    assert state.setup.surface == cmp.DEFAULT_SURFACE
    assert set(cmp.to_query(state)) == {"s", "o"}


def test_a_changed_state_round_trips_through_the_link() -> None:
    state = cmp.CompareState(
        setup=Setup(
            surface="ravine",
            surface_params={"condition": 20.0},
            steps=300,
            noise=0.1,
            seed=4,
            start=(1.0, -2.0),
            optimizers=(OptimizerEntry.default("sgd"), OptimizerEntry.default("lion")),
        ),
        panels="sweep",
        sweep=cmp.SweepSpec(
            OptimizerEntry("momentum", {"learning_rate": 0.01, "momentum": 0.5}), "momentum", (0.0, 0.7)
        ),
        heatmap=cmp.HeatmapSpec(
            OptimizerEntry.default("rmsprop"), "decay", "learning_rate", (0.5, 0.95), (1e-4, 0.1), 7, "steps"
        ),
        basin=cmp.BasinSpec(OptimizerEntry("sgd", {"learning_rate": 0.01}), 32, "loss"),
        tol=1e-4,
    )
    query = cmp.to_query(state)
    back, warnings = cmp.from_query(query)
    assert warnings == []
    assert back == state


def test_defaults_that_depend_on_the_optimizer_are_not_dropped_from_the_link() -> None:
    # Sweeping momentum's μ with the default values: the reader must infer the same hparam
    # and values from the optimizer alone, or the link must carry them.
    state = state_with(
        panels="sweep",
        sweep=cmp.SweepSpec(OptimizerEntry.default("momentum"), "learning_rate", (0.001, 0.002)),
    )
    back, warnings = cmp.from_query(cmp.to_query(state))
    assert warnings == []
    assert back.sweep == state.sweep


@pytest.mark.parametrize(
    "key, value, check",
    [
        ("cmp.hm.n", "999", lambda s: s.heatmap.resolution == cmp.MAX_HEATMAP_RES),
        ("cmp.bm.n", "-3", lambda s: s.basin.resolution == cmp.MIN_BASIN_RES),
        ("cmp.bm.n", "lots", lambda s: s.basin.resolution == cmp.BasinSpec().resolution),
        ("cmp.hm", "sgd", lambda s: s.heatmap.entry.name == "adam"),  # sgd has one axis only
        ("cmp.hm", "adam(b1=7)", lambda s: s.heatmap.entry.hparams["b1"] <= 0.9999),
        ("cmp.hm", "nonsense!!", lambda s: s.heatmap.entry.name == "adam"),
        ("cmp.hm.xr", "1,0.1", lambda s: s.heatmap.x_range == cmp.default_range("adam", "learning_rate")),
        ("cmp.hm.xr", "abc", lambda s: s.heatmap.x_range == cmp.default_range("adam", "learning_rate")),
        ("cmp.hm.y", "learning_rate", lambda s: s.heatmap.y != s.heatmap.x),
        ("cmp.hm.z", "colour", lambda s: s.heatmap.metric == "loss"),
        ("cmp.sw.vals", "a,5", lambda s: s.sweep.values == cmp.SweepSpec().values),
        ("cmp.sw.hp", "zeta", lambda s: s.sweep.hparam == "b1"),
        ("cmp.panels", "grid", lambda s: s.panels == "optimizers"),
        ("cmp.tol", "-1", lambda s: s.tol == cmp.TOL_RANGE[0]),
        ("cmp.zz", "1", lambda s: s == cmp.CompareState()),
        ("cmp.sw", "x" * 3000, lambda s: s.sweep == cmp.SweepSpec()),
        ("steps", "10**9", lambda s: s.setup.steps == 500),
    ],
)
def test_bad_link_values_fall_back_with_a_warning(key: str, value: str, check) -> None:
    state, warnings = cmp.from_query({key: value})
    assert warnings, f"{key}={value!r} gave no warning"
    assert check(state)


def test_duplicate_panel_optimizers_are_dropped_with_a_warning() -> None:
    state, warnings = cmp.from_query({"o": ["sgd(learning_rate=0.3)", "sgd", "adam"]})
    assert [e.name for e in state.setup.optimizers] == ["sgd", "adam"]
    assert state.setup.optimizers[0].hparams["learning_rate"] == pytest.approx(0.3)
    assert any("twice" in w for w in warnings)


def test_parse_values() -> None:
    assert cmp.parse_values("0, 0.5;0.9 ,0.5", "adam", "b1") == ((0.0, 0.5, 0.9), [])
    values, errors = cmp.parse_values("0.1, x, 2, -1", "adam", "b1")
    assert values == (0.1,) and len(errors) == 3
    values, errors = cmp.parse_values(",".join(str(i / 20) for i in range(12)), "adam", "b1")
    assert len(values) == cmp.MAX_SWEEP_VALUES and errors
    assert cmp.parse_values("0,1,0.5", "adam", "bias_correction")[0] == (0.0, 1.0)


def test_check_range() -> None:
    assert cmp.check_range("adam", "learning_rate", 1e-3, 1.0) is None
    assert cmp.check_range("adam", "learning_rate", 1.0, 1e-3)
    assert cmp.check_range("adam", "b1", 0.0, 2.0)
    assert cmp.check_range("adam", "eps", 0.0, 1e-3)  # log axis needs a positive start


# --- small multiples ------------------------------------------------------------------------


def test_panels_are_one_batched_run(engine_calls) -> None:
    state = state_with()
    result = cmp.run_panels(state)
    assert len(engine_calls["run_batch"]) == 1
    assert [t.optimizer for t in result.trajectories] == ["sgd", "momentum", "rmsprop", "adam"]
    assert all(len(t.path) == STEPS + 1 for t in result.trajectories)
    cmp.run_panels(state)  # the same state again comes from the cache
    assert len(engine_calls["run_batch"]) == 1


def test_sweep_panels_vary_only_the_swept_value() -> None:
    entry = OptimizerEntry("adam", {**OPTIMIZERS["adam"].defaults, "learning_rate": 0.05})
    state = state_with(panels="sweep", sweep=cmp.SweepSpec(entry, "b1", (0.0, 0.5, 0.99)))
    result = cmp.run_panels(state)
    assert [t.hparams["b1"] for t in result.trajectories] == pytest.approx([0.0, 0.5, 0.99])
    assert all(t.hparams["learning_rate"] == pytest.approx(0.05) for t in result.trajectories)
    assert result.titles[1] == "Adam, β₁ = 0.5"
    # Different β1, same start and noise: the paths must differ.
    assert not np.allclose(result.trajectories[0].path, result.trajectories[2].path)
    fig = cmp.panels_figure(result)
    titles = [a.text.replace("<br>", ", ") for a in fig.layout.annotations]  # drawn on two lines
    assert titles[:3] == list(result.titles)


# --- sensitivity heatmap --------------------------------------------------------------------


def momentum_heatmap_state(metric: str = "loss") -> cmp.CompareState:
    spec = cmp.HeatmapSpec(
        OptimizerEntry.default("momentum"), "learning_rate", "momentum", (1e-4, 0.05), (0.0, 0.9), 5, metric
    )
    return state_with(heatmap=spec)


def test_heatmap_is_one_batched_call_with_the_right_cells(engine_calls) -> None:
    state = momentum_heatmap_state()
    result = cmp.run_heatmap(state)
    assert len(engine_calls["run_grid"]) == 1
    args, kwargs = engine_calls["run_grid"][0]
    hparams = args[2]
    assert len(hparams) == cmp._bucket(25) == result.runs  # padded to a compile bucket
    assert result.final_loss.shape == (5, 5)
    np.testing.assert_allclose(result.x_values, np.geomspace(1e-4, 0.05, 5))  # α: log axis
    np.testing.assert_allclose(result.y_values, np.linspace(0.0, 0.9, 5))
    # Cell (i, j) ran with y_values[i], x_values[j].
    assert hparams[2 * 5 + 3]["learning_rate"] == pytest.approx(result.x_values[3])
    assert hparams[2 * 5 + 3]["momentum"] == pytest.approx(result.y_values[2])


def test_heatmap_cells_match_single_runs_and_mark_divergence() -> None:
    state = momentum_heatmap_state()
    result = cmp.run_heatmap(state)
    # Rosenbrock's walls are steep: α = 0.05 with μ = 0.9 blows up, α = 1e-4 does not.
    assert result.diverged[-1, -1]
    assert not result.diverged[:, 0].any()
    for i, j in ((0, 0), (2, 3), (4, 1)):
        single = run(
            "rosenbrock",
            "momentum",
            {"learning_rate": result.x_values[j], "momentum": result.y_values[i]},
            steps=STEPS,
        )
        assert (single.diverged_at is not None) == bool(result.diverged[i, j])
        if single.diverged_at is None:
            assert result.final_loss[i, j] == pytest.approx(float(single.loss[-1]), rel=1e-4)
    z, label, log_z, nan_label = cmp.heatmap_values(result, "loss")
    assert np.isnan(z[result.diverged]).all() and np.isfinite(z[~result.diverged]).all()
    assert nan_label == "diverged" and log_z
    fig = cmp.heatmap_fig(result, "loss")
    assert any(t.name == "diverged" for t in fig.data)


def test_steps_heatmap_marks_diverged_cells_apart_from_never_arrived() -> None:
    state = momentum_heatmap_state("steps")
    result = cmp.run_heatmap(state)
    fig = cmp.heatmap_fig(result, "steps")
    marks = [
        t
        for t in fig.data
        if t.name == "diverged" and t.mode == "markers" and t.x is not None and t.x[0] is not None
    ]
    assert len(marks) == 1
    assert len(marks[0].x) == int(result.diverged.sum())


def test_default_star_only_inside_the_grid() -> None:
    result = cmp.run_heatmap(momentum_heatmap_state())
    assert result.default_point() == (OPTIMIZERS["momentum"].defaults["learning_rate"], 0.9)
    narrow = momentum_heatmap_state().heatmap
    outside = state_with(
        heatmap=cmp.HeatmapSpec(narrow.entry, narrow.x, narrow.y, (0.01, 0.05), (0.0, 0.5), 3, "loss")
    )
    assert cmp.run_heatmap(outside).default_point() is None
    star = [t for t in cmp.heatmap_fig(cmp.run_heatmap(outside), "loss").data if t.name == "default setting"]
    assert star == []


def test_best_cell_is_the_fastest() -> None:
    result = cmp.run_heatmap(momentum_heatmap_state())
    settled = (result.steps_to_tol >= 0) & (result.final_loss - result.f_star <= result.tol)
    steps = np.where(settled, result.steps_to_tol, np.iinfo(np.int32).max)
    best = cmp.best_cell(result)
    if settled.any():
        i, j = np.unravel_index(np.argmin(steps), steps.shape)
    else:
        z = cmp.heatmap_values(result, "loss")[0]
        i, j = np.unravel_index(np.nanargmin(z), z.shape)
    assert best == (pytest.approx(result.x_values[j]), pytest.approx(result.y_values[i]))


def test_the_fastest_cell_ends_within_the_tolerance_a_bounce_does_not_count() -> None:
    result = cmp.run_heatmap(momentum_heatmap_state())
    steps = result.steps_to_tol.copy()
    final = result.final_loss.copy()
    # A cell that reached the tolerance at step 1 but ended far away (it bounced out).
    steps[0, 0], final[0, 0] = 1, result.f_star + 0.5
    bounced = dataclasses.replace(
        result, steps_to_tol=steps, final_loss=final, diverged_at=result.diverged_at * 0 - 1
    )
    best = cmp.best_cell(bounced)
    assert best != (pytest.approx(result.x_values[0]), pytest.approx(result.y_values[0]))
    i = list(result.y_values).index(best[1])
    j = list(result.x_values).index(best[0])
    gap = bounced.final_loss - result.f_star
    if (gap <= result.tol).any():  # the fastest of the cells that end within the tolerance
        assert gap[i, j] <= result.tol
    else:  # none ends there (some only passed through): the lowest final loss
        assert gap[i, j] == np.nanmin(gap)


def test_heatmap_downloads_parse() -> None:
    state = momentum_heatmap_state()
    result = cmp.run_heatmap(state)
    rows = list(csv.DictReader(io.StringIO(cmp.rows_csv(cmp.heatmap_rows(result)))))
    assert len(rows) == 25 and set(rows[0]) == {
        "learning_rate",
        "momentum",
        "final_loss",
        "steps_to_tol",
        "diverged_at",
    }
    diverged_rows = [r for r in rows if r["diverged_at"]]
    assert len(diverged_rows) == int(result.diverged.sum())
    data = json.loads(cmp.heatmap_json(result, state))  # strict JSON: NaN became null
    assert data["x"]["name"] == "learning_rate" and len(data["cells"]) == 25


# --- basin map ------------------------------------------------------------------------------


def basin_state(surface: str = "himmelblau") -> cmp.CompareState:
    return state_with(
        setup=Setup(surface=surface, steps=STEPS),
        basin=cmp.BasinSpec(
            OptimizerEntry("adam", {**OPTIMIZERS["adam"].defaults, "learning_rate": 0.1}), 9, "minimum"
        ),
    )


def test_basin_labels_match_single_runs(engine_calls) -> None:
    state = basin_state()
    result = cmp.run_basin(state)
    assert len(engine_calls["run_grid"]) == 1
    assert len(engine_calls["run_grid"][0][0][3]) == cmp._bucket(81)
    surface = SURFACES["himmelblau"]
    minima = np.asarray(surface.minima)
    radius = cmp.reach_radius(surface)
    assert set(np.unique(result.labels)) >= {0, 1, 2, 3}  # all four basins show up
    for i, j in ((0, 0), (0, 8), (8, 0), (8, 8), (4, 4), (2, 6)):
        start = (result.xs[j], result.ys[i])
        single = run(surface, "adam", {"learning_rate": 0.1}, start=start, steps=STEPS)
        end = single.path[-1]
        dists = np.linalg.norm(minima - end, axis=1)
        expected = int(np.argmin(dists)) if dists.min() <= radius else -1
        assert result.labels[i, j] == expected, (start, end)
        np.testing.assert_allclose(result.final_position[i, j], end, atol=1e-4)


def test_basin_figures_and_fallbacks() -> None:
    state = basin_state()
    result = cmp.run_basin(state)
    surface = SURFACES["himmelblau"]
    fig = cmp.basin_fig(result, "minimum", surface, start=(0.0, 0.0))
    assert sum(1 for t in fig.data if (t.name or "").startswith("reaches minimum")) == 4
    steps_fig = cmp.basin_fig(result, "steps", surface)
    assert "steps" in steps_fig.data[0].colorbar.title.text
    loss_fig = cmp.basin_fig(result, "loss", surface)
    assert "final loss" in loss_fig.data[0].colorbar.title.text
    assert cmp.basin_metric_note(result, "steps") is None
    rows = list(csv.DictReader(io.StringIO(cmp.rows_csv(cmp.basin_rows(result)))))
    assert len(rows) == 81
    assert json.loads(cmp.basin_json(result, state))["targets_are_known_minima"] is True


def test_basin_without_known_minima_clusters_end_points() -> None:
    result = cmp.run_basin(basin_state("saddle"))
    assert not result.known_minima
    assert cmp.basin_metric_note(result, "steps")  # steps to tolerance needs a known f*
    fig = cmp.basin_fig(result, "steps", SURFACES["saddle"])  # falls back to final loss
    assert "final loss" in fig.data[0].colorbar.title.text
    fig = cmp.basin_fig(result, "minimum", SURFACES["saddle"])
    assert not any((t.name or "").startswith("reaches minimum") for t in fig.data)


def test_cluster_end_points() -> None:
    final = np.array([[0, 0], [0.01, 0], [5, 5], [5, 5.02], [5.01, 5], [9, 9], [1e9, 0]], float)
    ok = np.array([True] * 6 + [False])
    labels, centers = cmp.cluster_end_points(final, ok, radius=0.1, max_clusters=2)
    assert labels.tolist() == [1, 1, 0, 0, 0, -1, -1]  # largest group first; the rest unnamed
    np.testing.assert_allclose(centers[0], [5.0033, 5.0067], atol=1e-3)


def test_label_by_minima_needs_to_arrive() -> None:
    minima = np.array([[0.0, 0.0], [3.0, 0.0]])
    final = np.array([[0.05, 0.0], [2.9, 0.1], [1.5, 0.0], [0.0, 0.0]])
    ok = np.array([True, True, True, False])
    assert cmp.label_by_minima(final, ok, minima, 0.2).tolist() == [0, 1, -1, -1]


def test_playground_query_reads_back_on_the_playground() -> None:
    from playground.setup import from_query

    setup = Setup(surface="beale", steps=321, noise=0.2)
    query = cmp.playground_query(setup, [OptimizerEntry("adam", {"learning_rate": 0.3})])
    back, warnings = from_query(query)
    assert warnings == [] and back.steps == 321 and back.noise == pytest.approx(0.2)
    assert back.optimizers[0].hparams["learning_rate"] == pytest.approx(0.3)
    assert math.isclose(back.optimizers[0].hparams["b1"], 0.9)
