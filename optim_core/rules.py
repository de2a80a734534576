"""The update rules: fourteen optimizers as pure, typed init/update pairs over pytrees.

Each factory returns an `Optimizer(init, update)`:

    state = init(params)
    updates, state, internals = update(grads, state, params, hparams)
    params = apply_updates(params, updates)

Every rule follows optax's math (names, meanings, defaults, order of operations), with the
hyperparameters read from `hparams` at update time so that a new value never recompiles.
Framework differences worth teaching are switches (kind "bool", 0.0 / 1.0) applied with
`jnp.where`: Adam's ε-hat (Keras) and bias correction, ε inside or outside the root for
RMSprop and Adagrad (optax and Keras inside, PyTorch outside). The Adam family (Adam, AdamW,
AMSGrad, Adamax, NAdam, RAdam, AdaBelief) shares one core, `_adam_moments` and
`_adam_denominator`; each rule states only what it changes.

Conventions shared by all of them:
- `updates` carry the minus sign: `params + updates` is the next point.
- `g_t` is the gradient at θ_{t-1}; `t` counts steps from 1 (the state's `count` after the step).
- `internals` holds what the app draws (see `INTERNAL_KEYS`); "step_size" is the per-coordinate
  factor in front of the (corrected) direction, e.g. α / (√v̂_t + ε) for Adam, so that the
  update is −step_size · m̂_t (plus weight decay where there is one).

The names, symbols, defaults, ranges and LaTeX of every rule are in `optim_core.registry`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from optim_core._base import HParamValues, Internals, Optimizer, Params

__all__ = [
    "adabelief", "adadelta", "adagrad", "adam", "adamax", "amsgrad", "lion", "momentum", "nadam",
    "radam", "radam_rho", "rmsprop", "sgd",
]  # fmt: skip

Scalar = jax.Array | float  # a hyperparameter value: a float, or a traced scalar under jit


# --------------------------------------------------------------------------------------------
# Small shared pieces
# --------------------------------------------------------------------------------------------

_tmap = jax.tree.map
_INT32_MAX = jnp.iinfo(jnp.int32).max


def _read(hparams: HParamValues, *names: str) -> tuple[Scalar, ...]:
    """The named hyperparameters, in order; a missing one is a KeyError that names it."""
    try:
        return tuple(hparams[name] for name in names)
    except KeyError as err:
        raise KeyError(
            f"missing hyperparameter {err.args[0]!r} (resolve_hparams fills in the defaults)"
        ) from None


def _on(flag: Scalar) -> jax.Array:
    """A bool hyperparameter (0.0 / 1.0, possibly traced) as a boolean array."""
    return jnp.asarray(flag) > 0.5


def _zero_count() -> jax.Array:
    return jnp.zeros([], jnp.int32)


def _increment(count: jax.Array) -> jax.Array:
    # Saturate instead of wrapping to a negative step, as optax's safe_increment does.
    return jnp.where(count < _INT32_MAX, count + 1, count)


def _ema(new: Params, average: Params, decay: Scalar) -> Params:
    """Exponential moving average, (1 − β)·new + β·average (optax's order of operations)."""
    return _tmap(lambda x, a: (1 - decay) * x + decay * a, new, average)


def _square(tree: Params) -> Params:
    return _tmap(jnp.square, tree)


def _float_count(count: jax.Array, like: Scalar) -> jax.Array:
    """The step count t as a float of the hyperparameter's precision."""
    return count.astype(jnp.result_type(jnp.asarray(like).dtype, jnp.float32))


def _one_minus_power(decay: Scalar, count: jax.Array) -> jax.Array:
    """1 − β^t computed as −expm1(t·log β): no cancellation when β^t is close to 1.

    (In float32, 1 − 0.9999^t loses about half its digits at small t; this keeps all of them.)
    β = 0 gives log β = −∞ and exactly 1 for every t ≥ 1.
    """
    decay = jnp.asarray(decay)
    return -jnp.expm1(_float_count(count, decay) * jnp.log(decay))


def _bias_divisor(decay: Scalar, count: jax.Array, enabled: Scalar = 1.0) -> jax.Array:
    """1 − β^t (without cancellation), or exactly 1 when bias correction is switched off."""
    return jnp.where(_on(enabled), _one_minus_power(decay, count), 1.0)


def _divide(tree: Params, divisor: jax.Array) -> Params:
    return _tmap(lambda x: x / divisor.astype(x.dtype), tree)


def _trace(grads: Params, trace: Params, decay: Scalar, nesterov: Scalar) -> tuple[Params, Params]:
    """Heavy-ball trace m_t = g_t + μ·m_{t-1}; returns (direction, new trace).

    With `nesterov` on, the direction looks one step ahead: g_t + μ·m_t.
    """
    new_trace = _tmap(lambda g, t: g + decay * t, grads, trace)
    direction = _tmap(lambda g, t: jnp.where(_on(nesterov), g + decay * t, t), grads, new_trace)
    return direction, new_trace


def _descend(learning_rate: Scalar, direction: Params) -> Params:
    """−α · direction, leaf by leaf (the scale optax applies last)."""
    return _tmap(lambda d: -learning_rate * d, direction)


def _add_weight_decay(direction: Params, params: Params, weight_decay: Scalar) -> Params:
    """direction + λ·θ (optax's add_decayed_weights); α then scales both terms."""
    return _tmap(lambda d, p: d + weight_decay * p, direction, params)


def _full_like(tree: Params, value: Scalar) -> Params:
    """A pytree like `tree` filled with a (possibly traced) scalar."""
    return _tmap(lambda x: jnp.zeros_like(x) + value, tree)


def _start_value(count: jax.Array, tree: Params, initial: Scalar) -> Params:
    """`tree`, or the constant `initial` on the first step.

    `init` never sees the hyperparameters, so accumulators with an initial value (Adagrad's
    initial_accumulator_value, RMSprop's initial_scale) take it here, when count is 0.
    """
    return _tmap(lambda x: jnp.where(count == 0, jnp.zeros_like(x) + initial, x), tree)


def _zeros(params: Params) -> Params:
    return _tmap(jnp.zeros_like, params)


# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------------------


class CountState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count


class TraceState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    trace: Params  # m: the heavy-ball velocity


class AdagradState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    sum_of_squares: Params


class AdadeltaState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    e_g: Params  # running average of g²
    e_x: Params  # running average of Δθ²


class RmspropState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    mu: Params  # running average of g (used when centered)
    nu: Params  # running average of g²
    trace: Params  # momentum buffer on the α-scaled updates


class AdamState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    mu: Params  # m: running average of g
    nu: Params  # v: the second moment (g², (g − m)² for AdaBelief, a max for Adamax)


class AmsgradState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    mu: Params
    nu: Params
    nu_max: Params


class NadamState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    mu: Params
    nu: Params
    log_mu_product: jax.Array  # log Π_{i≤t} μ_i (used when the momentum schedule is on)


class LionState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # optax's field name; shadows tuple.count
    mu: Params


# --------------------------------------------------------------------------------------------
# The Adam family's core
# --------------------------------------------------------------------------------------------


class AdamMoments(NamedTuple):
    """One step of the Adam family's shared part."""

    count: jax.Array  # type: ignore[assignment]  # t (shadows tuple.count)
    mu: Params  # m_t = β₁·m_{t−1} + (1 − β₁)·g_t
    nu: Params  # v_t (by default β₂·v_{t−1} + (1 − β₂)·g_t²)
    c1: jax.Array  # 1 − β₁^t, or 1 without bias correction
    c2: jax.Array  # 1 − β₂^t, or 1 without bias correction
    m_hat: Params  # m_t / c1


SecondMoment = Callable[[Params, Params, Params], Params]  # (g_t, m_t, v_{t−1}) -> v_t


def _adam_init(params: Params) -> AdamState:
    return AdamState(_zero_count(), _zeros(params), _zeros(params))


def _adam_moments(
    grads: Params,
    state: AdamState | AmsgradState | NadamState,
    b1: Scalar,
    b2: Scalar,
    bias_correction: Scalar = 1.0,
    second_moment: SecondMoment | None = None,
) -> AdamMoments:
    """t, m_t, v_t, the corrections c₁, c₂ and m̂_t: what every Adam-family rule starts with.

    `second_moment(g_t, m_t, v_{t−1})` replaces v_t = EMA_β₂(g²) (AdaBelief, Adamax).
    """
    count = _increment(state.count)
    mu = _ema(grads, state.mu, b1)
    nu = _ema(_square(grads), state.nu, b2) if second_moment is None else second_moment(grads, mu, state.nu)
    c1 = _bias_divisor(b1, count, bias_correction)
    c2 = _bias_divisor(b2, count, bias_correction)
    return AdamMoments(count, mu, nu, c1, c2, _divide(mu, c1))


def _adam_denominator(
    v_hat: Params, c2: jax.Array, learning_rate: Scalar, eps: Scalar, eps_root: Scalar, eps_hat: Scalar = 0.0
) -> tuple[Params, Params]:
    """(denominator, step_size): √(v̂ + ε̄) + ε and α / that, or Keras's ε-hat form.

    Keras's ε-hat form, (√c₂/c₁)·m / (√(v + ε̄) + ε) with v̂ = v/c₂, is exactly
    m̂ / (√(v̂ + ε̄/c₂) + ε/√c₂): the switch only rescales two scalars, so one elementwise
    formula serves both forms (and with bias correction off, c₂ = 1 and both forms agree).
    """
    root = eps_root * jnp.where(_on(eps_hat), 1 / c2, 1.0)
    eps_eff = eps * jnp.where(_on(eps_hat), jax.lax.rsqrt(c2), 1.0)
    denominator = _tmap(lambda vh: jnp.sqrt(vh + root) + eps_eff, v_hat)
    return denominator, _tmap(lambda d: learning_rate / d, denominator)


def _over(m_hat: Params, denominator: Params) -> Params:
    """m̂_t / denominator, leaf by leaf."""
    return _tmap(lambda m, d: m / d, m_hat, denominator)


def _adam_internals(moments: AdamMoments, v_hat: Params, step_size: Params) -> Internals:
    return {"m": moments.mu, "v": moments.nu, "m_hat": moments.m_hat, "v_hat": v_hat, "step_size": step_size}


# --------------------------------------------------------------------------------------------
# The rules (each mirrors its registry LaTeX, line by line)
# --------------------------------------------------------------------------------------------


def sgd() -> Optimizer:
    r"""Stochastic gradient descent (optax.sgd).

    .. math::
        θ_t = θ_{t−1} − α·g_t

    Args (read from ``hparams`` at every step):
      learning_rate: α, the step size.

    References:
      Robbins & Monro, A Stochastic Approximation Method, 1951.
    """

    def init(params: Params) -> CountState:
        return CountState(_zero_count())

    def update(
        grads: Params, state: CountState, params: Params, hparams: HParamValues
    ) -> tuple[Params, CountState, Internals]:
        (lr,) = _read(hparams, "learning_rate")
        updates = _descend(lr, grads)
        return updates, CountState(_increment(state.count)), {"step_size": _full_like(grads, lr)}

    return Optimizer(init, update)


def momentum(nesterov: bool = False) -> Optimizer:
    r"""Heavy-ball momentum (optax.sgd(momentum=μ)), or Nesterov's look-ahead form.

    .. math::
        m_t = g_t + μ·m_{t−1}
        θ_t = θ_{t−1} − α·m_t                 (heavy ball)
        θ_t = θ_{t−1} − α·(g_t + μ·m_t)       (nesterov=True)

    Args:
      nesterov: fixed when the optimizer is built (two registry entries), not a hyperparameter.
      learning_rate: α.
      momentum: μ, the fraction of the velocity kept each step.

    References:
      Polyak, Some methods of speeding up the convergence of iteration methods, 1964;
      Sutskever et al., On the importance of initialization and momentum in deep learning, 2013.
    """
    nesterov_flag = 1.0 if nesterov else 0.0  # a fixed part of the optimizer, not a hyperparameter

    def init(params: Params) -> TraceState:
        return TraceState(_zero_count(), _zeros(params))

    def update(
        grads: Params, state: TraceState, params: Params, hparams: HParamValues
    ) -> tuple[Params, TraceState, Internals]:
        lr, mu = _read(hparams, "learning_rate", "momentum")
        direction, trace = _trace(grads, state.trace, mu, nesterov_flag)
        updates = _descend(lr, direction)
        internals = {"m": trace, "step_size": _full_like(grads, lr)}
        return updates, TraceState(_increment(state.count), trace), internals

    return Optimizer(init, update)


def adagrad() -> Optimizer:
    r"""Adagrad (optax.adagrad), with ε inside or outside the root.

    .. math::
        G_t = G_{t−1} + g_t²                  (G_0 = initial_accumulator_value)
        θ_t = θ_{t−1} − α·g_t / √(G_t + ε)     (eps_inside; optax, Keras)
        θ_t = θ_{t−1} − α·g_t / (√G_t + ε)     (otherwise; PyTorch)

    The step is 0 where G_t = 0 (only zero gradients so far), as optax guards it.

    Args:
      learning_rate: α.
      initial_accumulator_value: G_0.
      eps: ε, keeps the root away from 0.
      eps_inside: switch (0/1), ε inside the root.

    References:
      Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and Stochastic
      Optimization, JMLR 2011.
    """

    def init(params: Params) -> AdagradState:
        return AdagradState(_zero_count(), _zeros(params))

    def update(
        grads: Params, state: AdagradState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdagradState, Internals]:
        lr, acc0, eps, eps_inside = _read(
            hparams, "learning_rate", "initial_accumulator_value", "eps", "eps_inside"
        )
        previous = _start_value(state.count, state.sum_of_squares, acc0)
        sum_of_squares = _tmap(lambda g, a: jnp.square(g) + a, grads, previous)
        scale = _tmap(
            lambda a: jnp.where(
                a > 0,
                jnp.where(_on(eps_inside), jax.lax.rsqrt(a + eps), 1 / (jnp.sqrt(a) + eps)),
                0.0,
            ),
            sum_of_squares,
        )
        updates = _descend(lr, _tmap(lambda s, g: s * g, scale, grads))
        internals = {"v": sum_of_squares, "step_size": _tmap(lambda s: lr * s, scale)}
        return updates, AdagradState(_increment(state.count), sum_of_squares), internals

    return Optimizer(init, update)


def adadelta() -> Optimizer:
    r"""Adadelta (optax.adadelta): steps in the units of θ, built from past steps.

    .. math::
        g_t ← g_t + λ·θ_{t−1}                                  (coupled weight decay first)
        E[g²]_t = ρ·E[g²]_{t−1} + (1 − ρ)·g_t²
        Δ_t = √(E[Δ²]_{t−1} + ε) / √(E[g²]_t + ε) · g_t
        E[Δ²]_t = ρ·E[Δ²]_{t−1} + (1 − ρ)·Δ_t²
        θ_t = θ_{t−1} − α·Δ_t

    Args:
      learning_rate: α (Zeiler has none: 1.0).
      rho: ρ, decay of both running averages.
      eps: ε, sets the size of the first steps (√ε / √(E[g²] + ε)).
      weight_decay: λ, an L2 penalty added to the gradient.

    References:
      Zeiler, ADADELTA: An Adaptive Learning Rate Method, 2012.
    """

    def init(params: Params) -> AdadeltaState:
        return AdadeltaState(_zero_count(), _zeros(params), _zeros(params))

    def update(
        grads: Params, state: AdadeltaState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdadeltaState, Internals]:
        lr, rho, eps, weight_decay = _read(hparams, "learning_rate", "rho", "eps", "weight_decay")
        grads = _add_weight_decay(grads, params, weight_decay)  # optax: L2 added to g first
        e_g = _ema(_square(grads), state.e_g, rho)
        scale = _tmap(lambda eg, ex: jnp.sqrt(ex + eps) / jnp.sqrt(eg + eps), e_g, state.e_x)
        delta = _tmap(lambda s, g: s * g, scale, grads)
        e_x = _ema(_square(delta), state.e_x, rho)
        updates = _descend(lr, delta)
        internals = {"v": e_g, "step_size": _tmap(lambda s: lr * s, scale)}
        return updates, AdadeltaState(_increment(state.count), e_g, e_x), internals

    return Optimizer(init, update)


_RMSPROP_NAMES = (
    "learning_rate", "decay", "eps", "initial_scale", "eps_inside",
    "centered", "momentum", "nesterov", "bias_correction",
)  # fmt: skip


def rmsprop() -> Optimizer:
    r"""RMSprop (optax.rmsprop) with every option as a hyperparameter.

    .. math::
        m_t = ρ·m_{t−1} + (1 − ρ)·g_t
        v_t = ρ·v_{t−1} + (1 − ρ)·g_t²                 (v_0 = initial_scale)
        c_t = 1 − ρ^t with bias_correction, else 1
        s_t = max(v_t/c_t − (m_t/c_t)², 0) if centered, else v_t/c_t
        u_t = −α·g_t / √(s_t + ε)  (eps_inside)   or   −α·g_t / (√s_t + ε)
        b_t = u_t + μ·b_{t−1}
        θ_t = θ_{t−1} + (u_t + μ·b_t if nesterov, else b_t)

    Momentum acts on the α-scaled step (optax's chain order); μ = 0 is plain RMSprop.
    Internals: "m" is the running mean of g (what `centered` subtracts), "v" the running mean
    of g², "step_size" the factor on g before momentum.

    Args:
      learning_rate: α.
      decay: ρ (PyTorch's alpha).
      eps: ε.
      initial_scale: v_0.
      eps_inside, centered, nesterov, bias_correction: switches (0/1).
      momentum: μ.

    References:
      Hinton, Neural Networks for Machine Learning, lecture 6e, 2012;
      Graves, Generating Sequences With Recurrent Neural Networks, 2013 (centered).
    """

    def init(params: Params) -> RmspropState:
        return RmspropState(_zero_count(), _zeros(params), _zeros(params), _zeros(params))

    def update(
        grads: Params, state: RmspropState, params: Params, hparams: HParamValues
    ) -> tuple[Params, RmspropState, Internals]:
        lr, decay, eps, initial_scale, eps_inside, centered, mom, nesterov, bias_correction = _read(
            hparams, *_RMSPROP_NAMES
        )
        count = _increment(state.count)
        mu = _ema(grads, state.mu, decay)
        nu = _ema(_square(grads), _start_value(state.count, state.nu, initial_scale), decay)
        divisor = _bias_divisor(decay, count, bias_correction)
        mu_hat, nu_hat = _divide(mu, divisor), _divide(nu, divisor)
        # centered: divide by the standard deviation of g instead of its RMS
        # (clamped at 0: v̂ − m̂² is exactly 0 for one gradient, e.g. at step 1 with bias
        # correction, and rounding must not turn it into the root of a negative number)
        spread = _tmap(
            lambda m, n: jnp.where(_on(centered), jnp.maximum(n - jnp.square(m), 0.0), n), mu_hat, nu_hat
        )
        scale = _tmap(
            lambda s: jnp.where(_on(eps_inside), jax.lax.rsqrt(s + eps), 1 / (jnp.sqrt(s) + eps)),
            spread,
        )
        scaled = _descend(lr, _tmap(lambda s, g: s * g, scale, grads))
        updates, trace = _trace(scaled, state.trace, mom, nesterov)
        internals = {
            "m": mu,
            "v": nu,
            "v_hat": nu_hat,
            "step_size": _tmap(lambda s: lr * s, scale),
        }
        return updates, RmspropState(count, mu, nu, trace), internals

    return Optimizer(init, update)


def adam(decoupled_weight_decay: bool = False) -> Optimizer:
    r"""Adam (optax.adam), or AdamW (optax.adamw) with `decoupled_weight_decay`.

    .. math::
        m_t = β₁·m_{t−1} + (1 − β₁)·g_t
        v_t = β₂·v_{t−1} + (1 − β₂)·g_t²
        c_{k,t} = 1 − β_k^t with bias_correction, else 1        (k = 1, 2)
        m̂_t = m_t / c_{1,t},   v̂_t = v_t / c_{2,t}
        d_t = m̂_t / (√(v̂_t + ε̄) + ε)                           (optax, PyTorch)
        d_t = (√c_{2,t} / c_{1,t})·m_t / (√(v_t + ε̄) + ε)       (eps_hat: Keras)
        θ_t = θ_{t−1} − α·d_t              (AdamW: θ_t = θ_{t−1} − α·(d_t + λ·θ_{t−1}))

    Args:
      decoupled_weight_decay: fixed when built; True is AdamW.
      learning_rate: α.
      b1, b2: β₁, β₂, decays of the averages of g and g².
      eps: ε, added to the root.   eps_root: ε̄, added inside it.
      bias_correction, eps_hat: switches (0/1).
      weight_decay: λ (AdamW only).

    References:
      Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014;
      Loshchilov & Hutter, Decoupled Weight Decay Regularization, 2019 (AdamW).
    """
    names = ["learning_rate", "b1", "b2", "eps", "eps_root", "bias_correction", "eps_hat"]
    if decoupled_weight_decay:
        names.append("weight_decay")

    def update(
        grads: Params, state: AdamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdamState, Internals]:
        lr, b1, b2, eps, eps_root, bias_correction, eps_hat, *wd = _read(hparams, *names)
        moments = _adam_moments(grads, state, b1, b2, bias_correction)
        v_hat = _divide(moments.nu, moments.c2)
        denominator, step_size = _adam_denominator(v_hat, moments.c2, lr, eps, eps_root, eps_hat)
        direction = _over(moments.m_hat, denominator)
        if decoupled_weight_decay:
            direction = _add_weight_decay(direction, params, wd[0])
        updates = _descend(lr, direction)
        return (
            updates,
            AdamState(moments.count, moments.mu, moments.nu),
            _adam_internals(moments, v_hat, step_size),
        )

    return Optimizer(_adam_init, update)


def amsgrad() -> Optimizer:
    r"""AMSGrad (optax.amsgrad): Adam whose denominator never shrinks.

    .. math::
        m_t, v_t, c_{k,t}, m̂_t as in Adam (bias correction always on)
        v^max_t = max(v^max_{t−1}, v_t / c_{2,t}),  v̂_t = v^max_t             (optax)
        v^max_t = max(v^max_{t−1}, v_t),  v̂_t = v^max_t / c_{2,t}      (max_raw: Keras, PyTorch)
        θ_t = θ_{t−1} − α·m̂_t / (√(v̂_t + ε̄) + ε)     (or Adam's ε-hat form)

    Args:
      learning_rate, b1, b2, eps, eps_root, eps_hat: as in Adam.
      max_raw: switch (0/1), keep the max of the uncorrected v.

    References:
      Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018.
    """

    def init(params: Params) -> AmsgradState:
        return AmsgradState(_zero_count(), _zeros(params), _zeros(params), _zeros(params))

    def update(
        grads: Params, state: AmsgradState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AmsgradState, Internals]:
        lr, b1, b2, eps, eps_root, max_raw, eps_hat = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "max_raw", "eps_hat"
        )
        moments = _adam_moments(grads, state, b1, b2)
        c2, raw = moments.c2, _on(max_raw)
        nu_max = _tmap(lambda old, n: jnp.maximum(old, jnp.where(raw, n, n / c2)), state.nu_max, moments.nu)
        v_hat = _tmap(lambda v: jnp.where(raw, v / c2, v), nu_max)
        denominator, step_size = _adam_denominator(v_hat, c2, lr, eps, eps_root, eps_hat)
        updates = _descend(lr, _over(moments.m_hat, denominator))
        return (
            updates,
            AmsgradState(moments.count, moments.mu, moments.nu, nu_max),
            _adam_internals(moments, v_hat, step_size),
        )

    return Optimizer(init, update)


