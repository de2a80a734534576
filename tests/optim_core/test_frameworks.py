"""The Keras and PyTorch presets equal the real frameworks, step for step, in float64.

For every optimizer a framework has, the framework's own optimizer (`keras.optimizers.*` on
Keras 3's JAX backend, `torch.optim.*` on CPU) and ours receive the same gradients at the same
points for 200 steps (teacher-forced: the points are our path, so a last-bit difference is not
amplified by the dynamics), and each update must agree to a relative error ≤ 1e-6.

The parameters are a pytree: two surfaces (a scaled Rosenbrock, a rotated ravine), a flat bowl where
gradients are ~1e-6 (there the placement of ε decides the step), a coupled (2, 3) leaf and a
leaf fed random gradients whose scale jumps over five decades (so running maxima and moving
averages are exercised both ways). Every optimizer here acts coordinate by coordinate, so the
frameworks get the flattened vector.

Each preset is checked at the framework's defaults (the framework built with no arguments, so
a wrong preset value fails) and at custom values typed in on both sides, and a deliberately
wrong switch must fail the same comparison (the test can tell).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import functools  # noqa: E402
import math  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from optim_core import FRAMEWORK_OPTIMIZERS, OPTIMIZERS, PRESETS, preset_support, resolve_hparams  # noqa: E402
from optim_core.optimizers_modern import MODERN_SPECS  # noqa: E402

STEPS = 200
RTOL = 1e-6

# (framework, optimizer, our overrides, the framework's constructor arguments, an override
# that must break the match). Empty arguments: the framework's own defaults.
KERAS_CASES = [
    ("sgd", {}, {}, {"learning_rate": 0.001}),
    ("sgd", {"learning_rate": 5e-4}, {"learning_rate": 5e-4}, None),
    ("momentum", {}, {"momentum": 0.9}, {"momentum": 0.5}),
    ("momentum", {"learning_rate": 5e-4, "momentum": 0.5}, {"learning_rate": 5e-4, "momentum": 0.5}, None),
    ("nesterov", {}, {"momentum": 0.9, "nesterov": True}, {"momentum": 0.5}),
    ("nesterov", {"learning_rate": 5e-4, "momentum": 0.5},
     {"learning_rate": 5e-4, "momentum": 0.5, "nesterov": True}, None),
    ("adagrad", {}, {}, {"initial_accumulator_value": 0.0}),
    ("adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3},
     {"learning_rate": 0.05, "initial_accumulator_value": 0.5, "epsilon": 1e-3}, None),
    ("adadelta", {}, {}, {"learning_rate": 1.0}),
    ("adadelta", {"learning_rate": 1.0, "rho": 0.8, "eps": 1e-5},
     {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-5}, None),
    ("rmsprop", {}, {}, {"eps_inside": 0.0}),
    ("rmsprop", {"learning_rate": 0.01, "decay": 0.8, "eps": 1e-5, "momentum": 0.5, "centered": 1.0},
     {"learning_rate": 0.01, "rho": 0.8, "epsilon": 1e-5, "momentum": 0.5, "centered": True},
     {"centered": 0.0}),
    ("adam", {}, {}, {"eps_hat": 0.0}),
    ("adam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}, None),
    ("adamw", {}, {}, {"eps_hat": 0.0}),
    ("adamw", {"learning_rate": 0.01, "b1": 0.8, "eps": 1e-4, "weight_decay": 0.05},
     {"learning_rate": 0.01, "beta_1": 0.8, "epsilon": 1e-4, "weight_decay": 0.05}, None),
    ("amsgrad", {}, {"amsgrad": True}, {"max_raw": 0.0}),
    ("amsgrad", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4, "amsgrad": True}, None),
    ("adamax", {}, {}, {"eps_outside": 0.0}),
    ("adamax", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}, None),
    ("nadam", {}, {}, {"momentum_schedule": 0.0}),
    ("nadam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}, {"momentum_decay": 0.004}),
    ("lion", {}, {}, {"weight_decay": 1e-3}),
    ("lion", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.95},
     {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.95}, None),
]  # fmt: skip

TORCH_CASES = [
    ("sgd", {}, {}, {"learning_rate": 0.01}),
    ("sgd", {"learning_rate": 5e-4}, {"lr": 5e-4}, None),
    ("momentum", {}, {"momentum": 0.9}, {"momentum": 0.5}),
    ("momentum", {"learning_rate": 5e-4, "momentum": 0.5}, {"lr": 5e-4, "momentum": 0.5}, None),
    ("nesterov", {}, {"momentum": 0.9, "nesterov": True}, {"momentum": 0.5}),
    ("nesterov", {"learning_rate": 5e-4, "momentum": 0.5}, {"lr": 5e-4, "momentum": 0.5, "nesterov": True},
     None),
    ("adagrad", {}, {}, {"eps_inside": 1.0}),
    ("adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3},
     {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3}, None),
    ("adadelta", {}, {}, {"learning_rate": 0.001}),
    ("adadelta", {"learning_rate": 0.5, "rho": 0.8, "eps": 1e-5}, {"lr": 0.5, "rho": 0.8, "eps": 1e-5}, None),
    ("rmsprop", {}, {}, {"eps_inside": 1.0}),
    ("rmsprop", {"learning_rate": 0.01, "decay": 0.8, "eps": 1e-5, "momentum": 0.5, "centered": 1.0},
     {"lr": 0.01, "alpha": 0.8, "eps": 1e-5, "momentum": 0.5, "centered": True}, {"centered": 0.0}),
    ("adam", {}, {}, {"eps": 1e-7}),
    ("adam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-4}, {"eps_hat": 1.0}),
    ("adamw", {}, {}, {"weight_decay": 1e-4}),
    ("adamw", {"learning_rate": 0.01, "b1": 0.8, "eps": 1e-4, "weight_decay": 0.05},
     {"lr": 0.01, "betas": (0.8, 0.999), "eps": 1e-4, "weight_decay": 0.05}, None),
    ("amsgrad", {}, {"amsgrad": True}, {"max_raw": 0.0}),
    ("amsgrad", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-4, "amsgrad": True}, None),
    ("adamax", {}, {}, {"eps_outside": 1.0}),
    ("adamax", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-4}, None),
    ("nadam", {}, {}, {"momentum_schedule": 0.0}),
    ("nadam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4, "momentum_decay": 0.01},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-4, "momentum_decay": 0.01}, {"momentum_decay": 1.0}),
    ("radam", {}, {}, {"eps_hat": 0.0}),
    ("radam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-4},
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-4}, None),
]  # fmt: skip

KERAS_CLASSES = {
    "sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "adadelta": "Adadelta",
    "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW", "amsgrad": "Adam", "adamax": "Adamax",
    "nadam": "Nadam", "lion": "Lion",
}  # fmt: skip
TORCH_CLASSES = {
    "sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "adadelta": "Adadelta",
    "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW", "amsgrad": "Adam", "adamax": "Adamax",
    "nadam": "NAdam", "radam": "RAdam",
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# The gradient stream: our path over a pytree (float64)
# --------------------------------------------------------------------------------------------

_C, _S = math.cos(math.pi / 6), math.sin(math.pi / 6)
_RAVINE = np.array([[_C, -_S], [_S, _C]]) @ np.diag([1.0, 25.0]) @ np.array([[_C, _S], [-_S, _C]])
_W_SCALE = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _loss(p):
    # Rosenbrock scaled by 1/100, so that Keras's SGD default (α = 0.01) stays stable on it
    rosen = 0.01 * ((1.0 - p["rosen"][0]) ** 2 + 100.0 * (p["rosen"][1] - p["rosen"][0] ** 2) ** 2)
    z = p["ravine"] - jnp.array([1.0, -0.5])
    ravine = 0.5 * z @ jnp.asarray(_RAVINE) @ z
    tiny = 1e-6 * 0.5 * jnp.sum(jnp.array([1.0, 3.0, 0.3]) * p["tiny"] ** 2)
    coupled = jnp.sum(jnp.asarray(_W_SCALE) * (p["w"] - 0.5) ** 2) + 0.1 * jnp.sum(jnp.tanh(p["w"][0]) ** 2)
    return rosen + ravine + tiny + coupled


def _start_and_noise(seed: int = 0):
    rng = np.random.default_rng(seed)
    start = {
        "rosen": np.array([-1.5, 2.0]),
        "ravine": np.array([2.0, 2.0]),
        "tiny": np.array([1.0, -1.0, 0.5]),
        "w": rng.normal(size=(2, 3)),
        "noise": rng.normal(size=4) * 1e-2,
    }
    # Random gradients for the "noise" leaf, their scale jumping between 1e-4 and 10.
    scale = 10.0 ** rng.uniform(-4, 1, size=(STEPS // 10, 1)).repeat(10, axis=0)
    noise = rng.normal(size=(STEPS, 4)) * scale
    return start, noise


@functools.partial(jax.jit, static_argnames="name")
def _simulate(params, noise, hp_arrays, *, name):
    opt = OPTIMIZERS[name].optimizer

    def body(carry, noise_t):
        params, states = carry
        grads = jax.grad(lambda p: _loss({k: v for k, v in p.items() if k != "noise"}))(params)
        grads = {**grads, "noise": noise_t}
        results = [opt.update(grads, s, params, hp) for s, hp in zip(states, hp_arrays)]
        updates = [ravel_pytree(u)[0] for u, _, _ in results]
        new_params = jax.tree.map(jnp.add, params, results[0][0])
        flat = (ravel_pytree(params)[0], ravel_pytree(grads)[0], jnp.stack(updates))
        return (new_params, [s for _, s, _ in results]), flat

    states = [opt.init(params) for _ in hp_arrays]
    return jax.lax.scan(body, (params, states), noise)[1]


def _ours(name: str, hp: dict[str, float], other: dict[str, float]):
    """Our path under `hp` (flattened points, gradients and updates per step), and the
    updates `other` gives at the same points and gradients (one compile per optimizer)."""
    start, noise = _start_and_noise()
    with jax.enable_x64(True):
        params = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), start)
        hp_arrays = [{k: jnp.float64(v) for k, v in h.items()} for h in (hp, other)]
        points, grads, updates = (
            np.asarray(x) for x in _simulate(params, jnp.asarray(noise), hp_arrays, name=name)
        )
    assert points.dtype == np.float64, name
    assert np.isfinite(updates).all(), f"{name} {hp} / {other}: our run is not finite"
    return points, grads, updates  # updates: (steps, 2, n)


def _relative_error(ours: np.ndarray, theirs: np.ndarray, points: np.ndarray) -> float:
    """max |ours − theirs| / |theirs|, elementwise, less what reading the update cannot resolve.

    The framework's update is read as θ' − θ, a difference of two float64 numbers near θ: it
    is exact only to about one unit in the last place of θ, so 4·2⁻⁵²·|θ| of the difference is
    not counted. The denominator has a floor of 1e-9 × the coordinate's largest update, for
    steps where an update crosses zero.
    """
    unresolved = 4 * np.finfo(np.float64).eps * np.abs(points)
    floor = 1e-9 * np.abs(theirs).max(axis=0, keepdims=True) + 1e-300
    return float((np.maximum(np.abs(ours - theirs) - unresolved, 0.0) / (np.abs(theirs) + floor)).max())


# --------------------------------------------------------------------------------------------
# The frameworks, teacher-forced along our path
# --------------------------------------------------------------------------------------------


def _torch_updates(name: str, kwargs: dict, points: np.ndarray, grads: np.ndarray) -> np.ndarray:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the optimizers' scalar state (step, μ-product) too
    try:
        param = torch.zeros(points.shape[1], dtype=torch.float64, requires_grad=True)
        optimizer = getattr(torch.optim, TORCH_CLASSES[name])([param], **kwargs)
        out = np.empty_like(points)
        for t in range(points.shape[0]):
            with torch.no_grad():
                param.copy_(torch.from_numpy(points[t].copy()))
            param.grad = torch.from_numpy(grads[t].copy())
            optimizer.step()
            out[t] = param.detach().numpy() - points[t]
        return out
    finally:
        torch.set_default_dtype(previous)


def _keras_updates(cases: list[tuple[str, dict]], points: list[np.ndarray], grads: list[np.ndarray]):
    """All Keras cases in one jitted scan over stateless_apply (one compile for all)."""
    assert keras.backend.backend() == "jax", "KERAS_BACKEND must be jax"
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        with jax.enable_x64(True):
            optimizers, states = [], []
            for (name, kwargs), p in zip(cases, points):
                optimizer = getattr(keras.optimizers, KERAS_CLASSES[name])(**kwargs)
                optimizer.build([keras.Variable(np.zeros(p.shape[1]), dtype="float64")])
                optimizers.append(optimizer)
                states.append([v.value for v in optimizer.variables])

            @jax.jit
            def simulate(states, points, grads):
                def body(states, xs):
                    new_states, updates = [], []
                    for optimizer, state, (p, g) in zip(optimizers, states, xs):
                        (new_p,), state = optimizer.stateless_apply(state, [g], [p])
                        new_states.append(state)
                        updates.append(new_p - p)
                    return new_states, updates

                return jax.lax.scan(body, states, list(zip(points, grads)))[1]

            out = simulate(states, [jnp.asarray(p) for p in points], [jnp.asarray(g) for g in grads])
            return [np.asarray(u, np.float64) for u in out]
    finally:
        keras.config.set_floatx(previous)


def _check(framework: str, cases, theirs_for):
    """Our runs for every case, the framework's updates on our path, the comparison."""
    runs = []
    for name, ours_overrides, _, wrong in cases:
        hp = resolve_hparams(name, ours_overrides, preset=framework)
        other = resolve_hparams(name, {**ours_overrides, **(wrong or {})}, preset=framework)
        runs.append(_ours(name, hp, other))
    theirs_all = theirs_for([(c[0], c[2]) for c in cases], runs)
    failures, worst = [], 0.0
    for (name, ours_overrides, _, wrong), (points, _, updates), theirs in zip(cases, runs, theirs_all):
        label = f"{framework} {name} {ours_overrides or 'defaults'}"
        assert np.isfinite(theirs).all(), label
        assert (np.abs(theirs).max(axis=0) > 0).all(), f"{label}: a coordinate never moves"
        error = _relative_error(updates[:, 0], theirs, points)
        worst = max(worst, error)
        if error > RTOL:
            failures.append(f"{label}: relative error {error:.2e}")
        if wrong:
            wrong_error = _relative_error(updates[:, 1], theirs, points)
            if wrong_error <= RTOL:
                failures.append(f"{label}: the wrong setting {wrong} matches too ({wrong_error:.1e})")
    assert not failures, "\n".join(failures)
    return worst


