"""The 2026 optimizers (optim_core.optimizers_modern) against optax, step for step, in float64.

Each case follows optax's own path for ≥ 100 steps: at every step both optimizers get the same
gradient and the same params (optax's point), each carries its own state, and our next point
(and internals that have an optax counterpart: Schedule-Free's z and x, Prodigy's d,
Lookahead's slow weights) must match optax's to 1e-6 relative. Following optax's path rather
than free-running both keeps a last-bit difference from being amplified by the dynamics.
Problems: a 2D Rosenbrock-like valley from three starts, and a random pytree of three leaves.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optim_core import INTERNAL_KEYS, apply_updates
from optim_core.optimizers_modern import MODERN_INTERNAL_KEYS, MODERN_SPECS

SPECS = {spec.name: spec for spec in MODERN_SPECS}
NAMES = list(SPECS)
STEPS = 150
RTOL = 1e-6


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _hp(name: str, **overrides: float) -> dict[str, float]:
    hp = dict(SPECS[name].defaults)
    assert set(overrides) <= set(hp), set(overrides) - set(hp)
    return {**hp, **overrides}


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def valley(p):
    """Rosenbrock with a milder wall (b = 10): curved, ill-conditioned, minimum at (1, 1)."""
    return (1.0 - p[0]) ** 2 + 10.0 * (p[1] - p[0] ** 2) ** 2


_RNG = np.random.default_rng(12)
_TARGETS = {"w": _RNG.normal(size=(3, 4)), "b": _RNG.normal(size=(5,)), "c": _RNG.normal(size=(2, 2))}
_SCALES = {k: np.exp(_RNG.uniform(-1.5, 1.5, size=v.shape)) for k, v in _TARGETS.items()}


def random_tree(p):
    """Separable quadratics with scales over a factor 20, coupled through a tanh and a quartic."""
    loss = sum(jnp.sum(_SCALES[k] * (p[k] - _TARGETS[k]) ** 2) for k in p)
    return loss + jnp.sum((p["b"][:4] - jnp.tanh(p["w"][0])) ** 2) + 0.1 * jnp.sum(p["c"] ** 4)


PROBLEMS = {
    # NumPy float64 starts: made into JAX arrays under x64, inside the tests
    "valley": (valley, np.array([[-1.5, 2.0], [0.5, -0.5], [1.8, 1.2]])),
    "pytree": (random_tree, {k: _RNG.normal(size=(3, *v.shape)) * 2.0 for k, v in _TARGETS.items()}),
}


# --------------------------------------------------------------------------------------------
# The optax counterparts (hyperparameters traced; the learning rate may be a schedule)
# --------------------------------------------------------------------------------------------


def optax_counterpart(name: str, hp: dict, lr) -> optax.GradientTransformation:
    if name == "schedule_free_sgd":
        return optax.contrib.schedule_free_sgd(
            lr, b1=hp["b1"], weight_decay=hp["weight_decay"], weight_lr_power=hp["weight_lr_power"]
        )
    if name == "schedule_free_adamw":
        return optax.contrib.schedule_free_adamw(
            lr,
            b1=hp["b1"],
            b2=hp["b2"],
            eps=hp["eps"],
            weight_decay=hp["weight_decay"],
            weight_lr_power=hp["weight_lr_power"],
        )
    if name == "prodigy":
        return optax.contrib.prodigy(
            lr,
            betas=(hp["b1"], hp["b2"]),
            eps=hp["eps"],
            estim_lr0=hp["estim_lr0"],
            weight_decay=hp["weight_decay"],
        )
    if name == "yogi":
        return optax.yogi(lr, hp["b1"], hp["b2"], hp["eps"])
    if name == "adan":
        return optax.adan(lr, hp["b1"], hp["b2"], hp["b3"], hp["eps"], hp["eps_root"], hp["weight_decay"])
    if name == "lookahead_adam":
        inner = optax.adam(lr, hp["b1"], hp["b2"], hp["eps"])
        return optax.lookahead(inner, int(hp["sync_period"]), hp["slow_step_size"])
    if name == "sam":
        adversary = optax.chain(optax.contrib.normalize(), optax.sgd(hp["rho"]))
        return optax.contrib.sam(optax.sgd(lr), adversary, sync_period=2)
    raise AssertionError(name)


# Optimizers whose optax learning rate is a schedule evaluated at the step count from 0: we test
# them with a learning rate that changes every step (as the engine's schedules pass it).
# Schedule-Free evaluates its schedule at count + 1 and SAM's outer SGD counts only descent
# steps, so those get a constant one.
_SCHEDULED = {"prodigy", "yogi", "adan", "lookahead_adam"}


def _lr_factor(step):
    return 1.0 + 0.5 * jnp.sin(step / 7.0)


# Per optimizer: hyperparameter variants (beside the defaults) that keep both problems finite.
VARIANTS: dict[str, list[dict[str, float]]] = {
    "schedule_free_sgd": [
        dict(learning_rate=0.01),
        dict(learning_rate=0.02, b1=0.5, weight_decay=0.01, weight_lr_power=1.0),
    ],
    "schedule_free_adamw": [
        dict(learning_rate=0.05),
        dict(learning_rate=0.01, b1=0.95, b2=0.99, eps=1e-4, weight_decay=0.05, weight_lr_power=3.0),
    ],
    "prodigy": [
        dict(),
        dict(learning_rate=0.5, b1=0.5, b2=0.99, eps=1e-6, estim_lr0=1e-3, weight_decay=0.01),
    ],
    "yogi": [dict(learning_rate=0.05), dict(learning_rate=0.1, b1=0.5, b2=0.99, eps=1e-6)],
    "adan": [
        dict(learning_rate=0.05),
        dict(learning_rate=0.02, b1=0.9, b2=0.8, b3=0.999, eps=1e-6, eps_root=1e-7, weight_decay=0.01),
    ],
    "lookahead_adam": [
        dict(learning_rate=0.05),
        dict(learning_rate=0.1, b1=0.8, b2=0.99, eps=1e-6, sync_period=3.0, slow_step_size=0.3),
    ],
    "sam": [dict(learning_rate=0.003), dict(learning_rate=0.004, rho=0.2)],
}


def _fast(params):
    return params.fast if isinstance(params, optax.LookaheadParams) else params


def _their_extras(name: str, state, their_params) -> dict:
    """optax's counterparts of our internals, after the step."""
    if name.startswith("schedule_free"):
        return {"z": state.z, "x": optax.contrib.schedule_free_eval_params(state, their_params)}
    if name == "prodigy":
        return {"d": state.estim_lr}
    if name == "lookahead_adam":
        return {"slow": their_params.slow}
    return {}


