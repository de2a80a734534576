"""The optimizer registry: fourteen optimizers as pure init/update pairs over pytrees.

Every optimizer follows optax's math (names, meanings, defaults, order of operations), with
the hyperparameters read from `hparams` at update time so that a new value never recompiles.
Framework differences worth teaching are switches (kind "bool", 0.0 / 1.0) applied with
`jnp.where`: Adam's ε-hat (Keras) and bias correction, ε inside or outside the root for
RMSprop and Adagrad (optax and Keras inside, PyTorch outside).

Conventions shared by all of them:
- `updates` carry the minus sign: `params + updates` is the next point.
- `g_t` is the gradient at θ_{t-1}; `t` counts steps from 1 (the state's `count` after the step).
- `internals` holds what the app draws (see `INTERNAL_KEYS`); "step_size" is the per-coordinate
  factor in front of the (corrected) direction, e.g. α / (√v̂_t + ε) for Adam, so that the
  update is −step_size · m̂_t (plus weight decay where there is one).
- Learning rates have no default in optax; ours are picked for the 2D playground: each one moves
  visibly on Rosenbrock from (−1.5, 2) within 500 steps without blowing up.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from optim_core._base import (
    HParams,
    HyperParam,
    Optimizer,
    OptimizerSpec,
    Params,
)

__all__ = ["OPTIMIZERS"]

# --------------------------------------------------------------------------------------------
# Small shared pieces
# --------------------------------------------------------------------------------------------

_tmap = jax.tree.map
_INT32_MAX = jnp.iinfo(jnp.int32).max


def _read(hparams: HParams, *names: str) -> tuple:
    """The named hyperparameters, in order; a missing one is a KeyError that names it."""
    try:
        return tuple(hparams[name] for name in names)
    except KeyError as err:
        raise KeyError(
            f"missing hyperparameter {err.args[0]!r} (resolve_hparams fills in the defaults)"
        ) from None


def _on(flag: jax.Array | float) -> jax.Array:
    """A bool hyperparameter (0.0 / 1.0, possibly traced) as a boolean array."""
    return jnp.asarray(flag) > 0.5


def _zero_count() -> jax.Array:
    return jnp.zeros([], jnp.int32)


def _increment(count: jax.Array) -> jax.Array:
    # Saturate instead of wrapping to a negative step, as optax's safe_increment does.
    return jnp.where(count < _INT32_MAX, count + 1, count)


def _ema(new: Params, average: Params, decay: jax.Array | float) -> Params:
    """Exponential moving average, (1 − β)·new + β·average (optax's order of operations)."""
    return _tmap(lambda x, a: (1 - decay) * x + decay * a, new, average)


def _square(tree: Params) -> Params:
    return _tmap(jnp.square, tree)


def _float_count(count: jax.Array, like: jax.Array | float) -> jax.Array:
    """The step count t as a float of the hyperparameter's precision."""
    return count.astype(jnp.result_type(jnp.asarray(like).dtype, jnp.float32))


def _one_minus_power(decay: jax.Array | float, count: jax.Array) -> jax.Array:
    """1 − β^t computed as −expm1(t·log β): no cancellation when β^t is close to 1.

    (In float32, 1 − 0.9999^t loses about half its digits at small t; this keeps all of them.)
    β = 0 gives log β = −∞ and exactly 1 for every t ≥ 1.
    """
    decay = jnp.asarray(decay)
    return -jnp.expm1(_float_count(count, decay) * jnp.log(decay))


def _bias_divisor(decay: jax.Array | float, count: jax.Array, enabled: jax.Array | float = 1.0) -> jax.Array:
    """1 − β^t (without cancellation), or exactly 1 when bias correction is switched off."""
    return jnp.where(_on(enabled), _one_minus_power(decay, count), 1.0)


def _divide(tree: Params, divisor: jax.Array) -> Params:
    return _tmap(lambda x: x / divisor.astype(x.dtype), tree)


def _trace(grads: Params, trace: Params, decay, nesterov) -> tuple[Params, Params]:
    """Heavy-ball trace m_t = g_t + μ·m_{t-1}; returns (direction, new trace).

    With `nesterov` on, the direction looks one step ahead: g_t + μ·m_t.
    """
    new_trace = _tmap(lambda g, t: g + decay * t, grads, trace)
    direction = _tmap(lambda g, t: jnp.where(_on(nesterov), g + decay * t, t), grads, new_trace)
    return direction, new_trace


def _descend(learning_rate, direction: Params) -> Params:
    """−α · direction, leaf by leaf (the scale optax applies last)."""
    return _tmap(lambda d: -learning_rate * d, direction)


def _add_weight_decay(direction: Params, params: Params, weight_decay) -> Params:
    """direction + λ·θ (optax's add_decayed_weights); α then scales both terms."""
    return _tmap(lambda d, p: d + weight_decay * p, direction, params)


def _full_like(tree: Params, value) -> Params:
    """A pytree like `tree` filled with a (possibly traced) scalar."""
    return _tmap(lambda x: jnp.zeros_like(x) + value, tree)


def _start_value(count: jax.Array, tree: Params, initial) -> Params:
    """`tree`, or the constant `initial` on the first step.

    `init` never sees the hyperparameters, so accumulators with an initial value (Adagrad's
    initial_accumulator_value, RMSprop's initial_scale) take it here, when count is 0.
    """
    return _tmap(lambda x: jnp.where(count == 0, jnp.zeros_like(x) + initial, x), tree)


def _zeros(params: Params) -> Params:
    return _tmap(jnp.zeros_like, params)


# --------------------------------------------------------------------------------------------
# States
# --------------------------------------------------------------------------------------------


class CountState(NamedTuple):
    count: jax.Array


class TraceState(NamedTuple):
    count: jax.Array
    trace: Params  # m: the heavy-ball velocity


class AdagradState(NamedTuple):
    count: jax.Array
    sum_of_squares: Params


class AdadeltaState(NamedTuple):
    count: jax.Array
    e_g: Params  # running average of g²
    e_x: Params  # running average of Δθ²


class RmspropState(NamedTuple):
    count: jax.Array
    mu: Params  # running average of g (used when centered)
    nu: Params  # running average of g²
    trace: Params  # momentum buffer on the α-scaled updates


class AdamState(NamedTuple):
    count: jax.Array
    mu: Params
    nu: Params


class AmsgradState(NamedTuple):
    count: jax.Array
    mu: Params
    nu: Params
    nu_max: Params


class LionState(NamedTuple):
    count: jax.Array
    mu: Params


# --------------------------------------------------------------------------------------------
# Optimizers (each update mirrors its `latex`, line by line)
# --------------------------------------------------------------------------------------------


def sgd() -> Optimizer:
    """θ_t = θ_{t-1} − α·g_t."""

    def init(params: Params) -> CountState:
        return CountState(_zero_count())

    def update(grads, state, params, hparams):
        (lr,) = _read(hparams, "learning_rate")
        updates = _descend(lr, grads)
        return updates, CountState(_increment(state.count)), {"step_size": _full_like(grads, lr)}

    return Optimizer(init, update)


def momentum(nesterov: bool = False) -> Optimizer:
    """Heavy ball (optax.sgd(momentum=μ)), or Nesterov's look-ahead form (nesterov=True)."""
    nesterov_flag = 1.0 if nesterov else 0.0  # a fixed part of the optimizer, not a hyperparameter

    def init(params: Params) -> TraceState:
        return TraceState(_zero_count(), _zeros(params))

    def update(grads, state, params, hparams):
        lr, mu = _read(hparams, "learning_rate", "momentum")
        direction, trace = _trace(grads, state.trace, mu, nesterov_flag)
        updates = _descend(lr, direction)
        internals = {"m": trace, "step_size": _full_like(grads, lr)}
        return updates, TraceState(_increment(state.count), trace), internals

    return Optimizer(init, update)


def adagrad() -> Optimizer:
    """Per-coordinate step α/√(Σg²): optax.adagrad, with ε inside or outside the root."""

    def init(params: Params) -> AdagradState:
        return AdagradState(_zero_count(), _zeros(params))

    def update(grads, state, params, hparams):
        lr, acc0, eps, eps_inside = _read(
            hparams, "learning_rate", "initial_accumulator_value", "eps", "eps_inside"
        )
        previous = _start_value(state.count, state.sum_of_squares, acc0)
        sum_of_squares = _tmap(lambda g, a: jnp.square(g) + a, grads, previous)
        # optax's guard: a zero accumulator (only zero gradients so far) gives a zero step.
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
    """Zeiler's unit-corrected step √(E[Δθ²]+ε)/√(E[g²]+ε), times a learning rate."""

    def init(params: Params) -> AdadeltaState:
        return AdadeltaState(_zero_count(), _zeros(params), _zeros(params))

    def update(grads, state, params, hparams):
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
    """optax.rmsprop with every option as a hyperparameter: centered, momentum, nesterov,
    bias_correction, initial_scale, and ε inside or outside the root.

    Internals: "m" is the running mean of g (what `centered` subtracts), "v" the running mean
    of g², "step_size" the factor on g before momentum.
    """

    def init(params: Params) -> RmspropState:
        return RmspropState(_zero_count(), _zeros(params), _zeros(params), _zeros(params))

    def update(grads, state, params, hparams):
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
        # momentum acts on the α-scaled step (optax's chain order); momentum = 0 is plain RMSprop
        updates, trace = _trace(scaled, state.trace, mom, nesterov)
        internals = {
            "m": mu,
            "v": nu,
            "v_hat": nu_hat,
            "step_size": _tmap(lambda s: lr * s, scale),
        }
        return updates, RmspropState(count, mu, nu, trace), internals

    return Optimizer(init, update)


def _adam_moments(grads, state, b1, b2) -> tuple[jax.Array, Params, Params]:
    """t, m_t = EMA_β₁(g), v_t = EMA_β₂(g²)."""
    return _increment(state.count), _ema(grads, state.mu, b1), _ema(_square(grads), state.nu, b2)


def _adam_init(params: Params) -> AdamState:
    return AdamState(_zero_count(), _zeros(params), _zeros(params))


def _adam_scale(v_hat, divisor2, eps, eps_root, eps_hat, lr):
    """(scale, step_size) with scale(m̂) = m̂ / (√(v̂ + ε̄) + ε), or the ε-hat form.

    Keras's ε-hat form, (√c₂/c₁)·m / (√(v + ε̄) + ε) with v̂ = v/c₂, is exactly
    m̂ / (√(v̂ + ε̄/c₂) + ε/√c₂): the switch only rescales two scalars, so one elementwise
    formula serves both forms (and with bias correction off, c₂ = 1 and both forms agree).
    """
    root = eps_root * jnp.where(_on(eps_hat), 1 / divisor2, 1.0)
    eps_eff = eps * jnp.where(_on(eps_hat), jax.lax.rsqrt(divisor2), 1.0)
    denominator = _tmap(lambda vh: jnp.sqrt(vh + root) + eps_eff, v_hat)
    return denominator, _tmap(lambda d: lr / d, denominator)


def adam(decoupled_weight_decay: bool = False) -> Optimizer:
    """optax.adam (or optax.adamw with `decoupled_weight_decay`), plus two switches:

    - `bias_correction` off drops the 1/(1−β^t) factors (c₁ = c₂ = 1);
    - `eps_hat` on uses Keras's form: ε added to the uncorrected √v_t and the corrections
      folded into the step size, α·√c₂/c₁.
    """
    names = ["learning_rate", "b1", "b2", "eps", "eps_root", "bias_correction", "eps_hat"]
    if decoupled_weight_decay:
        names.append("weight_decay")

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_root, bias_correction, eps_hat, *wd = _read(hparams, *names)
        count, mu, nu = _adam_moments(grads, state, b1, b2)
        divisor1 = _bias_divisor(b1, count, bias_correction)
        divisor2 = _bias_divisor(b2, count, bias_correction)
        m_hat, v_hat = _divide(mu, divisor1), _divide(nu, divisor2)
        denominator, step_size = _adam_scale(v_hat, divisor2, eps, eps_root, eps_hat, lr)
        direction = _tmap(lambda mh, d: mh / d, m_hat, denominator)
        if decoupled_weight_decay:
            direction = _add_weight_decay(direction, params, wd[0])
        updates = _descend(lr, direction)
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "v_hat": v_hat, "step_size": step_size}
        return updates, AdamState(count, mu, nu), internals

    return Optimizer(_adam_init, update)