def adamax() -> Optimizer:
    r"""Adamax (optax.adamax): Adam with the infinity norm, no correction on v.

    .. math::
        m_t = β₁·m_{t−1} + (1 − β₁)·g_t
        v_t = max(|g_t| + ε, β₂·v_{t−1})                       (optax, PyTorch)
        v_t = max(|g_t|, β₂·v_{t−1})                           (eps_outside: Keras)
        m̂_t = m_t / (1 − β₁^t)
        θ_t = θ_{t−1} − α·m̂_t / v_t          (eps_outside: α·m̂_t / (v_t + ε))

    Args:
      learning_rate, b1, eps: as in Adam.
      b2: β₂, decay of the running max of |g|.
      eps_outside: switch (0/1), ε added to the max instead of to |g|.

    References:
      Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014 (section 7).
    """

    def update(
        grads: Params, state: AdamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdamState, Internals]:
        lr, b1, b2, eps, eps_outside = _read(hparams, "learning_rate", "b1", "b2", "eps", "eps_outside")
        outside = _on(eps_outside)
        eps_in, eps_out = jnp.where(outside, 0.0, eps), jnp.where(outside, eps, 0.0)

        def running_max(g: Params, m: Params, v: Params) -> Params:
            return _tmap(lambda g, v: jnp.maximum(jnp.abs(g) + eps_in, b2 * v), g, v)

        moments = _adam_moments(grads, state, b1, b2, second_moment=running_max)
        nu, m_hat = moments.nu, moments.m_hat
        updates = _descend(lr, _tmap(lambda m, v: m / (v + eps_out), m_hat, nu))
        internals = {
            "m": moments.mu,
            "v": nu,
            "m_hat": m_hat,
            "step_size": _tmap(lambda v: lr / (v + eps_out), nu),
        }
        return updates, AdamState(moments.count, moments.mu, nu), internals

    return Optimizer(_adam_init, update)