def _our_extras(name: str, internals: dict, like) -> dict:
    if name.startswith("schedule_free"):
        return {"z": internals["z"], "x": internals["x"]}
    if name == "prodigy":
        return {"d": jax.tree.leaves(internals["d"])[0].reshape(-1)[0]}
    if name == "lookahead_adam":
        return {"slow": internals["slow"]}
    return {}


@functools.partial(jax.jit, static_argnames=("name", "problem", "sync_period"))
def _paths(hp, starts, *, name, problem, sync_period):
    """(ours, theirs): next points and extras along optax's path, vmapped over the starts."""
    loss = PROBLEMS[problem][0]
    opt = SPECS[name].optimizer
    scheduled = name in _SCHEDULED
    hp = dict(hp)

    def run(start):
        base_lr = hp["learning_rate"]
        lr = (lambda count: base_lr * _lr_factor(count)) if scheduled else base_lr
        tx = optax_counterpart(name, dict(hp, sync_period=sync_period), lr)
        their_start = optax.LookaheadParams.init_synced(start) if name == "lookahead_adam" else start

        def body(carry, step):
            theirs_p, ours, theirs = carry
            params = _fast(theirs_p)
            grads = jax.grad(loss)(params)
            hp_now = dict(hp, learning_rate=base_lr * _lr_factor(step) if scheduled else base_lr)
            our_updates, ours, internals = opt.update(grads, ours, params, hp_now)
            their_updates, theirs = tx.update(grads, theirs, theirs_p)
            their_next = optax.apply_updates(theirs_p, their_updates)
            out = (
                (apply_updates(params, our_updates), _our_extras(name, internals, params)),
                (_fast(their_next), _their_extras(name, theirs, their_next)),
            )
            return (their_next, ours, theirs), out

        carry = (their_start, opt.init(start), tx.init(their_start))
        return jax.lax.scan(body, carry, jnp.arange(STEPS, dtype=jnp.int32))[1]

    return jax.vmap(run)(starts)


