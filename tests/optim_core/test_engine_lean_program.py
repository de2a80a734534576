"""The engine's lean per-call program: what it must keep while it stays small.

A recorded run is one small program per optimizer group: the start row comes out of the loop's
first iteration, divergence is marked in the loop (the point set to NaN, and NaN stays NaN),
the schedule comes in as a table built on the host. These tests pin the behaviour that design
must keep (the same numbers, the same divergence rules) and the two facts that make XLA:CPU run
such a call on the caller's thread, one operation after the other (see `_recorded`).
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optim_core import Schedule, engine
from optim_core.engine import RunConfig, run, run_batch
from optim_core.schedules import schedule_factor, schedule_factors
from surfaces import SURFACES, from_expression


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule("constant"),
        Schedule("step", decay_rate=0.3, decay_every=7),
        Schedule("cosine", final_fraction=0.1),
        Schedule("cosine", final_fraction=0.0),
        Schedule("warmup", warmup_steps=33),
    ],
)
@pytest.mark.parametrize(("length", "total"), [(51, 37), (501, 500), (1001, 1000)])
def test_host_schedule_table_equals_the_traced_schedule(schedule, length, total):
    packed = schedule.as_array()
    traced = np.asarray(jax.vmap(lambda t: schedule_factor(packed, t, total))(jnp.arange(length)))
    host = schedule_factors(schedule, length, total)
    assert host.dtype == np.float32 and host.shape == (length,)
    np.testing.assert_allclose(host, traced, rtol=2e-6, atol=1e-7)


def test_a_start_whose_loss_is_not_finite_diverges_at_zero():
    surface = from_expression("log(x) + y**2")
    traj = run(surface, "sgd", {"learning_rate": 0.01}, start=(-1.0, 0.5), steps=40)
    assert traj.diverged_at == 0
    assert np.isnan(traj.path).all() and np.isnan(traj.loss).all()
    assert np.isnan(traj.grads).all() and np.isnan(traj.lr).all() and np.isnan(traj.updates).all()
    lean = run_batch(surface, [RunConfig("sgd", start=(-1.0, 0.5))], steps=40, internals=False)[0]
    assert lean.diverged_at == 0 and np.isnan(lean.path).all()


def test_every_step_array_is_nan_from_the_step_into_the_divergence():
    # SGD with α = 3 on ½(x² + y²) doubles |x| every step: x₀ = −2.5 leaves the bound 300 at
    # k = 7, so the step from path[6] to path[7] (index 6) and every later one is NaN.
    traj = run("noisy_bowl", "sgd", {"learning_rate": 3.0}, start=(-2.5, 2.0), steps=20, noise=0.0)
    assert traj.diverged_at == 7
    for name, values in [("lr", traj.lr), ("grads", traj.grads), ("updates", traj.updates)] + [
        (k, v) for k, v in traj.internals.items()
    ]:
        assert np.isnan(values[6:]).all(), name
        assert np.isfinite(values[:6]).all(), name
    np.testing.assert_array_equal(traj.lr[:6], np.float32(3.0))


def test_the_first_point_past_the_bound_is_the_divergence():
    # SGD on x² − y² from (1, 0.01) at α = 0.1: y_k = 0.01 · 1.2^k passes the bound 200 at
    # k = 55; from there on the path is NaN (dropped, not clipped), before it finite.
    traj = run("saddle", "sgd", {"learning_rate": 0.1}, start=(1.0, 0.01), steps=100)
    assert traj.diverged_at == 55
    assert np.isnan(traj.path[55:]).all() and np.isfinite(traj.path[:55]).all()


def test_shared_inputs_quick_key_tells_types_and_signs_apart():
    a = run("noisy_bowl", "sgd", steps=50, noise=0.5, seed=1)
    assert run("noisy_bowl", "sgd", steps=50, noise=0.5, seed=1).path.tobytes() == a.path.tobytes()
    # int and float noise, -0.0 and 0.0: the same run, each validated on its own
    zero = [run("noisy_bowl", "sgd", steps=50, noise=v, seed=1).path for v in (0, 0.0, -0.0)]
    np.testing.assert_array_equal(zero[0], zero[1])
    np.testing.assert_array_equal(zero[0], zero[2])
    with pytest.raises(ValueError, match="seed"):
        run("noisy_bowl", "sgd", steps=50, seed=True)
    with pytest.raises(ValueError, match="noise"):
        run("noisy_bowl", "sgd", steps=50, noise=float("nan"))
    with pytest.raises(ValueError, match="start"):
        run("noisy_bowl", "sgd", steps=50, start=(float("inf"), 0.0))


def _top_level_operations(hlo_text: str) -> list[str]:
    entry = re.search(r"^ENTRY .*?^}", hlo_text, re.S | re.M)
    assert entry is not None
    ops = re.findall(r"^\s+(?:ROOT )?%\S+ = .*? ([a-z-]+)\(", entry.group(0), re.M)
    return [op for op in ops if op not in {"parameter", "constant", "get-tuple-element", "tuple", "bitcast"}]


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("record", ["full", "path"])
def test_one_runs_program_is_small_enough_to_run_on_the_callers_thread(name, record):
    """XLA:CPU (jax 0.10) runs a call inline only when HloCostAnalysis counts < 1000 flops
    (a loop's body counted once), and one operation after the other only when the top level
    holds <= 8 operations (else it spreads them over its thread pool). Either one lost costs
    more than the 1000 steps themselves: if a JAX upgrade changes these rules, re-measure with
    `bench/bench_core.py --api` before relaxing this test. (RMSprop's four state buffers take
    its top level to 9 operations; measured, its call is still as fast as optax's.)"""
    surface = SURFACES["rosenbrock"]
    _, row = engine._resolved(name, {}, "optax")
    inputs = (np.asarray([row + (-1.5, 2.0)], np.float32),)
    shared, _ = engine._shared_inputs(surface, None, 0, None, None, 1000, 1e-3)
    compiled = engine._simulate_groups.lower(surface, ((name, 1),), 1000, record, inputs, shared).compile()
    cost, text = compiled.cost_analysis(), compiled.as_text()
    assert cost is not None and text is not None
    assert cost["flops"] < 1000
    top = _top_level_operations(text)
    assert len(top) <= (9 if name == "rmsprop" else 8), top