_LOG_096 = math.log(0.96)  # Dozat's momentum-schedule base


def nadam() -> Optimizer:
    r"""NAdam: Adam with Nesterov's look-ahead in the first moment (optax.nadam), or with
    Dozat's momentum schedule as Keras (ψ = 1) and PyTorch (ψ = 0.004) run it.

    .. math::
        m_t, v_t as in Adam
        μ_k = β₁·(1 − ½·0.96^{kψ}) with momentum_schedule, else β₁
        m̂_t = μ_{t+1}·m_t / (1 − Π_{i≤t+1} μ_i) + (1 − μ_t)·g_t / (1 − Π_{i≤t} μ_i)
        v̂_t = v_t / (1 − β₂^t)
        θ_t = θ_{t−1} − α·m̂_t / (√(v̂_t + ε̄) + ε)

    With μ_t = β₁ that is optax's β₁·m_t/(1−β₁^{t+1}) + (1−β₁)·g_t/(1−β₁^t).

    Args:
      learning_rate, b1, b2, eps, eps_root: as in Adam.
      momentum_schedule: switch (0/1), Dozat's μ_t instead of a constant β₁.
      momentum_decay: ψ, the pace of that schedule.

    References:
      Dozat, Incorporating Nesterov Momentum into Adam, ICLR workshop 2016.
    """

    def init(params: Params) -> NadamState:
        dtype = jnp.result_type(*jax.tree.leaves(params)) if jax.tree.leaves(params) else jnp.float32
        return NadamState(_zero_count(), _zeros(params), _zeros(params), jnp.zeros([], dtype))

    def update(
        grads: Params, state: NadamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, NadamState, Internals]:
        lr, b1, b2, eps, eps_root, schedule, psi = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "momentum_schedule", "momentum_decay"
        )
        moments = _adam_moments(grads, state, b1, b2)
        count, mu = moments.count, moments.mu
        scheduled = _on(schedule)
        t = _float_count(count, b1)
        beta1 = jnp.asarray(b1, t.dtype)

        def mu_at(k: jax.Array) -> tuple[jax.Array, jax.Array]:  # μ_k and log μ_k
            half_power = 0.5 * jnp.exp(k * psi * _LOG_096)
            return (
                jnp.where(scheduled, beta1 * (1.0 - half_power), beta1),
                jnp.where(scheduled, jnp.log(beta1) + jnp.log1p(-half_power), jnp.log(beta1)),
            )

        (mu_t, log_mu_t), (mu_next, log_mu_next) = mu_at(t), mu_at(t + 1.0)
        log_product = state.log_mu_product + log_mu_t.astype(state.log_mu_product.dtype)
        # 1 − Π μ_i; with the constant μ = β₁ it is 1 − β₁^t, computed directly
        c_now = jnp.where(scheduled, -jnp.expm1(log_product), _one_minus_power(beta1, count))
        c_next = jnp.where(
            scheduled, -jnp.expm1(log_product + log_mu_next), _one_minus_power(beta1, _increment(count))
        )
        m_hat = _tmap(lambda m, g: mu_next * m / c_next + (1.0 - mu_t) * g / c_now, mu, grads)
        v_hat = _divide(moments.nu, moments.c2)
        denominator, step_size = _adam_denominator(v_hat, moments.c2, lr, eps, eps_root)
        updates = _descend(lr, _over(m_hat, denominator))
        internals = _adam_internals(moments._replace(m_hat=m_hat), v_hat, step_size)
        return updates, NadamState(count, mu, moments.nu, log_product), internals

    return Optimizer(init, update)