CASES = [(name, i, problem) for name in NAMES for i in range(3) for problem in PROBLEMS]


@pytest.mark.parametrize(("name", "variant", "problem"), CASES, ids=[f"{n}-{i}-{p}" for n, i, p in CASES])
def test_matches_optax_step_for_step(name, variant, problem):
    hp = _hp(name, **([{}] + VARIANTS[name])[variant])
    starts = jax.tree.map(jnp.asarray, PROBLEMS[problem][1])
    hp_arrays = {k: jnp.float64(v) for k, v in hp.items()}
    (ours, our_extras), (theirs, their_extras) = _paths(
        hp_arrays, starts, name=name, problem=problem, sync_period=int(round(hp.get("sync_period", 1)))
    )
    for a, b, s in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), jax.tree.leaves(starts), strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == np.float64 and a.shape[1] == STEPS
        assert np.isfinite(b).all(), "optax's run diverged"
        # every run moves: a test of two frozen points would pass whatever the rule
        assert np.abs(b[:, -1] - np.asarray(s)).max() > 1e-2
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * 1e-3 * scale)
    assert set(our_extras) == set(their_extras)
    for key in our_extras:
        for a, b in zip(jax.tree.leaves(our_extras[key]), jax.tree.leaves(their_extras[key]), strict=True):
            a, b = np.asarray(a), np.asarray(b)
            assert np.isfinite(b).all(), key
            scale = max(1e-300, float(np.abs(b).max()))
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * 1e-3 * scale, err_msg=key)


def test_prodigy_estimate_grows_from_d0():
    """d starts at d₀ and grows by orders of magnitude on the valley (what the app plots)."""
    spec = SPECS["prodigy"]
    hp = _hp("prodigy")
    params = jnp.array([-1.5, 2.0])
    state = spec.optimizer.init(params)
    ds = []
    for _ in range(200):
        updates, state, internals = spec.optimizer.update(jax.grad(valley)(params), state, params, hp)
        params = apply_updates(params, updates)
        ds.append(float(internals["d"][0]))
    assert ds[0] >= hp["estim_lr0"]
    assert all(b >= a for a, b in zip(ds, ds[1:]))  # d never shrinks
    assert ds[-1] > 1e3 * hp["estim_lr0"]


def test_schedule_free_y_is_between_x_and_z():
    spec = SPECS["schedule_free_sgd"]
    hp = _hp("schedule_free_sgd", learning_rate=0.01, b1=0.8)
    params = jnp.array([-1.5, 2.0])
    state = spec.optimizer.init(params)
    for _ in range(50):
        updates, state, internals = spec.optimizer.update(jax.grad(valley)(params), state, params, hp)
        params = apply_updates(params, updates)
        np.testing.assert_allclose(internals["y"], params, rtol=1e-12)
        np.testing.assert_allclose(internals["y"], 0.8 * internals["x"] + 0.2 * internals["z"], rtol=1e-12)


