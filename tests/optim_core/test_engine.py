"""The trajectory engine: alignment, batching, divergence, noise, schedules, no recompiles."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from optim_core import OPTIMIZERS, resolve_hparams
from optim_core.engine import RunConfig, run, run_batch, run_grid, step_bucket, trace_count
from optim_core.schedules import Schedule, schedule_values
from surfaces import SURFACES


def manual_run(surface, name, hp, start, steps):
    """An independent Python loop over the same optimizer: what the engine must reproduce."""
    opt = OPTIMIZERS[name].optimizer
    hp = {k: jnp.float32(v) for k, v in hp.items()}
    xy = jnp.asarray(start, jnp.float32)
    state = opt.init(xy)
    import jax

    grad = jax.grad(lambda p: surface.fn(p[0], p[1], surface.default_params()))
    path = [np.asarray(xy)]
    for _ in range(steps):
        update, state, _ = opt.update(grad(xy), state, xy, hp)
        xy = xy + update
        path.append(np.asarray(xy))
    return np.stack(path)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "rmsprop", "adagrad"])
def test_engine_matches_a_plain_loop(name):
    surface = SURFACES["rosenbrock"]
    hp = resolve_hparams(name, {"learning_rate": 1e-3})
    traj = run(surface, name, hp, start=(-1.5, 2.0), steps=60)
    expected = manual_run(surface, name, hp, (-1.5, 2.0), 60)
    np.testing.assert_allclose(traj.path, expected, rtol=1e-5, atol=1e-6)


def test_shapes_alignment_and_true_loss():
    surface = SURFACES["rosenbrock"]
    t = run("rosenbrock", "adam", {"learning_rate": 0.02}, start=(-1.5, 2.0), steps=500, seed=0)
    assert t.path.shape == (501, 2) and t.loss.shape == (501,)
    assert t.grads.shape == t.updates.shape == (500, 2) and t.lr.shape == (500,)
    np.testing.assert_allclose(t.path[0], [-1.5, 2.0])
    np.testing.assert_allclose(t.path[1:] - t.path[:-1], t.updates, atol=1e-5)
    true_loss = np.asarray(surface.value(t.path[:, 0], t.path[:, 1]))
    np.testing.assert_allclose(t.loss, true_loss, rtol=1e-4, atol=1e-6)
    assert t.diverged_at is None
    assert t.loss[-1] < 0.25 * t.loss[0]  # Adam makes real progress along the valley
    assert {"m", "v", "m_hat", "v_hat", "step_size"} <= set(t.internals)
    for values in t.internals.values():
        assert values.shape == (500, 2)


def test_batch_equals_separate_runs():
    configs = [
        RunConfig("adam", {"learning_rate": 0.05}, start=(1.0, 1.0)),
        RunConfig("sgd", {"learning_rate": 0.01}),
        RunConfig("adam", {"learning_rate": 0.01, "b1": 0.5}, start=(-2.0, -1.0)),
        RunConfig("rmsprop", preset="pytorch"),
    ]
    batch = run_batch("himmelblau", configs, steps=120, seed=3)
    for cfg, traj in zip(configs, batch):
        alone = run(
            "himmelblau",
            cfg.optimizer,
            cfg.hparams,
            start=cfg.start,
            steps=120,
            seed=3,
            preset=cfg.preset,
        )
        np.testing.assert_allclose(traj.path, alone.path, rtol=1e-6, atol=1e-6)
        assert traj.optimizer == cfg.optimizer


def test_no_recompile_when_values_move():
    def go(**kw):
        base = dict(
            hparams={"learning_rate": 0.01},
            start=(-1.0, 1.0),
            steps=200,
            seed=0,
            noise=0.1,
            surface_params={"condition": 20.0, "angle": 10.0},
            schedule=Schedule("constant"),
        )
        base.update(kw)
        return run("ravine", "adam", base.pop("hparams"), **base)

    go()
    before = trace_count()
    go(hparams={"learning_rate": 0.3, "b1": 0.5, "b2": 0.9, "eps": 1e-3, "bias_correction": 0.0})
    go(start=(2.0, -3.0))
    go(seed=7)
    go(noise=2.0)
    go(surface_params={"condition": 500.0, "angle": 45.0})
    go(schedule=Schedule("cosine", final_fraction=0.1))
    go(schedule=Schedule("step", decay_rate=0.3, decay_every=20))
    go(steps=180)  # same bucket as 200
    go(hparams={"learning_rate": 0.01}, preset="keras")  # eps_hat switch is a traced value
    assert trace_count() == before


def test_divergence_is_recorded_not_raised():
    t = run("rosenbrock", "sgd", {"learning_rate": 0.5}, start=(-1.5, 2.0), steps=300)
    k = t.diverged_at
    assert k is not None and 0 < k <= 300
    assert np.all(np.isfinite(t.path[:k])) and np.all(np.isnan(t.path[k:]))
    assert np.all(np.isnan(t.loss[k:])) and np.all(np.isfinite(t.loss[:k]))
    assert np.all(np.isnan(t.updates[k - 1 :]))


def test_the_divergence_box_is_the_documented_square():
    """B = 100 · max(|x₀|, |x₁|, |y₀|, |y₁|, 1) for the plotting domain; a run stops at the first
    point with |x| > B or |y| > B."""
    from optim_core import divergence_bound

    assert divergence_bound(SURFACES["rosenbrock"]) == 300.0  # domain [−2, 2] × [−1, 3]
    assert divergence_bound(SURFACES["booth"]) == 1000.0
    assert divergence_bound(SURFACES["saddle"]) == 200.0
    # SGD on x² − y² from (1, 0.01) at α = 0.1: y_k = 0.01 · 1.2^k passes 200 at k = 55
    t = run("saddle", "sgd", {"learning_rate": 0.1}, start=(1.0, 0.01), steps=100)
    expected = next(k for k in range(1, 100) if 0.01 * 1.2**k > 200.0)
    assert expected == 55 and t.diverged_at == expected
    assert abs(t.path[expected - 1, 1]) <= 200.0 and np.isfinite(t.path[expected - 1]).all()


def test_saddle_escape_leaves_the_bound_and_counts_as_divergence():
    t = run("saddle", "sgd", {"learning_rate": 0.1}, start=(1.0, 0.01), steps=2000)
    assert t.diverged_at is not None


def test_noise_is_reproducible_by_seed():
    a = run("noisy_bowl", "sgd", {"learning_rate": 0.05}, steps=100, seed=1, noise=0.5)
    b = run("noisy_bowl", "sgd", {"learning_rate": 0.05}, steps=100, seed=1, noise=0.5)
    c = run("noisy_bowl", "sgd", {"learning_rate": 0.05}, steps=100, seed=2, noise=0.5)
    clean = run("noisy_bowl", "sgd", {"learning_rate": 0.05}, steps=100, seed=1, noise=0.0)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path)
    assert not np.allclose(a.path, clean.path)
    # Noise shows up in the gradients used, not in the recorded true loss.
    surface = SURFACES["noisy_bowl"]
    np.testing.assert_allclose(
        a.loss, np.asarray(surface.value(a.path[:, 0], a.path[:, 1])), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule("constant"),
        Schedule("step", decay_rate=0.5, decay_every=10),
        Schedule("cosine", final_fraction=0.2),
        Schedule("warmup", warmup_steps=15),
    ],
)
def test_schedules_drive_the_learning_rate(schedule):
    t = run("booth", "sgd", {"learning_rate": 0.01}, steps=40, schedule=schedule)
    steps = np.arange(40)
    expected = {
        "constant": np.ones(40),
        "step": 0.5 ** (steps // 10),
        "cosine": 0.2 + 0.8 * 0.5 * (1 + np.cos(np.pi * steps / 40)),
        "warmup": np.minimum(1.0, (steps + 1) / 15),
    }[schedule.kind]
    np.testing.assert_allclose(t.lr, 0.01 * expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(schedule_values(schedule, 40)), expected, rtol=1e-5)


def test_bad_names_and_values_raise_value_error_naming_them():
    with pytest.raises(ValueError, match="adamm"):
        run("rosenbrock", "adamm")
    with pytest.raises(ValueError, match="beta1"):
        run("rosenbrock", "adam", {"beta1": 0.9})
    with pytest.raises(ValueError, match="b1"):
        run("rosenbrock", "adam", {"b1": 1.5})
    with pytest.raises(ValueError, match="nowhere"):
        run("nowhere", "adam")
    with pytest.raises(ValueError, match="steps"):
        run("rosenbrock", "adam", steps=0)
    with pytest.raises(ValueError, match="start"):
        run("rosenbrock", "adam", start=(math.nan, 0.0))
    with pytest.raises(ValueError, match="Schedule|schedule"):
        Schedule("exponential")


def test_grid_matches_batch_and_finds_basins():
    starts = np.array([[3.5, 3.5], [-3.5, 3.5], [-3.5, -3.5], [3.5, -3.5]], np.float32)
    grid = run_grid("himmelblau", "adam", {"learning_rate": 0.05}, starts, steps=500)
    batch = run_batch(
        "himmelblau",
        [RunConfig("adam", {"learning_rate": 0.05}, start=tuple(s)) for s in starts],
        steps=500,
    )
    np.testing.assert_allclose(grid.final_position, [t.path[-1] for t in batch], atol=1e-5)
    # Starts in the four quadrants reach four different minima.
    assert sorted(grid.nearest_minimum.tolist()) == [0, 1, 2, 3]
    assert np.all(grid.steps_to_tol > 0) and np.all(grid.diverged_at == -1)


def test_grid_sweeps_hyperparameters():
    lrs = [1e-4, 1e-3, 5.0]
    grid = run_grid("rosenbrock", "sgd", [{"learning_rate": lr} for lr in lrs], steps=300)
    assert grid.diverged_at[2] > 0 and grid.diverged_at[0] == -1
    assert grid.final_loss[1] < grid.final_loss[0]


def test_step_buckets():
    assert step_bucket(1) == 50 and step_bucket(500) == 500 and step_bucket(501) == 750
    with pytest.raises(ValueError):
        step_bucket(10**6)
