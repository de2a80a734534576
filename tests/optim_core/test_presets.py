"""Presets reproduce Keras and PyTorch, and resolve_hparams validates what it is given.

The framework references below are written in plain NumPy (float64) from each framework's
documented update rule, with the framework's default values typed in here independently of the
presets, so a wrong preset value fails the comparison. The real frameworks themselves (Keras 3,
torch.optim) run in test_frameworks.py, for every optimizer they have.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optim_core import OPTIMIZERS, PRESETS
from optim_core.presets import PRESET_LABELS, preset_support, resolve_hparams

# --------------------------------------------------------------------------------------------
# Reference update rules: each factory returns step(g, p) -> update, keeping its own state.
# --------------------------------------------------------------------------------------------


def keras_sgd(lr=0.01, momentum=0.0, nesterov=False):
    m = 0.0

    def step(g, p):
        nonlocal m
        if momentum == 0.0:
            return -lr * g
        m = m * momentum - g * lr  # Keras keeps the velocity in parameter units
        return m * momentum - g * lr if nesterov else m

    return step


def keras_adagrad(lr=0.001, initial_accumulator_value=0.1, eps=1e-7):
    accumulator = initial_accumulator_value

    def step(g, p):
        nonlocal accumulator
        accumulator = accumulator + g * g
        return -lr * g / np.sqrt(accumulator + eps)

    return step


def keras_adadelta(lr=0.001, rho=0.95, eps=1e-7):
    grad_avg = delta_avg = 0.0

    def step(g, p):
        nonlocal grad_avg, delta_avg
        grad_avg = rho * grad_avg + (1 - rho) * g * g
        delta = -np.sqrt(delta_avg + eps) / np.sqrt(grad_avg + eps) * g
        delta_avg = rho * delta_avg + (1 - rho) * delta * delta
        return lr * delta

    return step


def keras_rmsprop(lr=0.001, rho=0.9, eps=1e-7):
    velocity = 0.0

    def step(g, p):
        nonlocal velocity
        velocity = rho * velocity + (1 - rho) * g * g
        return -lr * g / np.sqrt(velocity + eps)

    return step


def keras_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, weight_decay=0.0):
    """Keras' Adam (ε-hat); with weight_decay, Keras' AdamW: θ −= θ·λ·α first."""
    m = v = 0.0
    t = 0

    def step(g, p):
        nonlocal m, v, t
        t += 1
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        return -p * weight_decay * lr - m * alpha / (np.sqrt(v) + eps)

    return step


def keras_lion(lr=0.001, b1=0.9, b2=0.99):
    m = 0.0

    def step(g, p):
        nonlocal m
        update = -lr * np.sign(m * b1 + g * (1 - b1))
        m = m * b2 + g * (1 - b2)
        return update

    return step


def torch_sgd(lr=0.001, momentum=0.0, nesterov=False):
    buf = None

    def step(g, p):
        nonlocal buf
        if momentum == 0.0:
            return -lr * g
        buf = g if buf is None else momentum * buf + g
        return -lr * (g + momentum * buf if nesterov else buf)

    return step


def torch_adagrad(lr=0.01, initial_accumulator_value=0.0, eps=1e-10):
    state_sum = initial_accumulator_value

    def step(g, p):
        nonlocal state_sum
        state_sum = state_sum + g * g
        return -lr * g / (np.sqrt(state_sum) + eps)

    return step


def torch_adadelta(lr=1.0, rho=0.9, eps=1e-6):
    square_avg = acc_delta = 0.0

    def step(g, p):
        nonlocal square_avg, acc_delta
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        return -lr * delta

    return step


def torch_rmsprop(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False):
    square_avg = grad_avg = buf = 0.0

    def step(g, p):
        nonlocal square_avg, grad_avg, buf
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        if centered:
            grad_avg = alpha * grad_avg + (1 - alpha) * g
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            return -lr * buf
        return -lr * g / avg

    return step


def torch_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam; with weight_decay, AdamW: θ ← θ·(1 − α·λ) first."""
    m = v = 0.0
    t = 0

    def step(g, p):
        nonlocal m, v, t
        t += 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step_size = lr / (1 - b1**t)
        denom = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
        return -lr * weight_decay * p - step_size * m / denom

    return step