def test_sam_alternates_probe_and_descent():
    """Odd steps go to θ + ρ·g/‖g‖; even steps to θ − α·∇f(probe) from the same θ."""
    spec = SPECS["sam"]
    lr, rho = 0.01, 0.1
    hp = _hp("sam", learning_rate=lr, rho=rho)
    theta = jnp.array([-1.5, 2.0])
    state = spec.optimizer.init(theta)
    params = theta
    for _ in range(5):
        g = jax.grad(valley)(params)
        updates, state, internals = spec.optimizer.update(g, state, params, hp)
        probe = apply_updates(params, updates)
        expected_probe = theta + rho * g / jnp.linalg.norm(g)
        np.testing.assert_allclose(probe, expected_probe, rtol=1e-12)
        np.testing.assert_allclose(internals["probe"], expected_probe, rtol=1e-12)
        np.testing.assert_allclose(internals["anchor"], theta, rtol=1e-12)
        g_probe = jax.grad(valley)(probe)
        updates, state, internals = spec.optimizer.update(g_probe, state, probe, hp)
        params = apply_updates(probe, updates)
        np.testing.assert_allclose(params, theta - lr * g_probe, rtol=1e-12)
        np.testing.assert_allclose(internals["anchor"], params, rtol=1e-12)
        np.testing.assert_allclose(internals["probe"], probe, rtol=1e-12)
        theta = params


def test_lookahead_fast_weights_restart_from_slow_every_k_steps():
    spec = SPECS["lookahead_adam"]
    hp = _hp("lookahead_adam", sync_period=4.0, slow_step_size=0.5)
    params = jnp.array([-1.5, 2.0])
    state = spec.optimizer.init(params)
    slow = params
    for t in range(1, 13):
        updates, state, internals = spec.optimizer.update(jax.grad(valley)(params), state, params, hp)
        params = apply_updates(params, updates)
        np.testing.assert_allclose(internals["fast"], params, rtol=1e-12)
        if t % 4 == 0:
            np.testing.assert_allclose(params, internals["slow"], rtol=1e-12)
            assert not np.allclose(internals["slow"], slow)
        else:
            np.testing.assert_allclose(internals["slow"], slow, rtol=1e-12)
        slow = internals["slow"]


# --------------------------------------------------------------------------------------------
# The contract every rule keeps
# --------------------------------------------------------------------------------------------


def _far_value(name: str, hp_name: str, base: dict[str, float]) -> float:
    h = SPECS[name].hyperparam(hp_name)
    value = base[hp_name]
    return h.high if h.high - value >= value - h.low else h.low


@pytest.mark.parametrize("name", NAMES)
def test_new_values_do_not_retrace_and_every_value_matters(name):
    traces = []
    opt = SPECS[name].optimizer

    @jax.jit
    def run(hp, params):
        traces.append(1)  # runs only while tracing

        def step(k, carry):
            params, state = carry
            grads = jax.tree.map(lambda p: jnp.sin(3.0 * p + 2.0 * k) * 1e-2 + 0.01 * p, params)
            updates, state, _ = opt.update(grads, state, params, hp)
            return apply_updates(params, updates), state

        return jax.lax.fori_loop(0, 12, step, (params, opt.init(params)))[0]

    params = {"w": jnp.array([[0.5, -1.0], [2.0, 0.1]]), "b": jnp.array([1.0, -3.0, 0.2])}
    # Prodigy with a larger d₀ and Adan with a bigger ε̄, so that every value shows in 12 steps
    base = _hp(
        name,
        **{
            "prodigy": {"estim_lr0": 1e-2},
            "adan": {"eps_root": 1e-3},
            "schedule_free_adamw": {"weight_decay": 0.05},
        }.get(name, {}),
    )
    base_result = run(base, params)
    for hp_name in base:
        changed = dict(base, **{hp_name: _far_value(name, hp_name, base)})
        result = run(changed, params)
        differs = any(
            not np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(result), jax.tree.leaves(base_result), strict=True)
        )
        assert differs, f"{name}: changing {hp_name} changed nothing"
    assert len(traces) == 1, f"{name} was traced {len(traces)} times"


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_complete_and_symbols_are_in_the_latex(name):
    spec = SPECS[name]
    assert spec.label and spec.description and spec.reference
    assert spec.latex.startswith(r"\begin{aligned}") and spec.latex.endswith(r"\end{aligned}")
    assert r"\theta_t" in spec.latex
    names = [h.name for h in spec.hyperparams]
    assert names[0] == "learning_rate" and len(set(names)) == len(names)
    for h in spec.hyperparams:
        assert h.symbol in spec.latex, f"{h.name}: {h.symbol} not in the latex"
        assert h.help and h.low < h.high and h.kind == "float", h.name
        low, high = h.valid_range
        assert low <= h.default <= high and low <= h.low and h.high <= high, h.name
    lr = spec.hyperparam("learning_rate")
    assert lr.log and lr.valid_range[0] > 0 and lr.valid_range[1] == 100.0


