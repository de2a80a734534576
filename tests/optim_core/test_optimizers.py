"""The registry's optimizers against optax's own, plus the contract every spec promises.

Trajectories are compared over whole runs (scan, float32, 200 steps) on small test functions,
from several starts and with several hyperparameter sets, vmapped so that each case compiles
once. optax is built inside the jitted function from the same traced hyperparameters, so both
sides do the same float32 arithmetic.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optim_core import INTERNAL_KEYS, OPTIMIZERS, apply_updates
from optim_core.optimizers_modern import MODERN_SPECS
from optim_core.presets import resolve_hparams

REGISTRY_ORDER = [
    "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
    "amsgrad", "adamax", "nadam", "radam", "adabelief", "lion",
]  # fmt: skip

# --------------------------------------------------------------------------------------------
# Test functions: (loss, starts); starts is a pytree whose leaves have a leading batch axis.
# --------------------------------------------------------------------------------------------


def rosenbrock(p):
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


_ANGLE = math.pi / 6
_ROTATION = jnp.array(
    [[math.cos(_ANGLE), -math.sin(_ANGLE)], [math.sin(_ANGLE), math.cos(_ANGLE)]], jnp.float32
)
_HESSIAN = _ROTATION @ jnp.diag(jnp.array([1.0, 25.0])) @ _ROTATION.T


def rotated_quadratic(p):
    """Condition number 25, axes rotated 30°, minimum at (1, −0.5)."""
    z = p - jnp.array([1.0, -0.5])
    return 0.5 * z @ _HESSIAN @ z


def saddle(p):
    return p[0] ** 2 - p[1] ** 2


_W_SCALE = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def two_leaves(p):
    """Leaves of shapes (2, 3) and (3,), coupled through a tanh."""
    w, b = p["w"], p["b"]
    return jnp.sum(_W_SCALE * (w - 0.5) ** 2) + jnp.sum((b - jnp.tanh(w[0])) ** 2) + 0.5 * jnp.sum(b**4)


# Three starts each (leading axis of every leaf).
SURFACES = {
    "rosenbrock": (rosenbrock, jnp.array([[-1.5, 2.0], [0.5, -0.5], [-1.0, 0.5]])),
    "quadratic": (rotated_quadratic, jnp.array([[2.0, 2.0], [-3.0, 1.0], [0.0, -2.0]])),
    "saddle": (saddle, jnp.array([[1.0, 1e-3], [-0.5, 0.2], [0.3, -0.05]])),
    "pytree": (
        two_leaves,
        {
            "w": jnp.array(
                [
                    [[-1.0, 0.0, 1.0], [2.0, -2.0, 0.3]],
                    [[0.1, 0.2, 0.3], [1.0, 1.0, 1.0]],
                    [[0.5, -0.5, 1.5], [0.0, 0.7, -1.2]],
                ]
            ),
            "b": jnp.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.7], [-0.3, 0.3, 1.1]]),
        },
    ),
}
STEPS = 200


_PLANAR = ("rosenbrock", "quadratic", "saddle")


def _pack(by_surface: dict) -> dict:
    """The three 2D points as rows of one (3, 2) leaf, beside the two-leaf pytree."""
    planar = jnp.stack([by_surface[name] for name in _PLANAR], axis=-2)
    return {"planar": planar, "pytree": by_surface["pytree"]}


def _unpack(packed: dict) -> dict:
    by_surface = {name: packed["planar"][..., i, :] for i, name in enumerate(_PLANAR)}
    return {**by_surface, "pytree": packed["pytree"]}


def all_surfaces(packed):
    """The four losses on separate coordinates of one pytree, summed.

    Every optimizer here acts coordinate by coordinate, so one run on the sum is exactly one
    run per surface, for the compile cost of a single small scan.
    """
    planar = sum(SURFACES[name][0](packed["planar"][i]) for i, name in enumerate(_PLANAR))
    return planar + two_leaves(packed["pytree"])


# --------------------------------------------------------------------------------------------
# The optax counterpart of each registry entry. `hp` holds traced values; options optax takes
# as Python values (booleans, momentum None) come from the case's fixed settings.
# --------------------------------------------------------------------------------------------


def optax_counterpart(name: str, hp: dict, fixed: dict) -> optax.GradientTransformation:
    lr = hp["learning_rate"]
    adam_args = (lr, hp.get("b1"), hp.get("b2"), hp.get("eps"))
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=hp["momentum"])
    if name == "nesterov":
        return optax.sgd(lr, momentum=hp["momentum"], nesterov=True)
    if name == "adagrad":
        return optax.adagrad(lr, hp["initial_accumulator_value"], hp["eps"])
    if name == "adadelta":
        return optax.adadelta(lr, hp["rho"], hp["eps"], weight_decay=hp["weight_decay"])
    if name == "rmsprop":
        return optax.rmsprop(
            lr, hp["decay"], hp["eps"], hp["initial_scale"],
            eps_in_sqrt=bool(fixed["eps_inside"]), centered=bool(fixed["centered"]),
            momentum=hp["momentum"] if fixed.get("momentum_on") else None,
            nesterov=bool(fixed["nesterov"]), bias_correction=bool(fixed["bias_correction"]),
        )  # fmt: skip
    if name == "adam":
        return optax.adam(*adam_args, eps_root=hp["eps_root"])
    if name == "adamw":
        return optax.adamw(*adam_args, eps_root=hp["eps_root"], weight_decay=hp["weight_decay"])
    if name == "amsgrad":
        return optax.amsgrad(*adam_args, eps_root=hp["eps_root"])
    if name == "adamax":
        return optax.adamax(*adam_args)
    if name == "nadam":
        return optax.nadam(*adam_args, eps_root=hp["eps_root"])
    if name == "radam":
        return optax.radam(*adam_args, eps_root=hp["eps_root"], threshold=hp["threshold"])
    if name == "adabelief":
        return optax.adabelief(*adam_args, eps_root=hp["eps_root"])
    if name == "lion":
        return optax.lion(lr, hp["b1"], hp["b2"], weight_decay=hp["weight_decay"])
    raise AssertionError(name)


# Hyperparameter sets per optimizer (overrides of the defaults), run side by side.
VARIANTS: dict[str, list[dict[str, float]]] = {
    "sgd": [{}, {"learning_rate": 5e-4}],
    "momentum": [{}, {"learning_rate": 5e-4, "momentum": 0.5}],
    "nesterov": [{}, {"learning_rate": 5e-4, "momentum": 0.5}],
    "adagrad": [{}, {"learning_rate": 0.3, "initial_accumulator_value": 0.0, "eps": 1e-3}],
    "adadelta": [{}, {"rho": 0.95, "eps": 1e-4, "weight_decay": 0.01}],
    "rmsprop": [{}, {"learning_rate": 3e-3, "decay": 0.99, "eps": 1e-4, "initial_scale": 1.0}],
    "adam": [{}, {"learning_rate": 0.01, "b1": 0.5, "b2": 0.99, "eps": 1e-3, "eps_root": 1e-8}],
    "adamw": [{}, {"b1": 0.8, "weight_decay": 0.1}],
    "amsgrad": [{}, {"learning_rate": 0.02, "b2": 0.9, "eps_root": 1e-6}],
    "adamax": [{}, {"b2": 0.9, "eps": 1e-3}],
    "nadam": [{}, {"b1": 0.95, "b2": 0.99, "eps": 1e-5}],
    "radam": [{}, {"learning_rate": 0.002, "b2": 0.99, "threshold": 10.0}],
    "adabelief": [{}, {"b1": 0.8, "eps": 1e-8, "eps_root": 0.0}],
    "lion": [{}, {"b1": 0.95, "b2": 0.98, "weight_decay": 0.1}],
}

# (optimizer, case id, settings fixed for every set: switches, and momentum where optax
# needs to know statically whether it is on)
_RMSPROP_OFF = {"eps_inside": 1.0, "centered": 0.0, "nesterov": 0.0, "bias_correction": 0.0}
CASES = [(name, "", {}) for name in REGISTRY_ORDER if name != "rmsprop"] + [
    ("rmsprop", "plain", _RMSPROP_OFF),
    ("rmsprop", "centered", {**_RMSPROP_OFF, "centered": 1.0}),
    ("rmsprop", "momentum", {**_RMSPROP_OFF, "momentum_on": True}),
    # (centered with bias correction divides by a zero variance at step 1, in optax too)
    (
        "rmsprop", "nesterov-eps-outside-bias-corrected",
        {**_RMSPROP_OFF, "eps_inside": 0.0, "nesterov": 1.0, "bias_correction": 1.0,
         "momentum_on": True},
    ),
]  # fmt: skip


def _hparam_batch(name: str, fixed: dict) -> dict[str, jax.Array]:
    """The variants as one dict of float32 arrays with a leading batch axis."""
    switches = {k: v for k, v in fixed.items() if k != "momentum_on"}
    momentum = {}
    if name == "rmsprop":
        momentum = {"momentum": 0.6} if fixed.get("momentum_on") else {"momentum": 0.0}
    sets = [resolve_hparams(name, {**variant, **switches, **momentum}) for variant in VARIANTS[name]]
    return {k: jnp.array([s[k] for s in sets], jnp.float32) for k in sets[0]}


def _lr_factor(step):
    """A learning rate that changes every step (0.5x to 1.5x), as a schedule would."""
    return 1.0 + 0.5 * jnp.sin(step / 7.0)


def _along_optax_path(name, fixed, hp, loss, start, steps):
    """optax's path, and our optimizer's next point from each point of it.

    Both optimizers carry their own state through the whole run and receive the same gradient
    and parameters at every step. Comparing free-running paths instead would test XLA's
    fusion choices: a last-bit difference in one step is amplified by dynamics that bounce
    (RMSprop near a minimum, Lion) until the paths visibly part, whatever the math.

    The learning rate varies per step: optax gets it as a schedule (evaluated at its step
    count), we get the value in force, as the engine passes it. That also pins down where
    the learning rate enters (e.g. RMSprop's momentum acts on the α-scaled step).
    """
    opt = OPTIMIZERS[name].optimizer
    base_lr = hp["learning_rate"]
    tx = optax_counterpart(name, dict(hp, learning_rate=lambda count: base_lr * _lr_factor(count)), fixed)

    def body(carry, step):
        params, ours, theirs = carry
        grads = jax.grad(loss)(params)
        hp_now = dict(hp, learning_rate=base_lr * _lr_factor(step))
        our_updates, ours, _ = opt.update(grads, ours, params, hp_now)
        their_updates, theirs = tx.update(grads, theirs, params)
        our_next = apply_updates(params, our_updates)
        their_next = optax.apply_updates(params, their_updates)
        return (their_next, ours, theirs), (our_next, their_next)

    carry = (start, opt.init(start), tx.init(start))
    return jax.lax.scan(body, carry, jnp.arange(steps, dtype=jnp.int32))[1]


@functools.partial(jax.jit, static_argnames=("name", "fixed_items"))
def _runs(hp_batch, starts, *, name, fixed_items):
    """(ours, optax's) next points, batched over hyperparameter sets, then starts."""

    def run(hp, start):
        return _along_optax_path(name, dict(fixed_items), hp, all_surfaces, start, STEPS)

    batched = jax.vmap(jax.vmap(run, in_axes=(None, 0)), in_axes=(0, None))
    ours, theirs = batched(hp_batch, _pack(starts))
    return _unpack(ours), _unpack(theirs)


@pytest.mark.parametrize(
    ("name", "fixed"),
    [(n, f) for n, _, f in CASES],
    ids=[n + (f"-{c}" if c else "") for n, c, _ in CASES],
)
def test_trajectory_matches_optax(name, fixed):
    starts = {surface: start for surface, (_, start) in SURFACES.items()}
    ours, theirs = _runs(
        _hparam_batch(name, fixed), starts, name=name, fixed_items=tuple(sorted(fixed.items()))
    )
    for surface in SURFACES:
        for leaf_ours, leaf_theirs, leaf_start in zip(
            jax.tree.leaves(ours[surface]),
            jax.tree.leaves(theirs[surface]),
            jax.tree.leaves(starts[surface]),
            strict=True,
        ):
            leaf_ours, leaf_theirs = np.asarray(leaf_ours), np.asarray(leaf_theirs)
            # NaN on both sides would compare equal: every run here must stay finite and move.
            assert np.isfinite(leaf_theirs).all(), f"{surface}: optax's run diverged"
            distance = np.abs(leaf_theirs[:, :, -1] - np.asarray(leaf_start)[None])
            moved = distance.reshape(distance.shape[0], distance.shape[1], -1).max(axis=-1)
            assert moved.min() > 1e-3, f"{surface}: a run does not move"
            scale = max(1.0, float(np.abs(leaf_theirs).max()))
            np.testing.assert_allclose(leaf_ours, leaf_theirs, rtol=1e-5, atol=1e-6 * scale, err_msg=surface)


# --------------------------------------------------------------------------------------------
# What the internals mean: update = −step_size · (the direction it multiplies)
# --------------------------------------------------------------------------------------------

_DIRECTION_OF_STEP = {
    "sgd": "g", "momentum": "m", "adagrad": "g", "adadelta": "g", "rmsprop": "g",
    "adam": "m_hat", "amsgrad": "m_hat", "adamax": "m_hat", "nadam": "m_hat",
    "radam": "m_hat", "adabelief": "m_hat",
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "overrides"),
    [(name, {}) for name in _DIRECTION_OF_STEP] + [("adam", {"eps_hat": 1.0})],
    ids=list(_DIRECTION_OF_STEP) + ["adam-eps_hat"],
)
def test_internals_step_size_times_direction_is_the_update(name, overrides):
    spec = OPTIMIZERS[name]
    hp = resolve_hparams(name, overrides)
    params = jnp.array([0.3, -2.0])
    state = spec.optimizer.init(params)
    rng = np.random.default_rng(0)
    for _ in range(8):  # past RAdam's threshold, so both of its branches run
        g = jnp.asarray(rng.normal(size=2) * np.array([1e-3, 5.0]), jnp.float32)
        updates, state, internals = spec.optimizer.update(g, state, params, hp)
        direction = g if _DIRECTION_OF_STEP[name] == "g" else internals[_DIRECTION_OF_STEP[name]]
        np.testing.assert_allclose(updates, -internals["step_size"] * direction, rtol=1e-5)
        params = params + updates


def test_internals_of_lion_and_adamw():
    params = jnp.array([0.3, -2.0])
    g = jnp.array([1e-3, -4.0])
    for name in ("lion", "adamw"):
        spec = OPTIMIZERS[name]
        hp = resolve_hparams(name)
        updates, _, internals = spec.optimizer.update(g, spec.optimizer.init(params), params, hp)
        decay = hp["learning_rate"] * hp["weight_decay"] * params
        direction = jnp.sign(g) if name == "lion" else internals["m_hat"]
        np.testing.assert_allclose(updates, -internals["step_size"] * direction - decay, rtol=1e-5)


@pytest.mark.parametrize("name", REGISTRY_ORDER)
def test_internals_are_shaped_like_params(name):
    opt = OPTIMIZERS[name].optimizer
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    grads = {"w": jnp.full((2, 3), 0.5), "b": jnp.array([1.0, -1.0, 0.0])}
    _, state, internals = opt.update(grads, opt.init(params), params, resolve_hparams(name))
    assert internals and set(internals) <= set(INTERNAL_KEYS)
    assert "step_size" in internals
    for value in internals.values():
        assert jax.tree.structure(value) == jax.tree.structure(params)
        for leaf, param in zip(jax.tree.leaves(value), jax.tree.leaves(params), strict=True):
            assert leaf.shape == param.shape and bool(jnp.all(jnp.isfinite(leaf)))
    assert int(state.count) == 1


# --------------------------------------------------------------------------------------------
# Switches and values the optax comparison cannot reach
# --------------------------------------------------------------------------------------------


def _first_step(name: str, g: float, **overrides: float) -> float:
    opt = OPTIMIZERS[name].optimizer
    params = jnp.zeros(1)
    updates, _, _ = opt.update(jnp.array([g]), opt.init(params), params, resolve_hparams(name, overrides))
    return float(updates[0])


def test_adam_without_bias_correction_takes_the_raw_moments():
    # m = (1−β₁)g, v = (1−β₂)g²: the step is α·0.1/√0.001 ≈ 3.16·α instead of α
    lr = 0.01
    step = _first_step("adam", 2.0, learning_rate=lr, bias_correction=0.0, eps=0.0)
    assert step == pytest.approx(-lr * 0.1 / math.sqrt(0.001), rel=1e-5)
    assert _first_step("adam", 2.0, learning_rate=lr, eps=0.0) == pytest.approx(-lr, rel=1e-5)


def test_adam_eps_hat_first_step_at_tiny_gradient():
    # design.md: at g = 1e-6 the first step is about 0.99·α (ε outside √v̂) and 0.24·α (ε-hat)
    lr = 0.001
    optax_form = _first_step("adam", 1e-6, learning_rate=lr)
    keras_form = _first_step("adam", 1e-6, learning_rate=lr, eps=1e-7, eps_hat=1.0)
    assert -optax_form / lr == pytest.approx(1e-6 / (1e-6 + 1e-8), rel=1e-5)  # 0.990
    # α·√(1−β₂)/(1−β₁) · m/(√v + ε) = α·0.3162 · 1e-7/(3.162e-8 + 1e-7)
    expected = math.sqrt(1e-3) / 0.1 * 1e-7 / (math.sqrt(1e-15) + 1e-7)
    assert -keras_form / lr == pytest.approx(expected, rel=1e-5)
    assert round(-keras_form / lr, 2) == 0.24 and round(-optax_form / lr, 2) == 0.99


def test_adagrad_eps_outside_and_zero_accumulator():
    # PyTorch form: g / (√(g²) + ε); a zero accumulator and zero gradient give a zero step
    step = _first_step(
        "adagrad", 0.5, learning_rate=0.1, initial_accumulator_value=0.0, eps=0.1, eps_inside=0.0
    )
    assert step == pytest.approx(-0.1 * 0.5 / (0.5 + 0.1), rel=1e-6)
    zero = _first_step("adagrad", 0.0, initial_accumulator_value=0.0, eps=0.0, eps_inside=0.0)
    assert zero == 0.0


# --------------------------------------------------------------------------------------------
# No recompilation when any hyperparameter changes, and each one has an effect
# --------------------------------------------------------------------------------------------


def _far_value(name: str, hp_name: str, base: dict[str, float]) -> float:
    """The other state of a switch, or the end of the slider farther from the base value."""
    spec = OPTIMIZERS[name].hyperparam(hp_name)
    if spec.kind == "bool":
        return 1.0 - base[hp_name]
    value = base[hp_name]
    return spec.high if spec.high - value >= value - spec.low else spec.low


# Base values where every hyperparameter can show an effect: RMSprop's nesterov needs momentum,
# Adagrad's ε placement needs an ε comparable to the accumulator.
_EFFECT_BASE = {
    "rmsprop": {"momentum": 0.5},
    "adagrad": {"eps": 0.01},
    "adamax": {"eps": 0.01},
    "nadam": {"momentum_schedule": 1.0},
    "radam": {"eps": 0.01},
}


@pytest.mark.parametrize("name", REGISTRY_ORDER)
def test_new_values_do_not_retrace_and_every_value_matters(name):
    traces = []
    opt = OPTIMIZERS[name].optimizer

    @jax.jit
    def run(hp, params):
        traces.append(1)  # runs only while tracing

        def step(k, carry):
            params, state = carry
            # gradients that change sign between steps, of mixed sizes
            grads = jax.tree.map(lambda p: jnp.sin(3.0 * p + 2.0 * k) * 1e-2 + 0.01 * p, params)
            updates, state, _ = opt.update(grads, state, params, hp)
            return apply_updates(params, updates), state

        return jax.lax.fori_loop(0, 8, step, (params, opt.init(params)))[0]  # past RAdam's ρ=5

    params = {"w": jnp.array([[0.5, -1.0], [2.0, 0.1]]), "b": jnp.array([1.0, -3.0, 0.2])}
    base = resolve_hparams(name, _EFFECT_BASE.get(name))
    base_result = run(base, params)
    for hp_name in base:
        changed = dict(base, **{hp_name: _far_value(name, hp_name, base)})
        result = run(resolve_hparams(name, changed), params)
        differs = any(
            not np.array_equal(a, b)
            for a, b in zip(jax.tree.leaves(result), jax.tree.leaves(base_result), strict=True)
        )
        assert differs, f"{name}: changing {hp_name} changed nothing"
    assert len(traces) == 1, f"{name} was traced {len(traces)} times"


# --------------------------------------------------------------------------------------------
# The specs
# --------------------------------------------------------------------------------------------


def test_registry_names_and_order():
    # the 2026 optimizers follow (tested against optax in test_optimizers_modern.py)
    assert list(OPTIMIZERS) == REGISTRY_ORDER + [spec.name for spec in MODERN_SPECS]
    assert all(spec.name == key for key, spec in OPTIMIZERS.items())


@pytest.mark.parametrize("name", REGISTRY_ORDER)
def test_spec_is_complete(name):
    spec = OPTIMIZERS[name]
    assert spec.label and spec.description and spec.reference
    assert r"\begin{aligned}" in spec.latex and r"\theta_t" in spec.latex
    names = [h.name for h in spec.hyperparams]
    assert names[0] == "learning_rate" and len(set(names)) == len(names)
    for h in spec.hyperparams:
        assert h.symbol and h.help, h.name
        assert h.low < h.high, h.name
        low, high = h.valid_range
        assert low <= h.default <= high, h.name
        assert h.kind in ("float", "bool")
        if h.kind == "bool":
            assert h.default in (0.0, 1.0)
            # every switch appears in the equations as a condition: "if <symbol>"
            assert rf"\text{{if }} {h.symbol}" in spec.latex, f"{h.name}: {h.symbol} not in the latex"
        else:
            # the equations use the same symbols as the sliders
            assert h.symbol in spec.latex, f"{h.name}: {h.symbol} not in the latex"
        if h.name in ("learning_rate", "eps"):
            assert h.log and h.low > 0, h.name
    lr = spec.hyperparam("learning_rate")
    assert lr.valid_range[0] > 0 and lr.valid_range[1] == 100.0


class _Recording(dict):
    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize("name", REGISTRY_ORDER)
def test_update_reads_exactly_the_declared_hyperparameters(name):
    opt = OPTIMIZERS[name].optimizer
    params = jnp.array([1.0, 2.0])
    hp = _Recording(resolve_hparams(name))
    opt.update(jnp.array([0.1, -0.2]), opt.init(params), params, hp)
    assert hp.read == set(hp)
    incomplete = dict(resolve_hparams(name))
    del incomplete["learning_rate"]
    with pytest.raises(KeyError, match="learning_rate"):
        opt.update(jnp.array([0.1, -0.2]), opt.init(params), params, incomplete)


def test_adadelta_learning_rate_defaults_to_one():
    assert OPTIMIZERS["adadelta"].defaults["learning_rate"] == 1.0


def test_lion_defaults_follow_optax():
    assert {k: v for k, v in OPTIMIZERS["lion"].defaults.items() if k != "learning_rate"} == {
        "b1": 0.9, "b2": 0.99, "weight_decay": 1e-3,
    }  # fmt: skip


# --------------------------------------------------------------------------------------------
# The equations shown compute what the code computes
# --------------------------------------------------------------------------------------------


def _documented_adam_first_step(g, lr, b1, b2, eps, bias_correction, eps_hat):
    """The first Adam step as _ADAM_LATEX writes it: c_{k,t} = 1 − β_k^t if bc, else 1;
    θ_t = θ_{t−1} − α·m̂/(√v̂ + ε), or with ε̂: −α·(√c₂/c₁)·m/(√v + ε) (ε̄ = 0)."""
    m, v = (1 - b1) * g, (1 - b2) * g * g
    c1, c2 = (1 - b1, 1 - b2) if bias_correction else (1.0, 1.0)
    if eps_hat:
        return -lr * math.sqrt(c2) / c1 * m / (math.sqrt(v) + eps)
    return -lr * (m / c1) / (math.sqrt(v / c2) + eps)


@pytest.mark.parametrize("name", ["adam", "adamw"])
@pytest.mark.parametrize(("bias_correction", "eps_hat"), [(1, 0), (1, 1), (0, 0), (0, 1)])
def test_documented_adam_rule_is_the_code(name, bias_correction, eps_hat):
    latex = OPTIMIZERS[name].latex
    # the lines the documented step above is read from
    assert r"1-\beta_k^t & \text{if } \text{bc}" in latex and r"1 & \text{otherwise}" in latex
    assert r"\frac{\sqrt{c_{2,t}}}{c_{1,t}}\, m_t / (\sqrt{v_t + \bar\epsilon} + \epsilon)" in latex
    assert r"\text{if } \hat\epsilon" in latex
    lr, g = 0.01, 2.0
    for eps in (0.0, 1e-3):
        overrides = dict(learning_rate=lr, eps=eps, bias_correction=bias_correction, eps_hat=eps_hat)
        if name == "adamw":
            overrides["weight_decay"] = 0.0
        ours = _first_step(name, g, **overrides)
        documented = _documented_adam_first_step(g, lr, 0.9, 0.999, eps, bias_correction, eps_hat)
        assert ours == pytest.approx(documented, rel=1e-5), (eps, ours, documented)
    # the case a careful teacher tried: ε-hat on, bias correction off gives 3.162·α, and so does
    # the rule on screen (c₁ = c₂ = 1)
    if not bias_correction and eps_hat:
        assert -_first_step(
            name,
            g,
            learning_rate=lr,
            eps=0.0,
            bias_correction=0.0,
            eps_hat=1.0,
            **({"weight_decay": 0.0} if name == "adamw" else {}),
        ) / lr == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-5)


