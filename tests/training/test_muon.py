"""training.muon against optax.contrib.muon, step for step, on the MNIST networks' own gradients.

Both optimizers get the same gradient at the same params (optax's point: following optax's
path keeps a last-bit difference from being amplified) for 12 steps, in float64; our updates
must match optax's to 1e-6 relative, leaf by leaf. The MLP's two weight matrices and the CNN's
conv kernel (read as the (9, 32) matrix it multiplies by: optax's MuonDimensionNumbers with
reduction axes (0, 1, 2)) are orthogonalized, biases go to Adam.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optim_core import OptimizerSettings
from training import TrainConfig, get_model, train
from training.models import loss_and_logits
from training.muon import MUON_SPEC, matrix_shape, orthogonalize
from training.optimizers import (
    NETWORK_OPTIMIZERS,
    network_preset_support,
    resolve_network_hparams,
)

STEPS = 12
RTOL = 1e-6
MDN = optax.contrib.MuonDimensionNumbers


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _optax_muon(hp: dict[str, float], model: str) -> optax.GradientTransformation:
    dims = {"dense1": {"w": MDN(), "b": None}, "dense2": {"w": MDN(), "b": None}}
    if model == "cnn":
        dims["conv"] = {"w": MDN(reduction_axis=(0, 1, 2), output_axis=3), "b": None}
    return optax.contrib.muon(
        hp["learning_rate"],
        beta=hp["beta"],
        eps=hp["eps"],
        weight_decay=hp["weight_decay"],
        nesterov=bool(hp["nesterov"]),
        adam_b1=hp["adam_b1"],
        adam_b2=hp["adam_b2"],
        adam_learning_rate=hp["adam_learning_rate"],
        muon_weight_dimension_numbers=dims,
    )


VARIANTS = [
    {},
    {"nesterov": 0.0, "beta": 0.8, "learning_rate": 0.05},
    {"weight_decay": 0.05, "adam_learning_rate": 0.003, "adam_b1": 0.8, "adam_b2": 0.99, "eps": 1e-6},
]


CASES = [("mlp", 0), ("mlp", 1), ("mlp", 2), ("cnn", 2)]  # the CNN's float64 steps are slow


@pytest.mark.parametrize(("model", "variant"), CASES, ids=[f"{m}-{v}" for m, v in CASES])
def test_matches_optax_step_for_step(model, variant):
    hp = resolve_network_hparams("muon", VARIANTS[variant])
    net = get_model(model)
    params = jax.tree.map(lambda p: p.astype(jnp.float64), net.init(jax.random.key(variant)))
    rng = np.random.default_rng(variant)
    x = jnp.asarray(rng.uniform(size=(16, 28, 28)))
    y = jnp.asarray(rng.integers(0, 10, 16))
    grad = jax.jit(jax.grad(lambda p: loss_and_logits(net, p, x, y, None, False)[0]))
    ours, tx = MUON_SPEC.optimizer, _optax_muon(hp, model)
    our_state, their_state = ours.init(params), tx.init(params)
    hp_arrays = {k: jnp.float64(v) for k, v in hp.items()}
    # both compiled: optax's update run op by op took 4x as long as the whole jitted step
    update, their_update = jax.jit(ours.update), jax.jit(tx.update)
    start = params
    for step in range(STEPS):
        g = grad(params)
        our_updates, our_state, _ = update(g, our_state, params, hp_arrays)
        their_updates, their_state = their_update(g, their_state, params)
        for path, a, b in zip(
            jax.tree_util.tree_leaves_with_path(our_updates),
            jax.tree.leaves(our_updates),
            jax.tree.leaves(their_updates),
            strict=True,
        ):
            a, b = np.asarray(a), np.asarray(b)
            assert a.dtype == np.float64 and np.isfinite(b).all()
            scale = float(np.abs(b).max())
            np.testing.assert_allclose(
                a,
                b,
                rtol=RTOL,
                atol=RTOL * 1e-3 * scale,
                err_msg=f"step {step} {jax.tree_util.keystr(path[0])}",
            )
        params = optax.apply_updates(params, their_updates)
    moved = max(float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(start)))
    assert moved > 1e-3  # the runs moved: frozen params would match whatever the rule


def test_matrix_updates_are_orthogonalized_and_biases_are_adam():
    """The matrices' update has all singular values near 1 (× α, × the width scale); the
    bias update is Adam's first step, a multiple of α_Adam·sign(g) (NAdam's look-ahead)."""
    net = get_model("mlp")
    params = jax.tree.map(lambda p: p.astype(jnp.float64), net.init(jax.random.key(0)))
    rng = np.random.default_rng(0)
    x, y = jnp.asarray(rng.uniform(size=(64, 28, 28))), jnp.asarray(rng.integers(0, 10, 64))
    g = jax.grad(lambda p: loss_and_logits(net, p, x, y, None, False)[0])(params)
    hp = resolve_network_hparams("muon", {"learning_rate": 0.1, "adam_learning_rate": 0.01})
    updates, _, _ = MUON_SPEC.optimizer.update(g, MUON_SPEC.optimizer.init(params), params, hp)
    for layer in ("dense1", "dense2"):
        w = updates[layer]["w"]
        fan_in, fan_out = matrix_shape(w.shape)
        s = np.linalg.svd(np.asarray(w) / -0.1 / math.sqrt(max(1.0, fan_out / fan_in)), compute_uv=False)
        sg = np.linalg.svd(np.asarray(g[layer]["w"]), compute_uv=False)
        rank = int((sg > 1e-9 * sg.max()).sum())  # dense1's gradient has rank ≤ the batch (64)
        # the quintic's fixed points: the gradient's singular values land in about [0.68, 1.13]
        assert s[:rank].min() > 0.5 and s.max() < 1.25, (layer, s[:rank].min(), s.max())
        assert s[rank:].max(initial=0.0) < 1e-6  # directions the gradient lacks stay empty
        # whereas the gradient's own singular values span orders of magnitude
        assert sg[0] / sg[rank - 1] > 10
        b, gb = np.asarray(updates[layer]["b"]), np.asarray(g[layer]["b"])
        big = np.abs(gb) > 1e-4  # where ε = 1e-8 beside |g| is below the tolerance
        # NAdam's first step: m̂ = β₁·m₁/(1 − β₁²) + g = (1 + β₁/(1 + β₁))·g, v̂ = g²
        nadam_first = 1.0 + 0.9 / 1.9
        np.testing.assert_allclose(b[big], -0.01 * nadam_first * np.sign(gb[big]), rtol=1e-4)


def test_orthogonalize_handles_tall_and_wide_alike():
    m = jnp.asarray(np.random.default_rng(3).normal(size=(40, 7)))
    tall, wide = orthogonalize(m, 1e-8), orthogonalize(m.T, 1e-8)
    np.testing.assert_allclose(np.asarray(tall), np.asarray(wide).T, rtol=1e-12)
    s = np.linalg.svd(np.asarray(tall), compute_uv=False)
    assert s.min() > 0.5 and s.max() < 1.25


def test_registry_and_presets():
    assert "muon" in NETWORK_OPTIMIZERS and NETWORK_OPTIMIZERS["muon"] is MUON_SPEC
    from optim_core import OPTIMIZERS

    assert "muon" not in OPTIMIZERS  # network-only: the 2D playground never offers it
    assert set(OPTIMIZERS) < set(NETWORK_OPTIMIZERS)
    assert resolve_network_hparams("muon", None, "keras") == MUON_SPEC.defaults
    assert resolve_network_hparams("adam", None, "keras")["eps"] == 1e-7  # others: optim_core's
    with pytest.raises(ValueError, match="no hyperparameter"):
        resolve_network_hparams("muon", {"b1": 0.9})
    with pytest.raises(ValueError, match="valid range"):
        resolve_network_hparams("muon", {"beta": 1.5})
    with pytest.raises(ValueError, match="unknown optimizer"):
        resolve_network_hparams("nope")
    assert network_preset_support("muon", "optax") is None
    assert "optax.contrib.muon" in (network_preset_support("muon", "keras") or "")
    assert network_preset_support("adam", "keras") is None


def test_muon_trains_the_mlp_beside_adam_and_sgd(sample):
    """A tiny run: Muon is trained by the same loop (bare name, labels, curves); it learns, and
    on this run it ends ahead of SGD at Keras's defaults."""
    with jax.enable_x64(False):
        result = train(
            ["sgd", "adam", OptimizerSettings("muon")],
            TrainConfig(
                model="mlp", epochs=2, batch_size=64, train_size=1000, val_size=500, keep_snapshots=False
            ),
            sample,
        )
    assert [r.label for r in result.runs] == ["SGD", "Adam", "Muon"]
    muon, sgd = result.run("muon"), result.run("sgd")
    assert muon.hparams == MUON_SPEC.defaults
    assert muon.curve("val_acc")[-1] > 0.8
    assert muon.curve("val_acc")[-1] > sgd.curve("val_acc")[-1]
    assert muon.curve("val_loss")[-1] < muon.initial_val_loss