def torch_adamax(lr=0.002, b1=0.9, b2=0.999, eps=1e-8):
    m = u = 0.0
    t = 0

    def step(g, p):
        nonlocal m, u, t
        t += 1
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        return -(lr / (1 - b1**t)) * m / u

    return step


P = functools.partial

# (preset, optimizer, extra hparams, reference factory, overrides that must break the match)
CASES = [
    ("keras", "sgd", {}, keras_sgd, {"learning_rate": 0.001}),
    ("keras", "momentum", {}, P(keras_sgd, momentum=0.9), {"momentum": 0.5}),
    ("keras", "nesterov", {}, P(keras_sgd, momentum=0.9, nesterov=True), {"momentum": 0.5}),
    ("keras", "adagrad", {}, keras_adagrad, {"initial_accumulator_value": 0.0}),
    ("keras", "adadelta", {}, keras_adadelta, {"learning_rate": 1.0}),
    ("keras", "rmsprop", {}, keras_rmsprop, {"eps_inside": 0.0}),
    ("keras", "adam", {}, keras_adam, {"eps_hat": 0.0}),
    ("keras", "adamw", {}, P(keras_adam, weight_decay=0.004), {"eps_hat": 0.0}),
    ("keras", "lion", {}, keras_lion, {"weight_decay": 1e-3}),
    ("pytorch", "sgd", {}, torch_sgd, {"learning_rate": 0.01}),
    ("pytorch", "momentum", {}, P(torch_sgd, momentum=0.9), {"momentum": 0.5}),
    ("pytorch", "nesterov", {}, P(torch_sgd, momentum=0.9, nesterov=True), {"momentum": 0.5}),
    ("pytorch", "adagrad", {}, torch_adagrad, {"eps_inside": 1.0}),
    ("pytorch", "adadelta", {}, torch_adadelta, {"learning_rate": 0.001}),
    ("pytorch", "rmsprop", {}, torch_rmsprop, {"eps_inside": 1.0}),
    (
        "pytorch", "rmsprop", {"centered": True, "momentum": 0.9},
        P(torch_rmsprop, momentum=0.9, centered=True), {"eps_inside": 1.0},
    ),
    ("pytorch", "adam", {}, torch_adam, {"eps": 1e-7}),
    ("pytorch", "adamw", {}, P(torch_adam, weight_decay=0.01), {"weight_decay": 1e-4}),
    ("pytorch", "adamax", {}, torch_adamax, {"learning_rate": 0.001}),
]  # fmt: skip

# --------------------------------------------------------------------------------------------
# Runs: a rotated ravine (condition number 25, gradients ~10) and a flat bowl (gradients ~1e-6,
# where the placement of ε decides the step), as two leaves of one pytree: every optimizer
# here acts coordinate by coordinate, so that is two independent runs for one compile.
# --------------------------------------------------------------------------------------------

_C, _S = math.cos(math.pi / 6), math.sin(math.pi / 6)
_RAVINE = np.array([[_C, -_S], [_S, _C]]) @ np.diag([1.0, 25.0]) @ np.array([[_C, _S], [-_S, _C]])


def ravine(p):
    z = p - jnp.array([1.0, -0.5])
    return 0.5 * z @ jnp.asarray(_RAVINE, jnp.float32) @ z


def flat_bowl(p):
    return 1e-6 * 0.5 * (p[0] ** 2 + 3.0 * p[1] ** 2)


START = {"bowl": jnp.array([1.0, 1.0]), "ravine": jnp.array([2.0, 2.0])}
STEPS = 200


def _loss(params):
    return ravine(params["ravine"]) + flat_bowl(params["bowl"])


@functools.partial(jax.jit, static_argnames="name")
def _run(hp, start, *, name):
    """Points, gradients and updates of a float32 run, step by step."""
    opt = OPTIMIZERS[name].optimizer

    def body(carry, _):
        params, state = carry
        grads = jax.grad(_loss)(params)
        updates, state, _ = opt.update(grads, state, params, hp)
        return (jax.tree.map(jnp.add, params, updates), state), (params, grads, updates)

    return jax.lax.scan(body, (start, opt.init(start)), None, length=STEPS)[1]


def _flat(tree) -> np.ndarray:
    """(steps, 4): the leaves side by side (bowl, then ravine), in float64."""
    return np.concatenate([np.asarray(leaf, np.float64) for leaf in jax.tree.leaves(tree)], 1)