def amsgrad() -> Optimizer:
    """Adam whose denominator never shrinks.

    optax keeps the running max of the corrected v̂; with `max_raw` on, the max of the
    uncorrected v (Keras, PyTorch), corrected afterwards by the current 1−β₂^t. `eps_hat` is
    Adam's Keras form.
    """

    def init(params: Params) -> AmsgradState:
        return AmsgradState(_zero_count(), _zeros(params), _zeros(params), _zeros(params))

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_root, max_raw, eps_hat = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "max_raw", "eps_hat"
        )
        count, mu, nu = _adam_moments(grads, state, b1, b2)
        divisor2 = _bias_divisor(b2, count)
        m_hat = _divide(mu, _bias_divisor(b1, count))
        raw = _on(max_raw)
        nu_max = _tmap(lambda old, n: jnp.maximum(old, jnp.where(raw, n, n / divisor2)), state.nu_max, nu)
        v_hat = _tmap(lambda v: jnp.where(raw, v / divisor2, v), nu_max)
        denominator, step_size = _adam_scale(v_hat, divisor2, eps, eps_root, eps_hat, lr)
        updates = _descend(lr, _tmap(lambda m, d: m / d, m_hat, denominator))
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "v_hat": v_hat, "step_size": step_size}
        return updates, AmsgradState(count, mu, nu, nu_max), internals

    return Optimizer(init, update)