@pytest.mark.parametrize("name", NAMES)
def test_update_reads_exactly_the_declared_hyperparameters(name):
    class Recording(dict):
        read: set[str] = set()

        def __getitem__(self, key):
            self.read.add(key)
            return super().__getitem__(key)

    Recording.read = set()
    opt = SPECS[name].optimizer
    params = jnp.array([1.0, 2.0])
    hp = Recording(_hp(name))
    opt.update(jnp.array([0.1, -0.2]), opt.init(params), params, hp)
    assert Recording.read == set(hp)
    incomplete = {k: v for k, v in _hp(name).items() if k != "learning_rate"}
    with pytest.raises(KeyError, match="learning_rate"):
        opt.update(jnp.array([0.1, -0.2]), opt.init(params), params, incomplete)


@pytest.mark.parametrize("name", NAMES)
def test_internals_are_known_keys_shaped_like_params(name):
    opt = SPECS[name].optimizer
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    grads = {"w": jnp.full((2, 3), 0.5), "b": jnp.full(3, -0.25)}
    _, _, internals = opt.update(grads, opt.init(params), params, _hp(name))
    assert internals and set(internals) <= set(INTERNAL_KEYS) | set(MODERN_INTERNAL_KEYS)
    for key, value in internals.items():
        assert jax.tree.structure(value) == jax.tree.structure(params), key
        for leaf, p in zip(jax.tree.leaves(value), jax.tree.leaves(params), strict=True):
            assert leaf.shape == p.shape, key


def test_internals_cover_what_the_app_draws():
    keys = {
        name: set(
            SPECS[name].optimizer.update(
                jnp.array([0.1, -0.2]), SPECS[name].optimizer.init(jnp.zeros(2)), jnp.zeros(2), _hp(name)
            )[2]
        )
        for name in NAMES
    }
    assert {"z", "y", "x"} <= keys["schedule_free_sgd"] and {"z", "y", "x"} <= keys["schedule_free_adamw"]
    assert "d" in keys["prodigy"]
    assert {"slow", "fast"} <= keys["lookahead_adam"]
    assert {"probe", "anchor"} <= keys["sam"]


