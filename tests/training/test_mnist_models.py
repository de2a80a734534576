"""The networks: shapes, parameter counts, dropout determinism, gradients vs finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from training.models import MODELS, _conv3x3_valid, get_model, loss_and_logits, n_params


@pytest.mark.parametrize(
    ("name", "count"), [("mlp", 784 * 256 + 256 + 256 * 10 + 10), ("cnn", 320 + 5408 * 256 + 256 + 2570)]
)
def test_shapes_and_parameter_counts(name: str, count: int) -> None:
    model = get_model(name)
    params = model.init(jax.random.key(0))
    assert n_params(params) == count
    x = jnp.zeros((5, 28, 28), jnp.float32)
    assert model.apply(params, x, None, False).shape == (5, 10)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        get_model("resnet")


def test_init_is_seeded() -> None:
    a, b, c = (MODELS["cnn"].init(jax.random.key(s)) for s in (1, 1, 2))
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    assert all(np.array_equal(x, y) for x, y in pairs)
    assert not np.array_equal(a["dense1"]["w"], c["dense1"]["w"])


def test_conv_matches_lax_convolution() -> None:
    x = jax.random.uniform(jax.random.key(0), (3, 28, 28, 1))
    w = jax.random.normal(jax.random.key(1), (3, 3, 1, 32))
    ref = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(_conv3x3_valid(x, w), ref, atol=1e-5)


def test_dropout_is_driven_by_the_key() -> None:
    model = get_model("cnn")
    params = model.init(jax.random.key(0))
    x = jax.random.uniform(jax.random.key(1), (8, 28, 28))
    same1 = model.apply(params, x, jax.random.key(5), True)
    same2 = model.apply(params, x, jax.random.key(5), True)
    other = model.apply(params, x, jax.random.key(6), True)
    evaluation = model.apply(params, x, None, False)
    np.testing.assert_array_equal(same1, same2)
    assert not np.allclose(same1, other)
    assert not np.allclose(same1, evaluation)
    with pytest.raises(ValueError, match="PRNG key"):
        model.apply(params, x, None, True)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_gradients_match_finite_differences(name: str, sample) -> None:
    """float64 central differences on a few coordinates of every leaf, dropout on (the mask
    is fixed by the key, so the loss is a deterministic function of the weights)."""
    model = get_model(name)
    x32 = sample.x_train[:16].astype(np.float32) / 255.0
    y = jnp.asarray(sample.y_train[:16])
    with jax.enable_x64(True):
        params = jax.tree.map(lambda p: jnp.asarray(p, jnp.float64), model.init(jax.random.key(3)))
        # Zero biases put every background pixel's pre-activation exactly on ReLU's kink,
        # where a central difference sees half a slope: move the biases off zero.
        for layer in params.values():
            layer["b"] = layer["b"] + 0.05 * jax.random.uniform(
                jax.random.key(layer["b"].size), layer["b"].shape, jnp.float64, 0.2, 1.0
            )
        x = jnp.asarray(x32, jnp.float64)
        key = jax.random.key(7)
        loss = jax.jit(lambda p: loss_and_logits(model, p, x, y, key, True)[0])
        grads = jax.jit(jax.grad(lambda p: loss_and_logits(model, p, x, y, key, True)[0]))(params)
        flat, unravel = ravel_pytree(params)
        gflat, _ = ravel_pytree(grads)
        rng = np.random.default_rng(0)
        # A few coordinates of every leaf, plus the largest gradients (never all ~0 ones).
        sizes = [p.size for p in jax.tree.leaves(params)]
        starts = np.cumsum([0, *sizes[:-1]])
        coords = [int(s + rng.integers(n)) for s, n in zip(starts, sizes, strict=True) for _ in range(3)]
        coords += [int(i) for i in np.argsort(-np.abs(np.asarray(gflat)))[:6]]
        h = 1e-6
        for i in coords:
            e = jnp.zeros_like(flat).at[i].set(h)
            fd = (loss(unravel(flat + e)) - loss(unravel(flat - e))) / (2 * h)
            assert abs(float(fd) - float(gflat[i])) <= 1e-6 + 1e-4 * abs(float(fd)), (
                f"coordinate {i}: finite difference {float(fd):.8g}, autodiff {float(gflat[i]):.8g}"
            )