def adamax() -> Optimizer:
    """Adam with the infinity norm: v_t = max(|g_t| + ε, β₂·v_{t-1}), no correction on v.

    With `eps_outside` on (Keras), ε moves out of the max into the denominator: v_t + ε.
    """

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_outside = _read(hparams, "learning_rate", "b1", "b2", "eps", "eps_outside")
        count = _increment(state.count)
        mu = _ema(grads, state.mu, b1)
        outside = _on(eps_outside)
        eps_in, eps_out = jnp.where(outside, 0.0, eps), jnp.where(outside, eps, 0.0)
        nu = _tmap(lambda g, v: jnp.maximum(jnp.abs(g) + eps_in, b2 * v), grads, state.nu)
        m_hat = _divide(mu, _bias_divisor(b1, count))
        updates = _descend(lr, _tmap(lambda m, v: m / (v + eps_out), m_hat, nu))
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "step_size": _tmap(lambda v: lr / (v + eps_out), nu)}
        return updates, AdamState(count, mu, nu), internals

    return Optimizer(_adam_init, update)


_LOG_096 = math.log(0.96)  # Dozat's momentum-schedule base


class NadamState(NamedTuple):
    count: jax.Array
    mu: Params
    nu: Params
    log_mu_product: jax.Array  # log Π_{i≤t} μ_i (used when the momentum schedule is on)