def test_keras_presets_equal_keras_optimizers():
    def theirs_for(cases, runs):
        return _keras_updates(cases, [r[0] for r in runs], [r[1] for r in runs])

    worst = _check("keras", KERAS_CASES, theirs_for)
    print(f"keras: worst relative error {worst:.1e}")


def test_pytorch_presets_equal_torch_optim():
    def theirs_for(cases, runs):
        return [_torch_updates(name, kwargs, r[0], r[1]) for (name, kwargs), r in zip(cases, runs)]

    worst = _check("pytorch", TORCH_CASES, theirs_for)
    print(f"pytorch: worst relative error {worst:.1e}")


# --------------------------------------------------------------------------------------------
# Coverage: every optimizer a framework has is proven; the others say so
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("framework", "cases", "module", "classes"), [
    ("keras", KERAS_CASES, keras.optimizers, KERAS_CLASSES),
    ("pytorch", TORCH_CASES, torch.optim, TORCH_CLASSES),
])  # fmt: skip
def test_every_framework_optimizer_is_proven_and_the_rest_say_so(framework, cases, module, classes):
    proven = {c[0] for c in cases if not c[1]}  # a defaults case for each
    assert proven == set(FRAMEWORK_OPTIMIZERS[framework]) == set(classes)
    assert set(PRESETS[framework]) == proven  # a preset entry exactly where the framework has it
    for name in OPTIMIZERS:
        has_it = name in classes and hasattr(module, classes[name])
        assert has_it == (name in proven), name
        note = preset_support(name, framework)
        assert (note is None) == has_it, name
        if note:
            assert OPTIMIZERS[name].label in note and "optax" in note
    # the optimizers the frameworks lack, named
    missing = sorted(n for n in OPTIMIZERS if n not in proven)
    # neither framework ships the 2026 optimizers (optim_core.optimizers_modern)
    modern = [spec.name for spec in MODERN_SPECS]
    lacking = ["adabelief", "radam"] if framework == "keras" else ["adabelief", "lion"]
    assert missing == sorted(lacking + modern)
    assert not hasattr(keras.optimizers, "RAdam") and not hasattr(torch.optim, "Lion")
    assert preset_support("radam", "optax") is None and preset_support("radam", None) is None