def _coth_gap(y: jax.Array) -> jax.Array:
    """1/y − 1/(e^y − 1) for y > 0, accurate everywhere (a series below 1, where the two
    terms nearly cancel): 1/2 − y/12 + y³/720 − y⁵/30240 + y⁷/1209600 − y⁹/47900160."""
    small = jnp.minimum(y, 1.0)
    y2 = small * small
    series = 0.5 - small * (1 / 12 - y2 * (1 / 720 - y2 * (1 / 30240 - y2 * (1 / 1209600 - y2 / 47900160))))
    big = jnp.maximum(y, 1.0)
    return jnp.where(y < 1.0, series, 1.0 / big - 1.0 / jnp.expm1(big))


def radam_rho(b2: Scalar, count: jax.Array) -> jax.Array:
    """ρ_t = ρ_∞ − 2t·β₂^t/(1−β₂^t), without cancellation.

    With L = −log β₂ and h(y) = 1/y − 1/(e^y − 1): ρ_t = 1 + 2·(t·h(tL) − h(L)). The direct
    formula subtracts two numbers near ρ_∞ ≈ 2/(1−β₂) (20 000 at β₂ = 0.9999): in float32 it
    was 31 % off at steps 6-12. β₂ = 0 gives ρ_t = 1.
    """
    b2 = jnp.asarray(b2)
    t = _float_count(count, b2)
    log_rate = -jnp.log(b2)
    return 1.0 + 2.0 * (t * _coth_gap(t * log_rate) - _coth_gap(log_rate))


