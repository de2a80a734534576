r"""Muon (optax.contrib.muon): momentum orthogonalized by Newton-Schulz for the weight matrices,
Adam for everything else. A network-only optimizer: on the 2D playground every parameter is a
vector, so Muon would be plain Adam there; it lives in `training` and is offered on the MNIST
page only (`training.optimizers.NETWORK_OPTIMIZERS`).

Which parameters are matrices. optax's default orthogonalizes the 2-D leaves and gives every
other leaf to Adam. Ours orthogonalizes every leaf with two or more axes, read as a matrix
(inputs, outputs) = (product of all axes but the last, last axis): for the dense layers
(784, 256) that is optax's default; for the CNN's conv kernel (3, 3, 1, 32), in HWIO layout, it
is the (9, 32) matrix the convolution multiplies by (training.models computes the conv as
patches @ w.reshape(9, -1)), as Keller Jordan's Muon flattens conv filters. In optax terms:
``muon_weight_dimension_numbers=MuonDimensionNumbers(reduction_axis=(0, 1, 2), output_axis=3)``
for the kernel (tests/training/test_muon.py passes exactly that). Biases (1-D) go to Adam.

Per matrix leaf W (gradient G, t = 1, 2, …):

    M_t = β·M_{t−1} + (1 − β)·G_t
    M̂_t = β·M_t / (1 − β^{t+1}) + (1 − β)·G_t / (1 − β^t)      (Nesterov, optax's default)
          or M_t / (1 − β^t)                                    (nesterov off)
    X_0 = M̂_t / (‖M̂_t‖_F + ε)              (transposed first if it has more rows than columns)
    X_{k+1} = a·X_k + (b·A_k + c·A_k²)·X_k,  A_k = X_k X_kᵀ,  (a, b, c) = (3.4445, −4.7750, 2.0315)
    O_t = X_5 · √max(1, fan_out / fan_in)
    W_t = W_{t−1} − α·(O_t + λ·W_{t−1})

Five quintic Newton-Schulz steps push every singular value of M̂ towards 1 (to roughly
0.7-1.2: the coefficients trade exactness for speed): the update keeps M̂'s singular
*directions* and drops its singular *values*, so rare directions get as large a step as common
ones. Other leaves: Adam with Nesterov momentum (optax.adamw inside muon, `nesterov=True`),
learning rate `adam_learning_rate`, β₁ = adam_b1, β₂ = adam_b2, ε = eps, no weight decay.

Fixed (optax's defaults, not sliders): 5 Newton-Schulz steps with the coefficients above,
Frobenius preconditioning, no adaptive scaling, width scaling √max(1, fan_out/fan_in),
adam_eps_root = 0, adam_weight_decay = 0.

Reference: K. Jordan et al., Muon: An optimizer for hidden layers in neural networks (2024),
https://kellerjordan.github.io/posts/muon/ ; optax.contrib.muon.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from optim_core._base import HParamValues, HyperParam, Internals, Optimizer, OptimizerSpec, Params
from optim_core.rules import _increment, _one_minus_power, _read, _zero_count

__all__ = [
    "MUON_SPEC",
    "NS_COEFFS",
    "NS_STEPS",
    "MuonState",
    "is_matrix",
    "matrix_shape",
    "muon",
    "orthogonalize",
]

NS_COEFFS = (3.4445, -4.7750, 2.0315)  # optax's _DEFAULT_NS_COEFFS (Keller Jordan's)
NS_STEPS = 5


def is_matrix(leaf: jax.Array) -> bool:
    """Whether Muon orthogonalizes this leaf (two or more axes); others get Adam."""
    return jnp.ndim(leaf) >= 2


def matrix_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out): all axes but the last flattened, then the last (the outputs)."""
    return math.prod(shape[:-1]), shape[-1]


def orthogonalize(m: jax.Array, eps: jax.Array | float) -> jax.Array:
    """The matrix `m` (2-D) with its singular values pushed towards 1 by NS_STEPS quintic
    Newton-Schulz steps, after scaling it to unit Frobenius norm (optax's
    orthogonalize_via_newton_schulz with Frobenius preconditioning)."""
    a, b, c = (jnp.asarray(k, m.dtype) for k in NS_COEFFS)
    transposed = m.shape[0] > m.shape[1]  # iterate on the wide form: X Xᵀ is the small Gram
    x = m.T if transposed else m
    x = x / (jnp.linalg.norm(x) + eps)
    for _ in range(NS_STEPS):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if transposed else x


class MuonState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # shadows tuple.count, as optax's states do
    mu: Params  # momentum M (matrices) or Adam's first moment m (others)
    nu: Params  # Adam's second moment v; a scalar 0 placeholder for the matrix leaves