def nadam() -> Optimizer:
    """optax.nadam (constant μ = β₁), or with `momentum_schedule` on, Dozat's schedule
    μ_t = β₁·(1 − ½·0.96^{tψ}) as Keras (ψ = 1) and PyTorch (ψ = 0.004, momentum_decay) run it:

        m̂_t = μ_{t+1}·m_t / (1 − Π_{i≤t+1} μ_i) + (1 − μ_t)·g_t / (1 − Π_{i≤t} μ_i).

    With μ_t = β₁ that is optax's β₁·m_t/(1−β₁^{t+1}) + (1−β₁)·g_t/(1−β₁^t).
    """

    def init(params: Params) -> NadamState:
        dtype = jnp.result_type(*jax.tree.leaves(params)) if jax.tree.leaves(params) else jnp.float32
        return NadamState(_zero_count(), _zeros(params), _zeros(params), jnp.zeros([], dtype))

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_root, schedule, psi = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "momentum_schedule", "momentum_decay"
        )
        count, mu, nu = _adam_moments(grads, state, b1, b2)
        scheduled = _on(schedule)
        t = _float_count(count, b1)
        b1 = jnp.asarray(b1, t.dtype)

        def mu_at(k):  # μ_k and log μ_k
            half_power = 0.5 * jnp.exp(k * psi * _LOG_096)
            return (jnp.where(scheduled, b1 * (1.0 - half_power), b1),
                    jnp.where(scheduled, jnp.log(b1) + jnp.log1p(-half_power), jnp.log(b1)))

        (mu_t, log_mu_t), (mu_next, log_mu_next) = mu_at(t), mu_at(t + 1.0)
        log_product = state.log_mu_product + log_mu_t.astype(state.log_mu_product.dtype)
        # 1 − Π μ_i; with the constant μ = β₁ it is 1 − β₁^t, computed directly
        c_now = jnp.where(scheduled, -jnp.expm1(log_product), _one_minus_power(b1, count))
        c_next = jnp.where(scheduled, -jnp.expm1(log_product + log_mu_next),
                           _one_minus_power(b1, _increment(count)))
        m_hat = _tmap(lambda m, g: mu_next * m / c_next + (1.0 - mu_t) * g / c_now, mu, grads)
        v_hat = _divide(nu, _bias_divisor(b2, count))
        denominator = _tmap(lambda v: jnp.sqrt(v + eps_root) + eps, v_hat)
        updates = _descend(lr, _tmap(lambda m, d: m / d, m_hat, denominator))
        step_size = _tmap(lambda d: lr / d, denominator)
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "v_hat": v_hat, "step_size": step_size}
        return updates, NadamState(count, mu, nu, log_product), internals

    return Optimizer(init, update)


def _coth_gap(y: jax.Array) -> jax.Array:
    """1/y − 1/(e^y − 1) for y > 0, accurate everywhere (a series below 1, where the two
    terms nearly cancel): 1/2 − y/12 + y³/720 − y⁵/30240 + y⁷/1209600 − y⁹/47900160."""
    small = jnp.minimum(y, 1.0)
    y2 = small * small
    series = 0.5 - small * (1 / 12 - y2 * (1 / 720 - y2 * (1 / 30240 - y2 * (1 / 1209600 - y2 / 47900160))))
    big = jnp.maximum(y, 1.0)
    return jnp.where(y < 1.0, series, 1.0 / big - 1.0 / jnp.expm1(big))


def radam_rho(b2: jax.Array | float, count: jax.Array) -> jax.Array:
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
    """Rectified Adam: momentum SGD while the variance of v̂ is intractable, then Adam scaled
    by the rectification r_t.

    Rectified when ρ_t > 4 (the paper's condition: r_t is only defined there) and ρ_t ≥ ρ_min
    (optax's threshold, 5 by default; PyTorch rectifies when ρ_t > 5). A threshold below 4
    therefore acts as 4. `eps_hat` is Adam's Keras form (PyTorch's RAdam adds ε to the
    uncorrected √v).
    """

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_root, threshold, eps_hat = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "eps_root", "threshold", "eps_hat"
        )
        count, mu, nu = _adam_moments(grads, state, b1, b2)
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = radam_rho(b2, count)
        rectified = (rho_t > 4.0) & (rho_t >= threshold)
        # the root's argument is negative while ρ_t ≤ 4: guarded, never selected then
        ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        r_t = jnp.sqrt(jnp.where(rectified, ratio, 1.0))
        divisor2 = _bias_divisor(b2, count)
        m_hat = _divide(mu, _bias_divisor(b1, count))
        v_hat = _divide(nu, divisor2)
        denominator, adaptive = _adam_scale(v_hat, divisor2, eps, eps_root, eps_hat, lr)
        direction = _tmap(
            lambda m, d: jnp.where(rectified, r_t.astype(m.dtype) * m / d, m), m_hat, denominator
        )
        updates = _descend(lr, direction)
        step_size = _tmap(lambda a: jnp.where(rectified, r_t * a, lr), adaptive)
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "v_hat": v_hat, "step_size": step_size}
        return updates, AdamState(count, mu, nu), internals

    return Optimizer(_adam_init, update)


def adabelief() -> Optimizer:
    """Adam whose second moment tracks the surprise (g_t − m_t)² instead of g_t²."""

    def update(grads, state, params, hparams):
        lr, b1, b2, eps, eps_root = _read(hparams, "learning_rate", "b1", "b2", "eps", "eps_root")
        count = _increment(state.count)
        mu = _ema(grads, state.mu, b1)
        surprise = _tmap(lambda g, m: jnp.square(g - m), grads, mu)
        s = _tmap(lambda x: x + eps_root, _ema(surprise, state.nu, b2))
        m_hat = _divide(mu, _bias_divisor(b1, count))
        s_hat = _divide(s, _bias_divisor(b2, count))
        updates = _descend(lr, _tmap(lambda m, v: m / (jnp.sqrt(v) + eps), m_hat, s_hat))
        step_size = _tmap(lambda v: lr / (jnp.sqrt(v) + eps), s_hat)
        internals = {"m": mu, "v": s, "m_hat": m_hat, "v_hat": s_hat, "step_size": step_size}
        return updates, AdamState(count, mu, s), internals

    return Optimizer(_adam_init, update)