def radam() -> Optimizer:
    r"""RAdam (optax.radam): momentum SGD while the variance of v̂ is intractable, then Adam
    scaled by the rectification r_t.

    .. math::
        m_t, v_t, m̂_t, v̂_t as in Adam (bias correction on)
        ρ_∞ = 2/(1 − β₂) − 1,   ρ_t = ρ_∞ − 2t·β₂^t/(1 − β₂^t)      (see radam_rho)
        r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
        θ_t = θ_{t−1} − α·r_t·m̂_t / (√(v̂_t + ε̄) + ε)   if ρ_t > 4 and ρ_t ≥ ρ_min
        θ_t = θ_{t−1} − α·m̂_t                          otherwise (momentum SGD)

    ρ_t > 4 is the paper's condition (r_t exists only there); ρ_min is optax's threshold
    (5 by default; PyTorch rectifies when ρ_t > 5), so a threshold below 4 acts as 4.

    Args:
      learning_rate, b1, b2, eps, eps_root, eps_hat: as in Adam (PyTorch's RAdam is the
        ε-hat form).
      threshold: ρ_min.

    References:
      Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020.
    """

    def update(
        grads: Params, state: AdamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdamState, Internals]:
        lr, b1, b2, eps, eps_root, threshold, eps_hat = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "threshold", "eps_hat"
        )
        moments = _adam_moments(grads, state, b1, b2)
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = radam_rho(b2, moments.count)
        rectified = (rho_t > 4.0) & (rho_t >= threshold)
        # the root's argument is negative while ρ_t ≤ 4: guarded, never selected then
        ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        r_t = jnp.sqrt(jnp.where(rectified, ratio, 1.0))
        v_hat = _divide(moments.nu, moments.c2)
        denominator, adaptive = _adam_denominator(v_hat, moments.c2, lr, eps, eps_root, eps_hat)
        direction = _tmap(
            lambda m, d: jnp.where(rectified, r_t.astype(m.dtype) * m / d, m), moments.m_hat, denominator
        )
        updates = _descend(lr, direction)
        step_size = _tmap(lambda a: jnp.where(rectified, r_t * a, lr), adaptive)
        return (
            updates,
            AdamState(moments.count, moments.mu, moments.nu),
            _adam_internals(moments, v_hat, step_size),
        )

    return Optimizer(_adam_init, update)