def test_prodigy_float32_follows_float64_on_a_real_loss():
    """500 steps on the valley, gradients from the params themselves (as the engine takes them):
    float32 stays within 1e-3 of float64, relative to the step length (test_numerics checks the
    other optimizers on a fixed gradient stream, which Prodigy's estimate cannot follow)."""

    def run(dtype):
        spec = SPECS["prodigy"]
        hp = {k: jnp.asarray(v, dtype) for k, v in _hp("prodigy").items()}
        opt = spec.optimizer

        def body(carry, _):
            params, state = carry
            updates, state, internals = opt.update(jax.grad(valley)(params), state, params, hp)
            return (params + updates, state), (params + updates, internals["d"][0])

        start = jnp.asarray([-1.5, 2.0], dtype)
        return jax.lax.scan(body, (start, opt.init(start)), None, length=500)[1]

    path64, d64 = (np.asarray(a) for a in run(jnp.float64))
    with jax.enable_x64(False):
        path32, d32 = (np.asarray(a, np.float64) for a in run(jnp.float32))
    assert np.isfinite(path64).all() and np.isfinite(path32).all()
    np.testing.assert_allclose(d32, d64, rtol=1e-3)
    steps = np.linalg.norm(np.diff(path64, axis=0, prepend=[[-1.5, 2.0]]), axis=-1)
    gap = np.linalg.norm(path32 - path64, axis=-1)
    # the gap against the path's own scale: after 500 steps, a small multiple of the step length
    assert gap.max() <= 1e-3 * max(1.0, float(np.abs(path64).max())), (gap.max(), steps.max())


@pytest.mark.parametrize("name", NAMES)
def test_init_state_shares_no_buffers(name):
    """A training loop that donates the state fails on one buffer held twice (Yogi's m and v)."""
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    leaves = [leaf for leaf in jax.tree.leaves(SPECS[name].optimizer.init(params)) if leaf.ndim]
    assert len({id(leaf) for leaf in leaves}) == len(leaves)
    assert not {id(leaf) for leaf in leaves} & {id(p) for p in jax.tree.leaves(params)}


# --------------------------------------------------------------------------------------------
# Through the engine: registered, internals recorded, no recompile for new values
# --------------------------------------------------------------------------------------------

_DRAWN = {
    "schedule_free_sgd": ("z", "y", "x"),
    "schedule_free_adamw": ("z", "y", "x"),
    "prodigy": ("d",),
    "yogi": ("m", "v"),
    "adan": ("m", "v"),
    "lookahead_adam": ("slow", "fast"),
    "sam": ("probe", "anchor"),
}


def test_engine_records_the_internals_and_does_not_recompile():
    from optim_core import OPTIMIZERS
    from optim_core.engine import RunConfig, run_batch, trace_count

    with jax.enable_x64(False):
        assert all(OPTIMIZERS[name] is SPECS[name] for name in NAMES)
        configs = [RunConfig(name) for name in NAMES]
        trajectories = run_batch("rosenbrock", configs, steps=200, noise=0.0)
        for name, trajectory in zip(NAMES, trajectories, strict=True):
            assert trajectory.diverged_at is None, name
            assert trajectory.loss[-1] < trajectory.loss[0], name
            for key in _DRAWN[name]:
                values = trajectory.internals[key]
                assert values.shape == (200, 2) and np.isfinite(values).all(), (name, key)
        by_name = dict(zip(NAMES, trajectories, strict=True))
        sf = by_name["schedule_free_sgd"]
        np.testing.assert_allclose(sf.internals["y"], sf.path[1:], rtol=1e-6)
        lookahead = by_name["lookahead_adam"]
        np.testing.assert_allclose(lookahead.internals["fast"], lookahead.path[1:], rtol=1e-6)
        np.testing.assert_allclose(lookahead.path[5], lookahead.internals["slow"][4], rtol=1e-6)
        d = by_name["prodigy"].internals["d"][:, 0]
        assert (np.diff(d) >= 0).all() and d[-1] > 100 * d[0]
        sam_run = by_name["sam"]
        np.testing.assert_allclose(sam_run.path[1::2], sam_run.internals["probe"][0::2], rtol=1e-6)
        # new hyperparameter values: the same compiled program
        before = trace_count()
        changed = [
            RunConfig(
                name,
                {
                    h.name: (h.low + h.high) / 2 if not h.log else h.low * 10
                    for h in SPECS[name].hyperparams[1:]
                },
            )
            for name in NAMES
        ]
        run_batch("rosenbrock", changed, steps=200, noise=0.0)
        assert trace_count() == before