def lion() -> Optimizer:
    """Sign of an interpolated momentum, so every coordinate moves exactly α (plus decay)."""

    def init(params: Params) -> LionState:
        return LionState(_zero_count(), _zeros(params))

    def update(grads, state, params, hparams):
        lr, b1, b2, weight_decay = _read(hparams, "learning_rate", "b1", "b2", "weight_decay")
        c = _tmap(lambda g, m: jnp.sign((1.0 - b1) * g + b1 * m), grads, state.mu)
        mu = _ema(grads, state.mu, b2)
        updates = _descend(lr, _add_weight_decay(c, params, weight_decay))
        internals = {"m": mu, "step_size": _full_like(grads, lr)}
        return updates, LionState(_increment(state.count), mu), internals

    return Optimizer(init, update)


# --------------------------------------------------------------------------------------------
# Hyperparameter specs
# --------------------------------------------------------------------------------------------

# (0, 100]: a closed valid interval needs a positive floor to exclude 0.
_LR_VALID = (1e-12, 100.0)
_UNIT = (0.0, 0.9999)  # decay rates: 1 would freeze the average


def _lr(default: float, low: float = 1e-5, high: float = 10.0, note: str = "") -> HyperParam:
    help_text = "learning rate: global step size (the value in force at this step)"
    return HyperParam(
        "learning_rate",
        r"\alpha",
        default,
        low,
        high,
        log=True,
        help=help_text + (f"; {note}" if note else ""),
        valid=_LR_VALID,
    )


def _eps(default: float, help_text: str, low: float = 1e-12) -> HyperParam:
    return HyperParam("eps", r"\epsilon", default, low, 1e-1, log=True, help=help_text, valid=(0.0, 1.0))


def _eps_root(default: float = 0.0, help_text: str = "") -> HyperParam:
    return HyperParam(
        "eps_root",
        r"\bar\epsilon",
        default,
        0.0,
        1e-6,
        help=help_text or "added to v̂ inside the square root (needed to differentiate through)",
        valid=(0.0, 1.0),
    )


def _b1(default: float = 0.9, help_text: str = "decay of the gradient average m (momentum)") -> HyperParam:
    return HyperParam("b1", r"\beta_1", default, 0.0, 0.999, help=help_text, valid=_UNIT)


def _b2(default: float = 0.999, help_text: str = "decay of the squared-gradient average v") -> HyperParam:
    return HyperParam("b2", r"\beta_2", default, 0.5, 0.9999, help=help_text, valid=_UNIT)


def _flag(name: str, symbol: str, default: float, help_text: str) -> HyperParam:
    return HyperParam(name, symbol, default, 0.0, 1.0, help=help_text, kind="bool")


def _weight_decay(default: float, help_text: str) -> HyperParam:
    return HyperParam("weight_decay", r"\lambda", default, 0.0, 0.1, help=help_text, valid=(0.0, 10.0))


def _momentum_mu(default: float, help_text: str) -> HyperParam:
    return HyperParam("momentum", r"\mu", default, 0.0, 0.999, help=help_text, valid=_UNIT)


_ADAM_EPS = _eps(1e-8, "added to √v̂ so the step stays finite where v̂ ≈ 0")
_EPS_INSIDE = _flag(
    "eps_inside",
    r"\epsilon_{\text{in}}",
    1.0,
    "ε inside the root √(v+ε) (optax, Keras) or outside √v+ε (PyTorch)",
)
_DECOUPLED_DECAY_HELP = "decoupled weight decay: pulls θ toward 0 at rate α·λ"
_EPS_HAT = _flag(
    "eps_hat",
    r"\hat\epsilon",
    0.0,
    "Keras form: ε added to the uncorrected √v, corrections folded into α",
)


def _spec(
    name: str,
    label: str,
    optimizer: Optimizer,
    hyperparams: tuple[HyperParam, ...],
    latex: str,
    description: str,
    reference: str,
) -> OptimizerSpec:
    return OptimizerSpec(
        name=name,
        label=label,
        hyperparams=hyperparams,
        latex=latex.strip(),
        optimizer=optimizer,
        description=description,
        reference=reference,
    )


_ADAM_HPARAMS = (
    _lr(0.02, note="0.02 moves Rosenbrock visibly; 1e-3 is the usual network default"),
    _b1(),
    _b2(),
    _ADAM_EPS,
    _eps_root(),
    _flag(
        "bias_correction",
        r"\text{bc}",
        1.0,
        "divide m, v by 1−β^t so early steps are not too small",
    ),
    _EPS_HAT,
)