def adabelief() -> Optimizer:
    r"""AdaBelief (optax.adabelief): Adam whose second moment tracks the surprise (g_t − m_t)².

    .. math::
        m_t = β₁·m_{t−1} + (1 − β₁)·g_t
        s_t = β₂·s_{t−1} + (1 − β₂)·(g_t − m_t)² + ε̄
        m̂_t = m_t / (1 − β₁^t),   ŝ_t = s_t / (1 − β₂^t)
        θ_t = θ_{t−1} − α·m̂_t / (√ŝ_t + ε)

    Args:
      learning_rate, b1: as in Adam.
      b2: β₂, decay of the average of (g − m)².
      eps: ε, added to √ŝ.   eps_root: ε̄, added to s every step.

    References:
      Zhuang et al., AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
      Gradients, NeurIPS 2020.
    """

    def update(
        grads: Params, state: AdamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdamState, Internals]:
        lr, b1, b2, eps, eps_root = _read(hparams, "learning_rate", "b1", "b2", "eps", "eps_root")

        def belief(g: Params, m: Params, s: Params) -> Params:
            surprise = _tmap(lambda g, m: jnp.square(g - m), g, m)
            return _tmap(lambda x: x + eps_root, _ema(surprise, s, b2))

        moments = _adam_moments(grads, state, b1, b2, second_moment=belief)
        s_hat = _divide(moments.nu, moments.c2)
        updates = _descend(lr, _tmap(lambda m, v: m / (jnp.sqrt(v) + eps), moments.m_hat, s_hat))
        step_size = _tmap(lambda v: lr / (jnp.sqrt(v) + eps), s_hat)
        return (
            updates,
            AdamState(moments.count, moments.mu, moments.nu),
            _adam_internals(moments, s_hat, step_size),
        )

    return Optimizer(_adam_init, update)


