"""The engine's per-call fast path: cached inputs, divergence found in the program, lean runs.

What it must keep: the same numbers as an independent reference (optax), validation that a
cache hit cannot skip, no recompile when a value moves, and `internals=False` giving the same
path and loss as a full run (to float32's last bit: the lean loop is compiled separately).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import optax
import pytest

from optim_core import OPTIMIZERS, Schedule
from optim_core.engine import RunConfig, divergence_bound, run, run_batch, trace_count
from surfaces import SURFACES

START = (-1.5, 2.0)


def optax_adam_path(lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """optax.adam on Rosenbrock in a plain Python loop: path and true loss, start included."""
    surface = SURFACES["rosenbrock"]

    def f(p):
        return surface.fn(p[0], p[1], {})

    opt = optax.adam(lr)
    p = jax.numpy.asarray(START, jax.numpy.float32)
    state = opt.init(p)
    step = jax.jit(lambda p, s: (lambda u_s: (p + u_s[0], u_s[1]))(opt.update(jax.grad(f)(p), s)))
    path, loss = [np.asarray(p)], [float(f(p))]
    for _ in range(steps):
        p, state = step(p, state)
        path.append(np.asarray(p))
        loss.append(float(f(p)))
    return np.stack(path), np.asarray(loss, np.float32)


def test_run_follows_optax_adam_step_for_step():
    traj = run("rosenbrock", "adam", {"learning_rate": 0.02}, start=START, steps=120)
    path, loss = optax_adam_path(0.02, 120)
    assert traj.path.shape == (121, 2) and traj.loss.shape == (121,)
    np.testing.assert_allclose(traj.path, path, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(traj.loss, loss, rtol=1e-4, atol=1e-6)
    assert traj.path.dtype == np.float32 and traj.loss.dtype == np.float32
    assert traj.grads.shape == traj.updates.shape == (120, 2) and traj.lr.shape == (120,)
    np.testing.assert_array_equal(traj.path[0], np.asarray(START, np.float32))
    # updates are the path's steps; the internals cover every step
    np.testing.assert_allclose(traj.updates, np.diff(traj.path, axis=0), rtol=1e-5, atol=1e-6)
    assert set(traj.internals) >= {"m", "v"} and all(v.shape == (120, 2) for v in traj.internals.values())
    assert traj.diverged_at is None


def test_run_is_run_batch_of_one_bit_for_bit():
    kw: dict[str, Any] = dict(steps=333, seed=5, noise=0.3, schedule=Schedule("cosine", final_fraction=0.2))
    one = run("himmelblau", "rmsprop", {"learning_rate": 0.05}, start=(1.0, -2.0), **kw)
    cfgs = [
        RunConfig("sgd", {"learning_rate": 0.01}),
        RunConfig("rmsprop", {"learning_rate": 0.05}, start=(1.0, -2.0)),
        RunConfig("adam"),
    ]
    (_, batched, _) = run_batch("himmelblau", cfgs, **kw)
    for field in ("path", "loss", "grads", "updates", "lr"):
        np.testing.assert_array_equal(getattr(one, field), getattr(batched, field), err_msg=field)
    assert one.internals.keys() == batched.internals.keys()
    for k in one.internals:
        np.testing.assert_array_equal(one.internals[k], batched.internals[k])
    assert one.hparams == batched.hparams and one.label == batched.label


@pytest.mark.parametrize("surface", ["rosenbrock", "beale", "ravine"])
def test_internals_false_gives_the_same_path_and_loss(surface):
    names = ["sgd", "momentum", "rmsprop", "adam", "lion", "adagrad"]
    cfgs = [RunConfig(n, {"learning_rate": 0.01}) for n in names]
    cfgs += [RunConfig("adam", {"learning_rate": lr}) for lr in (0.001, 0.3, 5.0)]  # some diverge
    full = run_batch(surface, cfgs, steps=437, noise=0.2, seed=3)
    lean = run_batch(surface, cfgs, steps=437, noise=0.2, seed=3, internals=False)
    # The lean program is a different loop to XLA: float32 results may differ in the last bit
    # (they did before this fast path too), never more.
    for f, lt in zip(full, lean):
        np.testing.assert_allclose(f.path, lt.path, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(f.loss, lt.loss, rtol=1e-5, atol=1e-6)
        assert f.diverged_at == lt.diverged_at
        assert lt.internals == {} and lt.grads.shape == (0, 2) and lt.lr.shape == (0,)
        np.testing.assert_array_equal(lt.updates, np.diff(lt.path, axis=0))
        assert f.internals  # the full run records them


def test_divergence_is_marked_at_the_first_point_past_the_bound():
    # SGD with α = 3 on ½(x² + y²): every step multiplies the position by exactly −2, so the
    # path is known in closed form. x₀ = −2.5 leaves the bound 300 first at k = 7 (|x| = 320).
    assert divergence_bound(SURFACES["noisy_bowl"]) == 300.0
    kw: dict[str, Any] = dict(start=(-2.5, 2.0), noise=0.0)
    traj = run("noisy_bowl", "sgd", {"learning_rate": 3.0}, steps=20, **kw)
    expected = np.asarray([(-2.5 * (-2.0) ** k, 2.0 * (-2.0) ** k) for k in range(7)], np.float32)
    np.testing.assert_array_equal(traj.path[:7], expected)
    assert traj.diverged_at == 7
    assert np.isnan(traj.path[7:]).all() and np.isnan(traj.loss[7:]).all()
    assert np.isfinite(traj.loss[:7]).all()
    assert np.isnan(traj.grads[6:]).all() and np.isfinite(traj.grads[:6]).all()
    # Only requested steps count: 6 steps stop before the bound (the bucket's padding would not).
    assert run("noisy_bowl", "sgd", {"learning_rate": 3.0}, steps=6, **kw).diverged_at is None
    assert run("noisy_bowl", "sgd", {"learning_rate": 3.0}, steps=7, **kw).diverged_at == 7
    lean = run_batch(
        "noisy_bowl",
        [RunConfig("sgd", {"learning_rate": 3.0}, start=(-2.5, 2.0))],
        steps=20,
        noise=0.0,
        internals=False,
    )
    assert lean[0].diverged_at == 7


def test_a_cache_hit_never_skips_validation():
    run("rosenbrock", "sgd", {"learning_rate": 1.0}, steps=50)
    with pytest.raises(ValueError, match="not a switch"):
        run("rosenbrock", "sgd", {"learning_rate": True}, steps=50)
    run("rosenbrock", "adam", {"bias_correction": 1}, steps=50)
    with pytest.raises(ValueError, match="outside its valid range"):
        run("rosenbrock", "adam", {"learning_rate": -1.0}, steps=50)
    with pytest.raises(ValueError, match="unknown optimizer"):
        run_batch("rosenbrock", [RunConfig("nope")])
    with pytest.raises(ValueError, match="noise"):
        run("rosenbrock", "sgd", noise=-1.0, steps=50)
    with pytest.raises(ValueError, match="seed"):
        run("rosenbrock", "sgd", seed=True, steps=50)


def test_cached_settings_tell_minus_zero_from_zero():
    # Equal as numbers, so a naive cache key would hand back the other one's resolution.
    a = run("rosenbrock", "adamw", {"weight_decay": 0.0}, steps=50)
    b = run("rosenbrock", "adamw", {"weight_decay": -0.0}, steps=50)
    assert np.copysign(1.0, a.hparams["weight_decay"]) == 1.0
    assert np.copysign(1.0, b.hparams["weight_decay"]) == -1.0


def test_each_trajectory_owns_its_hparams():
    first = run("rosenbrock", "adam", {"learning_rate": 0.01}, steps=50)
    first.hparams["learning_rate"] = 123.0
    again = run("rosenbrock", "adam", {"learning_rate": 0.01}, steps=50)
    assert again.hparams["learning_rate"] == 0.01


def test_shared_inputs_follow_every_value_they_depend_on():
    base: dict[str, Any] = dict(steps=120, seed=1, noise=0.5)
    a = run("ravine", "sgd", {"learning_rate": 0.01}, **base)
    changes: tuple[dict[str, Any], ...] = (
        dict(seed=2),
        dict(noise=0.6),
        dict(surface_params={"condition": 30.0}),
        dict(schedule=Schedule("step", decay_rate=0.5, decay_every=10)),
    )
    for change in changes:
        b = run("ravine", "sgd", {"learning_rate": 0.01}, **{**base, **change})
        assert not np.array_equal(a.path, b.path), change
    np.testing.assert_array_equal(run("ravine", "sgd", {"learning_rate": 0.01}, **base).path, a.path)
    # Another step count in the same bucket: the same noise, so the same first 121 points.
    longer = run("ravine", "sgd", {"learning_rate": 0.01}, **{**base, "steps": 121})
    assert longer.path.shape == (122, 2)
    np.testing.assert_array_equal(longer.path[:121], a.path)


def test_moving_alpha_between_run_calls_never_recompiles():
    compiles = {"n": 0}

    def count(event: str, duration_secs: float, **kwargs: str | int) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compiles["n"] += 1

    jax.monitoring.register_event_duration_secs_listener(count)
    try:
        run("rosenbrock", "adam", {"learning_rate": 0.01}, start=START, steps=1000)
        cfgs = [RunConfig("adam", {"learning_rate": a}) for a in (0.01, 0.02)] + [RunConfig("sgd")]
        run_batch("rosenbrock", cfgs, steps=500, internals=False)
        before, traces = compiles["n"], trace_count()
        for alpha in (0.002, 0.05, 0.0137):
            run("rosenbrock", "adam", {"learning_rate": alpha, "b1": 0.8}, start=START, steps=1000)
            cfgs = [RunConfig("adam", {"learning_rate": alpha * k}) for k in (1, 2)] + [RunConfig("sgd")]
            run_batch("rosenbrock", cfgs, steps=500, internals=False)
        assert compiles["n"] == before and trace_count() == traces
    finally:
        jax.monitoring.unregister_event_duration_listener(count)


def test_every_optimizer_runs_lean_and_full_alike():
    cfgs = [RunConfig(n) for n in OPTIMIZERS]
    full = run_batch("six_hump_camel", cfgs, steps=75)
    lean = run_batch("six_hump_camel", cfgs, steps=75, record="path")
    for f, lt in zip(full, lean):
        np.testing.assert_allclose(f.path, lt.path, rtol=1e-4, atol=1e-5, err_msg=f.optimizer)
        np.testing.assert_allclose(f.loss, lt.loss, rtol=1e-4, atol=1e-5, err_msg=f.optimizer)
        assert f.path.shape == (76, 2) and f.grads.shape == (75, 2)