def test_documented_first_steps_of_the_new_switches():
    """AMSGrad, Adamax, NAdam and RAdam at step 1, from their equations."""
    lr, g = 0.01, 0.5
    m, v = 0.1 * g, 0.001 * g * g
    # AMSGrad: raw or corrected max agree at step 1; ε-hat moves ε to the uncorrected root
    eps = 1e-3
    assert _first_step("amsgrad", g, learning_rate=lr, eps=eps) == pytest.approx(
        -lr * (m / 0.1) / (math.sqrt(v / 0.001) + eps), rel=1e-5
    )
    assert _first_step("amsgrad", g, learning_rate=lr, eps=eps, eps_hat=1.0, max_raw=1.0) == pytest.approx(
        -lr * math.sqrt(0.001) / 0.1 * m / (math.sqrt(v) + eps), rel=1e-5
    )
    # Adamax: v₁ = |g| + ε, or (ε_out) v₁ = |g| and ε in the denominator: the same at step 1,
    # different afterwards (checked against the frameworks)
    assert _first_step("adamax", g, learning_rate=lr, eps=eps) == pytest.approx(-lr * g / (g + eps), rel=1e-5)
    # NAdam with the schedule: μ_k = β₁(1 − ½·0.96^{kψ})
    psi = 1.0
    mu1, mu2 = 0.9 * (1 - 0.5 * 0.96**psi), 0.9 * (1 - 0.5 * 0.96 ** (2 * psi))
    m_hat = mu2 * m / (1 - mu1 * mu2) + (1 - mu1) * g / (1 - mu1)
    expected = -lr * m_hat / (math.sqrt(v / 0.001) + 1e-8)
    got = _first_step("nadam", g, learning_rate=lr, momentum_schedule=1.0, momentum_decay=psi)
    assert got == pytest.approx(expected, rel=1e-5)
    # without it, optax's β₁·m/(1−β₁²) + (1−β₁)·g/(1−β₁)
    m_hat = 0.9 * m / (1 - 0.81) + 0.1 * g / 0.1
    expected = -lr * m_hat / (math.sqrt(v / 0.001) + 1e-8)
    assert _first_step("nadam", g, learning_rate=lr) == pytest.approx(expected, rel=1e-5)
    # RAdam at step 1 (ρ₁ = 1 ≤ 4): −α·m̂, whatever the threshold
    for threshold in (0.0, 5.0):
        step = _first_step("radam", g, learning_rate=lr, threshold=threshold)
        assert step == pytest.approx(-lr * g, rel=1e-6)