def lion() -> Optimizer:
    r"""Lion (optax.lion): the sign of an interpolated momentum, so every coordinate moves
    exactly α (plus the decay).

    .. math::
        c_t = sign(β₁·m_{t−1} + (1 − β₁)·g_t)
        m_t = β₂·m_{t−1} + (1 − β₂)·g_t
        θ_t = θ_{t−1} − α·(c_t + λ·θ_{t−1})

    Args:
      learning_rate: α.
      b1: β₁, weight of the momentum in the sign's argument.
      b2: β₂, decay of the momentum m.
      weight_decay: λ, decoupled.

    References:
      Chen et al., Symbolic Discovery of Optimization Algorithms, 2023.
    """

    def init(params: Params) -> LionState:
        return LionState(_zero_count(), _zeros(params))

    def update(
        grads: Params, state: LionState, params: Params, hparams: HParamValues
    ) -> tuple[Params, LionState, Internals]:
        lr, b1, b2, weight_decay = _read(hparams, "learning_rate", "b1", "b2", "weight_decay")
        c = _tmap(lambda g, m: jnp.sign((1.0 - b1) * g + b1 * m), grads, state.mu)
        mu = _ema(grads, state.mu, b2)
        updates = _descend(lr, _add_weight_decay(c, params, weight_decay))
        internals = {"m": mu, "step_size": _full_like(grads, lr)}
        return updates, LionState(_increment(state.count), mu), internals

    return Optimizer(init, update)
