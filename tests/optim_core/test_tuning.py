"""Fair comparison: each optimizer tuned over a log-spaced α grid (and β₁ / μ), in one engine call."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_core import OPTIMIZERS, OptimizerSettings, engine, run
from optim_core import tuning as tuning_mod
from optim_core.trajectory import Trajectory
from optim_core.tuning import CRITERION, MIN_ALPHAS, Score, alpha_grid, second_axis, tune

FOUR = ["sgd", "momentum", "adam", "rmsprop"]


@pytest.fixture(scope="module")
def rosenbrock_tuning():
    return tune("rosenbrock", FOUR, steps=300)


def test_grid_is_log_spaced_with_at_least_32_points(rosenbrock_tuning):
    for t in rosenbrock_tuning:
        spec = OPTIMIZERS[t.name].hyperparam("learning_rate")
        assert len(t.alphas) >= MIN_ALPHAS
        assert t.alphas[0] == pytest.approx(spec.low) and t.alphas[-1] == pytest.approx(spec.high)
        ratios = t.alphas[1:] / t.alphas[:-1]
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
        assert ratios[0] > 1
        assert t.final_loss.shape == t.steps_to_tol.shape == t.diverged_at.shape == (1, len(t.alphas))
    g = alpha_grid(1e-3, 1.0, 40)
    assert len(g) == 40 and np.allclose(np.diff(np.log(g)), np.log(1e3) / 39)
    with pytest.raises(ValueError, match="at least 32"):
        alpha_grid(1e-3, 1.0, 31)
    with pytest.raises(ValueError):
        alpha_grid(1.0, 1e-3)
    with pytest.raises(ValueError):
        alpha_grid(1e-3, 1e3)  # beyond the valid learning-rate range


def test_tuned_is_never_worse_than_the_untuned_settings(rosenbrock_tuning):
    improved = 0
    for t in rosenbrock_tuning:
        alpha_default = t.default.resolved()["learning_rate"]
        alpha_tuned = t.tuned.resolved()["learning_rate"]
        assert t.tuned_score.key(alpha_tuned) <= t.default_score.key(alpha_default)
        assert not t.tuned_score.diverged
        improved += t.tuned_score.key(alpha_tuned) < t.default_score.key(alpha_default)
        # Only α changed (no second axis asked for).
        assert set(t.changes()) <= {"learning_rate"}
        assert t.default == OptimizerSettings.default(t.name)
    assert improved >= 3  # the registry's defaults are not tuned for 300 steps on Rosenbrock
    assert rosenbrock_tuning.criterion == CRITERION and "diverged" in CRITERION.lower()


def test_untuned_settings_are_kept_when_no_grid_point_beats_them():
    # A tiny α range far below Adam's default: every grid run crawls.
    r = tune("rosenbrock", ["adam"], steps=200, alpha_range=(1e-5, 1e-4))
    t = r["adam"]
    assert t.chosen_from == "default"
    assert t.tuned == t.default and t.tuned_score == t.default_score
    assert "kept" in t.summary()


def test_settings_keep_their_other_hyperparameters():
    start = OptimizerSettings("adam", {"learning_rate": 0.1, "b2": 0.95}, "pytorch")
    t = tune("booth", [start], steps=200)["adam"]
    assert t.default == start
    assert t.tuned.preset == "pytorch" and t.tuned.resolved()["b2"] == 0.95


def _fake_trajectory(loss: list[float], diverged_at: int | None = None) -> Trajectory:
    loss_arr = np.asarray(loss, np.float32)
    n = len(loss_arr) - 1
    path = np.zeros((n + 1, 2), np.float32)
    if diverged_at is not None:
        loss_arr[diverged_at:] = np.nan
        path[diverged_at:] = np.nan
    return Trajectory(
        "sgd", "SGD", {}, path, loss_arr, np.zeros((n, 2)), np.zeros((n, 2)), np.zeros(n), {}, diverged_at
    )


def _run_constructed(monkeypatch, per_alpha: dict[int, Trajectory], default: Trajectory):
    """tune() with the engine replaced by constructed runs: grid index -> trajectory."""
    calls = []

    def fake_run_batch(surface, configs, **kwargs):
        calls.append(len(configs))
        flat = [_fake_trajectory([2.0] * 11) for _ in configs]
        flat[0] = default
        for i, traj in per_alpha.items():
            flat[1 + i] = traj
        return flat

    monkeypatch.setattr(tuning_mod.engine, "run_batch", fake_run_batch)
    # Booth: f* = 0, so "within tolerance" means loss <= tol.
    result = tune("booth", ["sgd"], steps=10, tol=1e-3)
    assert calls == [1 + MIN_ALPHAS]
    return result["sgd"]


def test_the_choice_follows_the_criterion_on_a_constructed_case(monkeypatch):
    settle_at_6 = [1.0] * 6 + [5e-4] * 5
    per_alpha = {
        3: _fake_trajectory(settle_at_6),  # settles at step 6, final 5e-4
        5: _fake_trajectory([1.0, 1.0, 1e-5] + [0.5] * 8),  # only passes through the tolerance
        7: _fake_trajectory([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 8),  # diverges
        10: _fake_trajectory([1.0] * 6 + [1e-4] * 5),  # settles at step 6 too, lower final loss
        12: _fake_trajectory([1.0] * 6 + [1e-4] * 5),  # same as 10 with a larger α
        20: _fake_trajectory([1.0] * 9 + [0.0] * 2),  # settles later, at step 9
    }
    t = _run_constructed(monkeypatch, per_alpha, _fake_trajectory([1.0] * 11))
    assert t.chosen_from == "grid"
    assert t.tuned.hparams["learning_rate"] == pytest.approx(t.alphas[10])
    assert t.tuned_score == Score(6, pytest.approx(1e-4), None)
    row = t.steps_to_tol[0]
    assert row[3] == 6 and row[5] == -1 and row[7] == -1 and row[20] == 9
    assert t.diverged_at[0, 7] == 8 and t.diverged_at[0, 3] == -1
    curve = t.curve()
    assert math.isnan(curve["final_loss"][7]) and curve["diverged"][7]
    assert curve["steps_to_tol"][10] == 6 and math.isnan(curve["steps_to_tol"][0])


def test_without_a_settled_run_the_lowest_final_loss_wins_and_diverged_runs_never_do(monkeypatch):
    per_alpha = {
        2: _fake_trajectory([1.0] * 11),
        4: _fake_trajectory([1.0] * 10 + [0.3]),  # the lowest final loss of the finite runs
        6: _fake_trajectory([1.0] + [1e-6] * 10, 6),  # lower, but diverged at step 6
        8: _fake_trajectory([1.0] * 5 + [1e-4] * 5 + [0.4]),  # within tol, then left it
    }
    t = _run_constructed(monkeypatch, per_alpha, _fake_trajectory([1.0] * 10 + [0.9]))
    assert t.tuned.hparams["learning_rate"] == pytest.approx(t.alphas[4])
    assert t.tuned_score.final_loss == pytest.approx(0.3) and t.tuned_score.steps_to_tol is None


def test_when_every_grid_run_diverges_none_is_chosen(monkeypatch):
    per_alpha = {i: _fake_trajectory([1.0] + [1e-9] * 10, 3) for i in range(MIN_ALPHAS)}
    default = _fake_trajectory([1.0] * 10 + [0.8])
    t = _run_constructed(monkeypatch, per_alpha, default)
    assert np.all(t.diverged_at >= 0)
    assert t.chosen_from == "default" and not t.tuned_score.diverged


def test_diverged_runs_are_never_chosen_on_a_real_surface():
    r = tune("rosenbrock", ["sgd", "momentum"], steps=300, alpha_range=(1e-4, 10.0))
    for t in r:
        assert np.any(t.diverged_at >= 0), "the grid must hold diverged runs for this test to mean anything"
        i = int(np.argmin(np.abs(t.alphas - t.tuned.hparams["learning_rate"])))
        assert t.diverged_at[0, i] == -1 and not t.tuned_score.diverged
    # Every run diverges for SGD above α = 5 on Rosenbrock: the untuned α = 1e-3 is kept.
    t = tune("rosenbrock", ["sgd"], steps=300, alpha_range=(5.0, 10.0))["sgd"]
    assert np.all(t.diverged_at >= 0) and t.chosen_from == "default"


def test_grid_summaries_match_single_runs(rosenbrock_tuning):
    t = rosenbrock_tuning["momentum"]
    for i in (0, 12, 20, 31):
        alpha = float(t.alphas[i])
        traj = run("rosenbrock", "momentum", {"learning_rate": alpha}, steps=300)
        if traj.diverged_at is not None:
            assert t.diverged_at[0, i] == traj.diverged_at
            continue
        assert t.diverged_at[0, i] == -1
        assert t.final_loss[0, i] == pytest.approx(float(traj.loss[-1]), rel=1e-5, abs=1e-7)
        within = traj.loss <= 1e-3  # Rosenbrock's f* = 0
        settled = next((k for k in range(len(within)) if within[k:].all()), -1)
        assert t.steps_to_tol[0, i] == settled


def test_one_engine_call_and_no_recompile_when_the_grid_values_change(monkeypatch):
    calls = []
    real = engine.run_batch

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tuning_mod.engine, "run_batch", counting)
    first = tune("ravine", FOUR, steps=200, second=[0.5, 0.9])
    assert calls == [first.runs]
    # 4 untuned runs + SGD's 32 + three optimizers × 2 second-axis values × 32
    assert first.runs == 4 + 32 + 3 * 2 * 32
    before = engine.trace_count()
    second = tune("ravine", FOUR, steps=200, second=[0.0, 0.99], alpha_range=(1e-4, 1.0))
    assert engine.trace_count() == before, "new grid values must not recompile"
    assert calls == [first.runs, second.runs]
    assert not np.allclose(first["adam"].final_loss, second["adam"].final_loss)


def test_second_axis_tunes_beta1_or_momentum():
    assert second_axis("adam") == "b1" and second_axis("lion") == "b1"
    assert second_axis("momentum") == "momentum" and second_axis("rmsprop") == "momentum"
    assert second_axis("sgd") is None and second_axis("adagrad") is None
    r = tune("ravine", ["sgd", "momentum", "adam"], steps=200, second=True)
    assert r["sgd"].second is None and r["sgd"].final_loss.shape == (1, 32)
    for name, axis in (("momentum", "momentum"), ("adam", "b1")):
        t = r[name]
        assert t.second == axis
        assert t.final_loss.shape == (len(tuning_mod.DEFAULT_SECOND_VALUES), 32)
        assert t.tuned.hparams.get(axis, t.default.resolved()[axis]) in set(t.second_values) | {
            t.default.resolved()[axis]
        }
        keys = [
            Score(None if s < 0 else int(s), float(f), None if d < 0 else int(d)).key(float(a))
            for row in range(t.final_loss.shape[0])
            for a, s, f, d in zip(t.alphas, t.steps_to_tol[row], t.final_loss[row], t.diverged_at[row])
        ]
        assert t.tuned_score.key(t.tuned.resolved()["learning_rate"]) <= min(keys)
        assert t.curve()["alpha"].shape == (32,)


def test_result_table_and_lookup(rosenbrock_tuning):
    rows = rosenbrock_tuning.table()
    assert [row["optimizer"] for row in rows] == [OPTIMIZERS[n].label for n in FOUR]
    assert rosenbrock_tuning["Adam"] is rosenbrock_tuning["adam"]
    assert [s.name for s in rosenbrock_tuning.tuned_settings()] == FOUR
    assert rosenbrock_tuning.runs == 4 * 33


@pytest.mark.parametrize("bad", [[], ["adam", "adam"], ["nope"], [3]])
def test_bad_optimizer_lists_are_rejected(bad):
    with pytest.raises(ValueError):
        tune("rosenbrock", bad, steps=50)


def test_bad_second_axis_values_are_rejected():
    with pytest.raises(ValueError):
        tune("rosenbrock", ["adam"], steps=50, second=[1.5])