def _reference_updates(make_reference, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The reference's update at each point of our run (same points and gradients).

    Following our path rather than its own keeps a last-bit float32/float64 difference from
    being amplified by bouncing dynamics into a visible one.
    """
    step = make_reference()
    return np.stack([step(g, p) for g, p in zip(grads, params, strict=True)])


def _matches(ours: np.ndarray, reference: np.ndarray) -> bool:
    """Equal to float32 precision, each surface (two columns) on its own scale."""
    for columns in (slice(0, 2), slice(2, 4)):
        a, b = ours[:, columns], reference[:, columns]
        if not np.allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max()):
            return False
    return True


@pytest.mark.parametrize(
    ("preset", "name", "extra", "make_reference", "wrong"),
    CASES,
    ids=[f"{p}-{n}" + ("-" + "-".join(e) if e else "") for p, n, e, _, _ in CASES],
)
def test_preset_reproduces_the_framework(preset, name, extra, make_reference, wrong):
    hp = resolve_hparams(name, extra, preset=preset)
    params, grads, updates = (_flat(x) for x in _run(hp, START, name=name))
    assert np.isfinite(updates).all()
    expected = _reference_updates(make_reference, params, grads)
    assert (np.abs(expected).max(axis=0) > 0).all(), "test setup: a coordinate never moves"
    for columns in (slice(0, 2), slice(2, 4)):
        np.testing.assert_allclose(
            updates[:, columns], expected[:, columns],
            rtol=1e-5, atol=1e-6 * np.abs(expected[:, columns]).max(),
        )  # fmt: skip

    # The comparison can tell: a deliberately wrong setting does not match.
    wrong_hp = resolve_hparams(name, {**extra, **wrong}, preset=preset)
    params, grads, updates = (_flat(x) for x in _run(wrong_hp, START, name=name))
    assert not _matches(updates, _reference_updates(make_reference, params, grads))


def test_first_adam_step_at_a_tiny_gradient():
    """design.md: at g = 1e-6 the first step is ≈ 0.99·α in optax/PyTorch, ≈ 0.24·α in Keras."""
    opt = OPTIMIZERS["adam"].optimizer
    params = jnp.zeros(1)

    def first_step_over_lr(preset):
        hp = resolve_hparams("adam", preset=preset)
        updates, _, _ = opt.update(jnp.array([1e-6]), opt.init(params), params, hp)
        return -float(updates[0]) / hp["learning_rate"]

    assert first_step_over_lr(None) == pytest.approx(0.990, abs=1e-3)
    assert first_step_over_lr("pytorch") == pytest.approx(0.990, abs=1e-3)
    assert first_step_over_lr("keras") == pytest.approx(0.240, abs=1e-3)
    # the same, from the NumPy references
    assert -torch_adam()(1e-6, 0.0) / 0.001 == pytest.approx(0.990, abs=1e-3)
    assert -keras_adam()(1e-6, 0.0) / 0.001 == pytest.approx(0.240, abs=1e-3)


# --------------------------------------------------------------------------------------------
# The presets themselves
# --------------------------------------------------------------------------------------------


def test_presets_and_labels():
    assert set(PRESETS) == set(PRESET_LABELS) == {"optax", "keras", "pytorch"}
    assert all(label.strip() for label in PRESET_LABELS.values())
    assert PRESETS["optax"] == {}  # the registry defaults are optax's


@pytest.mark.parametrize("preset", ["optax", "keras", "pytorch"])
def test_every_preset_entry_resolves(preset):
    for name, overrides in PRESETS[preset].items():
        assert name in OPTIMIZERS
        resolved = resolve_hparams(name, preset=preset)
        assert {k: resolved[k] for k in overrides} == overrides


def test_design_doc_framework_defaults():
    keras, torch = PRESETS["keras"], PRESETS["pytorch"]
    assert keras["sgd"]["learning_rate"] == 0.01
    assert keras["rmsprop"] == {
        "learning_rate": 0.001,
        "decay": 0.9,
        "eps": 1e-7,
        "eps_inside": 1.0,
    }
    assert keras["adagrad"]["initial_accumulator_value"] == 0.1
    assert keras["adadelta"] == {"learning_rate": 0.001, "rho": 0.95, "eps": 1e-7}
    assert keras["adam"]["eps_hat"] == 1.0 and keras["adam"]["eps"] == 1e-7
    assert torch["adagrad"]["initial_accumulator_value"] == 0.0
    assert torch["adagrad"]["eps_inside"] == torch["rmsprop"]["eps_inside"] == 0.0
    assert torch["adadelta"]["learning_rate"] == 1.0
    # the switches that make AMSGrad, Adamax, NAdam and RAdam the framework's own
    assert keras["amsgrad"]["max_raw"] == torch["amsgrad"]["max_raw"] == 1.0
    assert keras["amsgrad"]["eps_hat"] == 1.0 and "eps_hat" not in torch["amsgrad"]
    assert keras["adamax"]["eps_outside"] == 1.0 and "eps_outside" not in torch["adamax"]
    assert keras["nadam"]["momentum_schedule"] == torch["nadam"]["momentum_schedule"] == 1.0
    assert keras["nadam"]["momentum_decay"] == 1.0 and torch["nadam"]["momentum_decay"] == 0.004
    assert torch["radam"]["eps_hat"] == 1.0
    # frameworks without the optimizer fall back to the optax defaults, and say so
    assert "radam" not in keras and "adabelief" not in keras
    assert "lion" not in torch and "adabelief" not in torch
    assert resolve_hparams("adabelief", preset="keras") == resolve_hparams("adabelief")
    keras_radam = preset_support("radam", "keras")
    assert keras_radam == "Keras 3 has no RAdam: these are optax's defaults and update rule."
    assert "no Lion" in preset_support("lion", "pytorch")
    assert preset_support("adam", "keras") is None and preset_support("lion", "keras") is None
    for preset in ("optax", None):
        assert all(preset_support(name, preset) is None for name in OPTIMIZERS)
    with pytest.raises(ValueError, match="jax"):
        preset_support("adam", "jax")
    with pytest.raises(ValueError, match="adamm"):
        preset_support("adamm", "keras")


# --------------------------------------------------------------------------------------------
# resolve_hparams
# --------------------------------------------------------------------------------------------


def test_resolution_order_defaults_then_preset_then_hparams():
    defaults = resolve_hparams("adam")
    assert defaults == OPTIMIZERS["adam"].defaults
    assert list(defaults) == [h.name for h in OPTIMIZERS["adam"].hyperparams]
    keras = resolve_hparams("adam", preset="keras")
    assert keras["eps"] == 1e-7 and keras["b1"] == defaults["b1"]
    mine = resolve_hparams("adam", {"eps": 1e-3, "b1": 0.5}, preset="keras")
    assert mine["eps"] == 1e-3 and mine["b1"] == 0.5 and mine["eps_hat"] == 1.0
    assert all(isinstance(v, float) for v in mine.values())


def test_switches_accept_true_false_0_1():
    for given, expected in [(True, 1.0), (False, 0.0), (1, 1.0), (0, 0.0), (1.0, 1.0)]:
        assert resolve_hparams("adam", {"eps_hat": given})["eps_hat"] == expected


def test_numpy_and_jax_scalars_are_accepted():
    hp = resolve_hparams("adam", {"b1": np.float32(0.5), "eps": jnp.float32(1e-4)})
    assert hp["b1"] == 0.5 and hp["eps"] == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("adamm",), "adamm"),
        (("adam", None, "jax"), "jax"),
        (("adam", {"lr": 0.1}), "lr"),
        (("adam", {"b1": 1.5}), "b1"),
        (("adam", {"b1": -0.1}), "b1"),
        (("adam", {"learning_rate": 0.0}), "learning_rate"),
        (("adam", {"learning_rate": 1e3}), "learning_rate"),
        (("adam", {"eps": -1e-8}), "eps"),
        (("adam", {"eps": float("nan")}), "eps"),
        (("adam", {"learning_rate": float("inf")}), "learning_rate"),
        (("adam", {"eps_hat": 0.5}), "eps_hat"),
        (("adam", {"eps_hat": 2}), "eps_hat"),
        (("adam", {"eps_hat": "yes"}), "eps_hat"),
        (("adam", {"b2": "0.9"}), "b2"),
        (("adam", {"b2": None}), "b2"),
        (("adam", {"b2": True}), "b2"),
        (("rmsprop", {"decay": 1.0}), "decay"),
        (("lion", {"eps": 1e-8}), "eps"),
    ],
)
def test_errors_name_the_offending_thing(args, named):
    with pytest.raises(ValueError, match=named):
        resolve_hparams(*args)