# The corrections c_{k,t} and the ε-hat step, shared by the Adam family's equations.
_CORRECTIONS = r"""c_{k,t} &= \begin{cases} 1-\beta_k^t & \text{if } \text{bc} \\
  1 & \text{otherwise} \end{cases} \quad (k = 1, 2) \\
\hat m_t &= m_t / c_{1,t}, \quad \hat v_t = v_t / c_{2,t} \\"""
_ADAM_DIRECTION = r"""\begin{cases} \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon)
  & \text{if not } \hat\epsilon \\
  \frac{\sqrt{c_{2,t}}}{c_{1,t}}\, m_t / (\sqrt{v_t + \bar\epsilon} + \epsilon)
  & \text{if } \hat\epsilon \end{cases}"""

_ADAM_LATEX = rf"""
\begin{{aligned}}
m_t &= \beta_1 m_{{t-1}} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{{t-1}} + (1-\beta_2)\, g_t^2 \\
{_CORRECTIONS}
\theta_t &= \theta_{{t-1}} - \alpha\, {_ADAM_DIRECTION}
\end{{aligned}}
"""

_ADAMW_LATEX = rf"""
\begin{{aligned}}
m_t &= \beta_1 m_{{t-1}} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{{t-1}} + (1-\beta_2)\, g_t^2 \\
{_CORRECTIONS}
d_t &= {_ADAM_DIRECTION} \\
\theta_t &= \theta_{{t-1}} - \alpha\, (d_t + \lambda\, \theta_{{t-1}})
\end{{aligned}}
"""


OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "sgd",
            "SGD",
            sgd(),
            (_lr(1e-3, note="stable while α·curvature < 2; Rosenbrock's walls reach ~2000"),),
            r"""
\begin{aligned}
\theta_t &= \theta_{t-1} - \alpha\, g_t
\end{aligned}""",
            "Plain gradient descent: one step size for every direction, so ravines zig-zag.",
            "Robbins & Monro, A Stochastic Approximation Method, 1951",
        ),
        _spec(
            "momentum",
            "Momentum (heavy ball)",
            momentum(nesterov=False),
            (
                _lr(1e-3),
                _momentum_mu(0.9, "fraction of the velocity kept each step (0 = plain SGD)"),
            ),
            r"""
\begin{aligned}
m_t &= g_t + \mu\, m_{t-1} \\
\theta_t &= \theta_{t-1} - \alpha\, m_t
\end{aligned}""",
            "A velocity that accumulates gradients: faster along ravines, overshoots at turns.",
            "Polyak, Some methods of speeding up the convergence of iteration methods, 1964",
        ),
        _spec(
            "nesterov",
            "Nesterov momentum",
            momentum(nesterov=True),
            (
                _lr(1e-3),
                _momentum_mu(0.9, "fraction of the velocity kept each step"),
            ),
            r"""
\begin{aligned}
m_t &= g_t + \mu\, m_{t-1} \\
\theta_t &= \theta_{t-1} - \alpha\, (g_t + \mu\, m_t)
\end{aligned}""",
            "Momentum that looks one step ahead, so it brakes before overshooting.",
            "Sutskever et al., On the importance of initialization and momentum in deep learning, 2013",
        ),
        _spec(
            "adagrad",
            "Adagrad",
            adagrad(),
            (
                _lr(0.1, note="the accumulated Σg² only shrinks the step"),
                HyperParam(
                    "initial_accumulator_value",
                    "G_0",
                    0.1,
                    0.0,
                    1.0,
                    help="starting value of Σg² (0.1 optax/Keras, 0 PyTorch)",
                    valid=(0.0, 100.0),
                ),
                _eps(1e-7, "keeps the root away from 0 (1e-7 optax/Keras, 1e-10 PyTorch)"),
                _EPS_INSIDE,
            ),
            r"""
\begin{aligned}
G_t &= G_{t-1} + g_t^2 \qquad (G_0 \text{ given}) \\
\theta_t &= \theta_{t-1} - \alpha\, g_t \,/ \begin{cases} \sqrt{G_t + \epsilon}
  & \text{if } \epsilon_{\text{in}} \\ \sqrt{G_t} + \epsilon & \text{otherwise} \end{cases}
  && (0 \text{ where } G_t = 0)
\end{aligned}""",
            "Per-coordinate steps shrink with the sum of all past squared gradients: "
            "no tuning per axis, but the step only ever decays.",
            "Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and "
            "Stochastic Optimization, JMLR 2011",
        ),
        _spec(
            "adadelta",
            "Adadelta",
            adadelta(),
            (
                _lr(
                    1.0,
                    low=1e-4,
                    high=10.0,
                    note="Zeiler has none (1.0, as PyTorch); Keras uses 0.001",
                ),
                HyperParam(
                    "rho",
                    r"\rho",
                    0.9,
                    0.0,
                    0.999,
                    help="decay of both running averages",
                    valid=_UNIT,
                ),
                _eps(1e-6, "sets the first steps' size: √ε / √(E[g²]+ε)"),
                _weight_decay(0.0, "L2 penalty added to the gradient (optax's coupled form)"),
            ),
            r"""
\begin{aligned}
E[g^2]_t &= \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t^2 \\
\Delta_t &= \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t \\
E[\Delta^2]_t &= \rho\, E[\Delta^2]_{t-1} + (1-\rho)\, \Delta_t^2 \\
\theta_t &= \theta_{t-1} - \alpha\, \Delta_t
  && (g_t \leftarrow g_t + \lambda\,\theta_{t-1} \text{ first})
\end{aligned}""",
            "Step sizes in the units of θ, built from past steps: starts tiny (√ε) and "
            "grows, and a small learning rate (Keras' 0.001) nearly freezes it.",
            "Zeiler, ADADELTA: An Adaptive Learning Rate Method, 2012",
        ),
        _spec(
            "rmsprop",
            "RMSprop",
            rmsprop(),
            (
                _lr(0.01),
                HyperParam(
                    "decay",
                    r"\rho",
                    0.9,
                    0.0,
                    0.9999,
                    help="decay of the squared-gradient average (PyTorch: alpha)",
                    valid=_UNIT,
                ),
                _eps(1e-8, "keeps the root away from 0 (Keras 1e-7 inside, PyTorch 1e-8 outside)"),
                HyperParam(
                    "initial_scale",
                    "v_0",
                    0.0,
                    0.0,
                    1.0,
                    help="starting value of v (0 PyTorch/Keras, 1 TF1)",
                    valid=(0.0, 100.0),
                ),
                _EPS_INSIDE,
                _flag(
                    "centered",
                    r"\text{centered}",
                    0.0,
                    "divide by the standard deviation of g (v − m²) instead of its RMS",
                ),
                _momentum_mu(0.0, "momentum on the scaled step (0 = off)"),
                _flag("nesterov", r"\text{nesterov}", 0.0, "Nesterov form of that momentum"),
                _flag("bias_correction", r"\text{bc}", 0.0, "divide m and v by 1−ρ^t"),
            ),
            r"""
\begin{aligned}
m_t &= \rho\, m_{t-1} + (1-\rho)\, g_t \\
v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t^2 \qquad (v_0 \text{ given}) \\
c_t &= \begin{cases} 1-\rho^t & \text{if } \text{bc} \\ 1 & \text{otherwise} \end{cases} \\
s_t &= \begin{cases} \max\big(v_t/c_t - (m_t/c_t)^2,\, 0\big) & \text{if } \text{centered} \\
  v_t / c_t & \text{otherwise} \end{cases} \\
u_t &= -\alpha\, g_t \,/ \begin{cases} \sqrt{s_t + \epsilon} & \text{if } \epsilon_{\text{in}} \\
  \sqrt{s_t} + \epsilon & \text{otherwise} \end{cases} \\
b_t &= u_t + \mu\, b_{t-1} \\
\theta_t &= \theta_{t-1} + \begin{cases} u_t + \mu\, b_t & \text{if } \text{nesterov} \\
  b_t & \text{otherwise} \end{cases}
\end{aligned}""",
            "Divides each coordinate by a running RMS of its gradients, so steep and flat "
            "directions move at similar speeds; forgets, unlike Adagrad.",
            "Hinton, Neural Networks for Machine Learning, lecture 6e, 2012; "
            "Graves, Generating Sequences With Recurrent Neural Networks, 2013 (centered)",
        ),
        _spec(
            "adam",
            "Adam",
            adam(),
            _ADAM_HPARAMS,
            _ADAM_LATEX,
            "Momentum plus RMSprop scaling with bias correction: steps of about α in every "
            "coordinate, whatever the gradient's scale.",
            "Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014",
        ),
        _spec(
            "adamw",
            "AdamW",
            adam(decoupled_weight_decay=True),
            _ADAM_HPARAMS + (_weight_decay(1e-4, _DECOUPLED_DECAY_HELP),),
            _ADAMW_LATEX,
            "Adam with weight decay applied to θ directly, not through the gradient, so "
            "the adaptive scaling does not weaken it.",
            "Loshchilov & Hutter, Decoupled Weight Decay Regularization, 2019",
        ),
        _spec(
            "amsgrad",
            "AMSGrad",
            amsgrad(),
            (
                _lr(0.05, note="the max of v̂ keeps steps small after a steep start"),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                _flag(
                    "max_raw",
                    r"\text{raw}",
                    0.0,
                    "keep the max of the uncorrected v (Keras, PyTorch), not of v̂ (optax)",
                ),
                _EPS_HAT,
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
c_{k,t} &= 1-\beta_k^t, \quad \hat m_t = m_t / c_{1,t} \\
v^{\max}_t &= \begin{cases} \max(v^{\max}_{t-1},\, v_t) & \text{if } \text{raw} \\
  \max(v^{\max}_{t-1},\, v_t / c_{2,t}) & \text{otherwise} \end{cases} \\
\hat v_t &= \begin{cases} v^{\max}_t / c_{2,t} & \text{if } \text{raw} \\
  v^{\max}_t & \text{otherwise} \end{cases} \\
\theta_t &= \theta_{t-1} - \alpha \begin{cases}
  \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon) & \text{if not } \hat\epsilon \\
  \frac{\sqrt{c_{2,t}}}{c_{1,t}}\, m_t / (\sqrt{c_{2,t} \hat v_t + \bar\epsilon} + \epsilon)
  & \text{if } \hat\epsilon \end{cases}
\end{aligned}""",
            "Adam whose denominator never shrinks, so a burst of large gradients keeps "
            "the steps small afterwards (the fix for Adam's non-convergence example).",
            "Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018",
        ),
        _spec(
            "adamax",
            "Adamax",
            adamax(),
            (
                _lr(0.05, note="the slowly decaying max of |g| keeps steps small"),
                _b1(),
                _b2(help_text="decay of the running max of |g|"),
                _eps(1e-8, "added to |g| inside the max (optax, PyTorch) or to v outside it (Keras)"),
                _flag(
                    "eps_outside",
                    r"\epsilon_{\text{out}}",
                    0.0,
                    "ε added to the max, v + ε (Keras), instead of to |g| inside it",
                ),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \begin{cases} \max\big(|g_t|,\; \beta_2 v_{t-1}\big) & \text{if } \epsilon_{\text{out}} \\
  \max\big(|g_t| + \epsilon,\; \beta_2 v_{t-1}\big) & \text{otherwise} \end{cases} \\
\hat m_t &= m_t / (1-\beta_1^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / \begin{cases}
  v_t + \epsilon & \text{if } \epsilon_{\text{out}} \\ v_t & \text{otherwise} \end{cases}
\end{aligned}""",
            "Adam with the infinity norm: scales by a decaying max of |g| instead of an RMS.",
            "Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014 (section 7)",
        ),
        _spec(
            "nadam",
            "NAdam",
            nadam(),
            (
                _lr(0.02),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                _flag(
                    "momentum_schedule",
                    r"\text{sched}",
                    0.0,
                    "Dozat's momentum schedule μ_t (Keras, PyTorch) instead of a constant β₁ (optax)",
                ),
                HyperParam(
                    "momentum_decay",
                    r"\psi",
                    0.004,
                    1e-4,
                    1.0,
                    log=True,
                    help="pace of the schedule μ_t: 0.004 in PyTorch, 1 in Keras (0.96^t)",
                    valid=(0.0, 10.0),
                ),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
\mu_k &= \begin{cases} \beta_1 \big(1 - \tfrac12\, 0.96^{k\psi}\big) & \text{if } \text{sched} \\
  \beta_1 & \text{otherwise} \end{cases} \\
\hat m_t &= \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i}
  + \frac{(1-\mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i} \\
\hat v_t &= v_t / (1-\beta_2^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon)
\end{aligned}""",
            "Adam with Nesterov's look-ahead in the first moment: reacts sooner at turns.",
            "Dozat, Incorporating Nesterov Momentum into Adam, ICLR workshop 2016",
        ),
        _spec(
            "radam",
            "RAdam",
            radam(),
            (
                _lr(0.005, note="the first steps are plain momentum SGD: large α blows up"),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                HyperParam(
                    "threshold",
                    r"\rho_{\min}",
                    5.0,
                    0.0,
                    20.0,
                    help="rectify once ρ_t ≥ this and ρ_t > 4 (r_t exists only there); "
                    "SGD-momentum before. Below 4 acts as 4",
                    valid=(0.0, 1e6),
                ),
                _EPS_HAT,
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
\rho_\infty &= 2 / (1-\beta_2) - 1 \\
\rho_t &= \rho_\infty - 2t\, \beta_2^t / (1-\beta_2^t) \\
r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} \\
c_{k,t} &= 1-\beta_k^t, \quad \hat m_t = m_t / c_{1,t}, \quad \hat v_t = v_t / c_{2,t} \\
d_t &= """ + _ADAM_DIRECTION + r""" \\
\theta_t &= \theta_{t-1} - \alpha
  \begin{cases} r_t\, d_t & \text{if } \rho_t > 4 \text{ and } \rho_t \ge \rho_{\min} \\
  \hat m_t & \text{otherwise (momentum SGD)} \end{cases}
\end{aligned}""",
            "Adam with a built-in warm-up: momentum SGD until v̂ is trustworthy, then "
            "Adam scaled by the rectification r_t.",
            "Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020",
        ),
        _spec(
            "adabelief",
            "AdaBelief",
            adabelief(),
            (
                _lr(0.02),
                _b1(),
                _b2(help_text="decay of the average of (g − m)²"),
                _eps(1e-16, "added to √ŝ (optax default 1e-16; the paper uses 1e-8)", low=1e-20),
                _eps_root(1e-16, "added to s each step (optax default 1e-16)"),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
s_t &= \beta_2 s_{t-1} + (1-\beta_2)\, (g_t - m_t)^2 + \bar\epsilon \\
\hat m_t &= m_t / (1-\beta_1^t) \\
\hat s_t &= s_t / (1-\beta_2^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat s_t} + \epsilon)
\end{aligned}""",
            "Adam that divides by how surprising the gradient is, (g − m)², not by its size: "
            "big confident steps where the gradient is predictable.",
            "Zhuang et al., AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed "
            "Gradients, NeurIPS 2020",
        ),
        _spec(
            "lion",
            "Lion",
            lion(),
            (
                _lr(
                    0.005,
                    low=1e-5,
                    high=1.0,
                    note="every coordinate moves exactly α, so keep it smaller than Adam's",
                ),
                _b1(0.9, "weight of the momentum in the sign's argument"),
                _b2(0.99, "decay of the momentum m"),
                _weight_decay(1e-3, _DECOUPLED_DECAY_HELP),
            ),
            r"""
\begin{aligned}
c_t &= \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1)\, g_t\big) \\
m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t \\
\theta_t &= \theta_{t-1} - \alpha\, (c_t + \lambda\, \theta_{t-1})
\end{aligned}""",
            "Only the sign of an interpolated momentum: every coordinate moves by exactly α, "
            "whatever the gradient's size.",
            "Chen et al., Symbolic Discovery of Optimization Algorithms, 2023",
        ),
    )
}