def muon() -> Optimizer:
    """Muon for matrices, Nesterov-Adam for the rest (see the module docstring for the math).

    Hyperparameters: learning_rate α, beta β, nesterov, eps ε, weight_decay λ (matrices only,
    multiplied by α as in optax), adam_learning_rate, adam_b1, adam_b2.
    """

    def init(params: Params) -> MuonState:
        mu = jax.tree.map(jnp.zeros_like, params)
        nu = jax.tree.map(lambda p: jnp.zeros((), p.dtype) if is_matrix(p) else jnp.zeros_like(p), params)
        return MuonState(_zero_count(), mu, nu)

    def update(
        grads: Params, state: MuonState, params: Params, hparams: HParamValues
    ) -> tuple[Params, MuonState, Internals]:
        lr, beta, nesterov, eps, wd, adam_lr, b1, b2 = _read(
            hparams,
            "learning_rate",
            "beta",
            "nesterov",
            "eps",
            "weight_decay",
            "adam_learning_rate",
            "adam_b1",
            "adam_b2",
        )
        count = _increment(state.count)
        nes = jnp.asarray(nesterov) > 0.5

        def corrected(m: jax.Array, g: jax.Array, decay: jax.Array | float) -> jax.Array:
            """Bias-corrected first moment, Nesterov's look-ahead form when it is on."""
            plain = m / _one_minus_power(decay, count).astype(m.dtype)
            ahead = decay * (m / _one_minus_power(decay, count + 1).astype(m.dtype)) + (1 - decay) * (
                g / _one_minus_power(decay, count).astype(g.dtype)
            )
            return jnp.where(nes, ahead, plain)

        def leaf(g: jax.Array, m: jax.Array, v: jax.Array, p: jax.Array) -> tuple[jax.Array, ...]:
            if is_matrix(g):
                m = (1 - beta) * g + beta * m
                fan_in, fan_out = matrix_shape(g.shape)
                o = orthogonalize(corrected(m, g, beta).reshape(fan_in, fan_out), eps)
                o = o.reshape(g.shape) * math.sqrt(max(1.0, fan_out / fan_in))
                return -lr * (o + wd * p), m, v
            m = (1 - b1) * g + b1 * m
            v = (1 - b2) * jnp.square(g) + b2 * v
            v_hat = v / _one_minus_power(b2, count).astype(v.dtype)
            return -adam_lr * (corrected(m, g, b1) / (jnp.sqrt(v_hat) + eps)), m, v

        out = jax.tree.map(leaf, grads, state.mu, state.nu, params)
        # `out` holds a (update, m, v) tuple where `grads` holds a leaf: split it in three
        updates, mu, nu = (jax.tree.map(lambda _, o, i=i: o[i], grads, out) for i in range(3))
        return updates, MuonState(count, mu, nu), {"m": mu}

    return Optimizer(init, update)


_UNIT = (0.0, 0.9999)

MUON_SPEC = OptimizerSpec(
    name="muon",
    label="Muon",
    hyperparams=(
        HyperParam(
            "learning_rate",
            r"\alpha",
            0.02,
            1e-5,
            1.0,
            log=True,
            help="step size of the weight matrices (Keller Jordan's 0.02; the update's singular values ≈ 1)",
            valid=(1e-12, 100.0),
        ),
        HyperParam("beta", r"\beta", 0.95, 0.0, 0.999, help="decay of the momentum M", valid=_UNIT),
        HyperParam(
            "nesterov",
            r"\text{nes}",
            1.0,
            0.0,
            1.0,
            help="Nesterov look-ahead momentum (optax's default), for the matrices and Adam alike",
            kind="bool",
        ),
        HyperParam(
            "eps",
            r"\epsilon",
            1e-8,
            1e-12,
            1e-1,
            log=True,
            help="added to ‖M̂‖ before Newton-Schulz, and to Adam's √v̂",
            valid=(0.0, 1.0),
        ),
        HyperParam(
            "weight_decay",
            r"\lambda",
            0.0,
            0.0,
            0.1,
            help="decoupled weight decay of the matrices, multiplied by α (optax)",
            valid=(0.0, 10.0),
        ),
        HyperParam(
            "adam_learning_rate",
            r"\alpha_{\text{Adam}}",
            0.02,
            1e-5,
            1.0,
            log=True,
            help="Adam's step size for the biases and other non-matrices (optax's default: the same as α)",
            valid=(1e-12, 100.0),
        ),
        HyperParam("adam_b1", r"\beta_1", 0.9, 0.0, 0.999, help="Adam's β₁ (biases)", valid=_UNIT),
        HyperParam("adam_b2", r"\beta_2", 0.999, 0.5, 0.9999, help="Adam's β₂ (biases)", valid=_UNIT),
    ),
    latex=r"""
M_t &= \beta M_{t-1} + (1-\beta) G_t \\
\hat M_t &= \frac{\beta M_t}{1-\beta^{t+1}} + \frac{(1-\beta) G_t}{1-\beta^{t}} \quad\text{(Nesterov)} \\
X_0 &= \hat M_t / (\lVert \hat M_t \rVert_F + \epsilon) \\
X_{k+1} &= a X_k + (b A_k + c A_k^2) X_k,\quad A_k = X_k X_k^\top,\ k < 5 \\
W_t &= W_{t-1} - \alpha \big(\sqrt{\max(1, n_{\text{out}}/n_{\text{in}})}\, X_5 + \lambda W_{t-1}\big) \\
b_t &= b_{t-1} - \alpha_{\text{Adam}}\, \text{NAdam}(g_t) \quad\text{(biases)}
""".strip(),
    optimizer=muon(),
    description=(
        "Muon orthogonalizes each weight matrix's momentum (Newton-Schulz): every direction of "
        "the update gets the same size, so rare directions learn as fast as common ones"
    ),
    reference="K. Jordan et al., Muon: an optimizer for hidden layers in neural networks (2024)",
)
