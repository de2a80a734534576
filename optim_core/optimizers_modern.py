"""The optimizers a 2026 course shows: Schedule-Free SGD and AdamW, Prodigy, Yogi, Adan,
Lookahead (around Adam) and SAM, as pure init/update pairs with their registry specs.

Same conventions as `optim_core.rules` (whose small helpers they share):

    state = init(params)
    updates, state, internals = update(grads, state, params, hparams)

hyperparameters are read from `hparams` at every step (traced scalars: a new value never
recompiles), `updates` carry the minus sign and `g_t` is the gradient at the current params.
Each rule follows optax's math and order of operations (optax.yogi, optax.adan,
optax.lookahead, optax.contrib.schedule_free_sgd / schedule_free_adamw / prodigy / sam);
tests/optim_core/test_optimizers_modern.py checks them step for step against optax.

What the engine holds as "params" for each (the point where the gradient is taken):
- Schedule-Free: y, the interpolation between the fast iterate z and the average x.
- Lookahead: the fast weights; the slow weights live in the state.
- SAM (optax's transparent mode, sync_period 2): one gradient per engine step, alternating an
  ascent step to the probe θ + ρ·g/‖g‖ and a descent step θ − α·∇f(probe) from θ. So the path
  shows both, and two engine steps make one SAM step (the same gradient budget as two SGD steps).

Internals beyond `INTERNAL_KEYS` (each shaped like params; see `MODERN_INTERNAL_KEYS`):
z, y, x (Schedule-Free), d (Prodigy's step-size estimate, the same value in every coordinate),
slow, fast (Lookahead), probe, anchor (SAM: the point where the ascent gradient is taken and the
outer weights θ).

`MODERN_SPECS` holds their registry entries (hyperparameter specs, LaTeX, description,
reference), to be added to `optim_core.registry.OPTIMIZERS`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from optim_core._base import HParamValues, HyperParam, Internals, Optimizer, OptimizerSpec, Params
from optim_core.rules import (
    Scalar,
    _descend,
    _ema,
    _full_like,
    _increment,
    _one_minus_power,
    _read,
    _tmap,
    _zero_count,
    _zeros,
    adam,
)

__all__ = [
    "MODERN_INTERNAL_KEYS", "MODERN_SPECS", "adan", "lookahead_adam", "prodigy", "sam",
    "schedule_free_adamw", "schedule_free_sgd", "yogi",
]  # fmt: skip

# Keys the app can draw beyond optim_core._base.INTERNAL_KEYS.
MODERN_INTERNAL_KEYS: tuple[str, ...] = ("z", "y", "x", "d", "slow", "fast", "probe", "anchor")


def _bias_correct(tree: Params, decay: Scalar, count: jax.Array) -> Params:
    """tree / (1 − β^t)."""
    c = _one_minus_power(decay, count)
    return _tmap(lambda x: x / c.astype(x.dtype), tree)


def _tree_sum(tree: Params) -> jax.Array:
    total = jnp.zeros([])
    for leaf in jax.tree.leaves(tree):
        total = total + jnp.sum(leaf)
    return total


def _tree_norm(tree: Params) -> jax.Array:
    return jnp.sqrt(_tree_sum(_tmap(jnp.square, tree)))


# --------------------------------------------------------------------------------------------
# Schedule-Free SGD and AdamW
# --------------------------------------------------------------------------------------------


class ScheduleFreeState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]  # steps taken (optax's step_count − 1)
    weight_sum: jax.Array  # Σ of the averaging weights, max_lr^p
    max_lr: jax.Array
    z: Params
    nu: Params  # AdamW's second moment (zeros, unused, for SGD)


def _schedule_free(adamw: bool) -> Optimizer:
    names = (
        ["learning_rate", "b1", "b2", "eps", "weight_decay", "weight_lr_power"]
        if adamw
        else ["learning_rate", "b1", "weight_decay", "weight_lr_power"]
    )

    def init(params: Params) -> ScheduleFreeState:
        dtype = jnp.result_type(*jax.tree.leaves(params))
        return ScheduleFreeState(
            _zero_count(),
            jnp.zeros([], dtype),
            jnp.zeros([], dtype),
            _tmap(lambda p: p.copy(), params),
            _zeros(params),
        )

    def update(
        grads: Params, state: ScheduleFreeState, params: Params, hparams: HParamValues
    ) -> tuple[Params, ScheduleFreeState, Internals]:
        values = dict(zip(names, _read(hparams, *names), strict=True))
        lr, b1, wd, power = (values[k] for k in ("learning_rate", "b1", "weight_decay", "weight_lr_power"))
        count = _increment(state.count)
        max_lr = jnp.maximum(state.max_lr, lr)
        weight = max_lr**power
        weight_sum = state.weight_sum + weight
        # c_t = w_t / Σw (0 while every weight is 0; NaN stays NaN), as optax computes it
        c = jnp.where(
            jnp.isnan(weight) | jnp.isnan(weight_sum),
            jnp.nan,
            jnp.nan_to_num(weight / weight_sum, nan=0.0, posinf=jnp.inf),
        )
        if adamw:
            b2, eps = values["b2"], values["eps"]
            nu = _ema(_tmap(jnp.square, grads), state.nu, b2)
            nu_hat = _bias_correct(nu, b2, count)
            direction = _tmap(lambda g, v, y: g / (jnp.sqrt(v) + eps) + wd * y, grads, nu_hat, params)
        else:
            nu = state.nu
            direction = _tmap(lambda g, y: g + wd * y, grads, params)
        z = _tmap(lambda z_, d: z_ - lr * d, state.z, direction)
        x_prev = _tmap(lambda y, z_: (y - (1.0 - b1) * z_) / b1, params, state.z)
        x = _tmap(lambda xp, z_: (1.0 - c) * xp + c * z_, x_prev, z)
        y = _tmap(lambda x_, z_: b1 * x_ + (1.0 - b1) * z_, x, z)
        updates = _tmap(lambda yn, yo: yn - yo, y, params)
        internals: Internals = {"z": z, "y": y, "x": x, "step_size": _full_like(grads, lr)}
        if adamw:
            internals |= {
                "v": nu,
                "v_hat": nu_hat,
                "step_size": _tmap(lambda v: lr / (jnp.sqrt(v) + values["eps"]), nu_hat),
            }
        return updates, ScheduleFreeState(count, weight_sum, max_lr, z, nu), internals

    return Optimizer(init, update)


def schedule_free_sgd() -> Optimizer:
    r"""Schedule-Free SGD (optax.contrib.schedule_free_sgd), without warm-up (use a schedule).

    .. math::
        w_t = (\max_{i≤t} α_i)^p,   c_t = w_t / Σ_{i≤t} w_i
        z_t = z_{t−1} − α·(g_t + λ·y_{t−1})          (g_t = ∇f(y_{t−1}))
        x_t = (1 − c_t)·x_{t−1} + c_t·z_t
        y_t = β₁·x_t + (1 − β₁)·z_t                  (the params; evaluate at x_t)

    x_{t−1} is recovered from y_{t−1} and z_{t−1}: x_{t−1} = (y_{t−1} − (1 − β₁)·z_{t−1}) / β₁.

    Args:
      learning_rate: α (z's SGD step; its running max sets the averaging weights).
      b1: β₁ > 0, how far y sits from z toward the average x.
      weight_decay: λ, coupled (added to the gradient, at y).
      weight_lr_power: p, the weights' power of the learning rate.

    References:
      Defazio et al., The Road Less Scheduled, NeurIPS 2024.
    """
    return _schedule_free(adamw=False)


def schedule_free_adamw() -> Optimizer:
    r"""Schedule-Free AdamW (optax.contrib.schedule_free_adamw), without warm-up.

    .. math::
        v_t = β₂·v_{t−1} + (1 − β₂)·g_t²,   v̂_t = v_t / (1 − β₂^t)
        z_t = z_{t−1} − α·(g_t / (√v̂_t + ε) + λ·y_{t−1})
        c_t, x_t, y_t as in Schedule-Free SGD

    Args:
      learning_rate, b1, weight_decay, weight_lr_power: as in Schedule-Free SGD.
      b2: β₂, decay of the squared-gradient average.   eps: ε, added to the root.

    References:
      Defazio et al., The Road Less Scheduled, NeurIPS 2024.
    """
    return _schedule_free(adamw=True)


# --------------------------------------------------------------------------------------------
# Prodigy
# --------------------------------------------------------------------------------------------


class ProdigyState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]
    mu: Params  # m: average of d·g
    nu: Params  # v: average of (d·g)²
    s: Params  # s: weighted sum of d·g (the denominator's vector)
    shift: Params  # θ₀ − θ_{t−1}, summed from the updates (see prodigy)
    d: jax.Array  # the step-size estimate (starts at d₀)
    r: jax.Array  # the numerator's running sum


def prodigy() -> Optimizer:
    r"""Prodigy (optax.contrib.prodigy): Adam whose step size d is estimated as it goes.

    .. math::
        β₃ = √β₂,   b_t = √(1 − β₂^t) / (1 − β₁^t),   η_t = d_{t−1}·α·b_t
        m_t = β₁·m_{t−1} + (1 − β₁)·d_{t−1}·g_t
        v_t = β₂·v_{t−1} + (1 − β₂)·(d_{t−1}·g_t)²
        s_t = β₃·s_{t−1} + η_t·d_{t−1}·g_t / d₀
        r_t = β₃·r_{t−1} + (d_{t−1}/d₀)·η_t·⟨g_t, θ₀ − θ_{t−1}⟩
        d_t = max(d_{t−1}, r_t / ‖s_t‖₁)
        θ_t = θ_{t−1} − η_t·(m_t / (√v_t + d_t·ε) + λ·θ_{t−1})

    θ₀ − θ_{t−1} is kept as the sum of the updates so far rather than computed from the params
    (as optax does): the same number while params = θ₀ + Σ updates (as in the engine), but
    without float32's cancellation when the steps are tiny next to θ, which made the early d
    estimates 5-80 % off in float32.

    Args:
      learning_rate: α, a multiplier of the estimate (1 = trust d).
      b1, b2: β₁, β₂ of the moments.   eps: ε (scaled by d).
      estim_lr0: d₀, the initial under-estimate.   weight_decay: λ, decoupled (scaled by η_t).

    References:
      Mishchenko & Defazio, Prodigy: An Expeditiously Adaptive Parameter-Free Learner, ICML 2024.
    """

    def init(params: Params) -> ProdigyState:
        dtype = jnp.result_type(*jax.tree.leaves(params))
        # d starts at d₀, which init cannot read: d = 0 marks "not started" (see update).
        return ProdigyState(
            _zero_count(),
            _zeros(params),
            _zeros(params),
            _zeros(params),
            _zeros(params),
            jnp.zeros([], dtype),
            jnp.zeros([], dtype),
        )

    def update(
        grads: Params, state: ProdigyState, params: Params, hparams: HParamValues
    ) -> tuple[Params, ProdigyState, Internals]:
        lr, b1, b2, eps, d0, wd = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "estim_lr0", "weight_decay"
        )
        b3 = jnp.sqrt(b2)
        count = _increment(state.count)
        d = jnp.where(state.count == 0, d0, state.d)
        bc = jnp.sqrt(_one_minus_power(b2, count)) / _one_minus_power(b1, count)
        eta = d * lr * bc
        dg = _tmap(lambda g: d * g, grads)
        numerator = _tree_sum(_tmap(lambda g, shift: g * shift, grads, state.shift))
        mu = _tmap(lambda m, x: b1 * m + (1 - b1) * x, state.mu, dg)
        nu = _tmap(lambda v, x: b2 * v + (1 - b2) * x * x, state.nu, dg)
        s = _tmap(lambda s_, x: b3 * s_ + eta * x / d0, state.s, dg)
        r = b3 * state.r + (d / d0) * eta * numerator
        d_new = jnp.maximum(d, r / _tree_sum(_tmap(jnp.abs, s)))
        # optax adds the new estimate's d_t·ε (η_t still holds d_{t−1})
        updates = _tmap(lambda m, v, p: -wd * eta * p - eta * m / (jnp.sqrt(v) + d_new * eps), mu, nu, params)
        internals = {
            "m": mu,
            "v": nu,
            "d": _full_like(grads, d_new),
            "step_size": _tmap(lambda v: eta / (jnp.sqrt(v) + d_new * eps), nu),
        }
        shift = _tmap(lambda sh, u: sh - u, state.shift, updates)
        return updates, ProdigyState(count, mu, nu, s, shift, d_new, r), internals

    return Optimizer(init, update)


# --------------------------------------------------------------------------------------------
# Yogi and Adan
# --------------------------------------------------------------------------------------------

YOGI_INITIAL_ACCUMULATOR = 1e-6  # optax's initial m and v (a constant, not a hyperparameter)


class YogiState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]
    mu: Params
    nu: Params


def yogi() -> Optimizer:
    r"""Yogi (optax.yogi): Adam whose v moves toward g² by a fixed-size, sign-driven step.

    .. math::
        m_t = β₁·m_{t−1} + (1 − β₁)·g_t                       (m_0 = v_0 = 10⁻⁶)
        v_t = v_{t−1} − (1 − β₂)·sign(v_{t−1} − g_t²)·g_t²
        m̂_t = m_t / (1 − β₁^t),   v̂_t = v_t / (1 − β₂^t)
        θ_t = θ_{t−1} − α·m̂_t / (√v̂_t + ε)

    Args:
      learning_rate: α.   b1, b2: β₁, β₂.   eps: ε (optax's default 10⁻³).

    References:
      Zaheer et al., Adaptive Methods for Nonconvex Optimization, NeurIPS 2018.
    """

    def init(params: Params) -> YogiState:
        def start() -> Params:  # two separate buffers (a training loop may donate the state)
            return _tmap(lambda p: jnp.full_like(p, YOGI_INITIAL_ACCUMULATOR), params)

        return YogiState(_zero_count(), start(), start())

    def update(
        grads: Params, state: YogiState, params: Params, hparams: HParamValues
    ) -> tuple[Params, YogiState, Internals]:
        lr, b1, b2, eps = _read(hparams, "learning_rate", "b1", "b2", "eps")
        mu = _ema(grads, state.mu, b1)
        nu = _tmap(lambda g, v: v - (1 - b2) * jnp.sign(v - g * g) * (g * g), grads, state.nu)
        count = _increment(state.count)
        m_hat, v_hat = _bias_correct(mu, b1, count), _bias_correct(nu, b2, count)
        step_size = _tmap(lambda v: lr / (jnp.sqrt(v) + eps), v_hat)
        updates = _tmap(lambda m, v: -lr * (m / (jnp.sqrt(v) + eps)), m_hat, v_hat)
        internals = {"m": mu, "v": nu, "m_hat": m_hat, "v_hat": v_hat, "step_size": step_size}
        return updates, YogiState(count, mu, nu), internals

    return Optimizer(init, update)


class AdanState(NamedTuple):
    count: jax.Array  # type: ignore[assignment]
    mu: Params  # m: average of g
    delta: Params  # average of the gradient differences g_t − g_{t−1}
    nu: Params  # n: average of (g_t + (1 − β₂)(g_t − g_{t−1}))²
    prev: Params  # g_{t−1}


def adan() -> Optimizer:
    r"""Adan (optax.adan): Adam with Nesterov momentum estimated from gradient differences.

    .. math::
        Δ_t = g_t − g_{t−1}   (0 at t = 1)
        m_t = β₁·m_{t−1} + (1 − β₁)·g_t
        δ_t = β₂·δ_{t−1} + (1 − β₂)·Δ_t
        n_t = β₃·n_{t−1} + (1 − β₃)·(g_t + (1 − β₂)·Δ_t)²
        m̂, δ̂, n̂: each divided by 1 − β^t with its own β
        θ_t = θ_{t−1} − α·((m̂_t + (1 − β₂)·δ̂_t) / (√(n̂_t + ε̄) + ε) + λ·θ_{t−1})

    Args:
      learning_rate: α.   b1, b2, b3: β₁, β₂, β₃ (optax: 0.98, 0.92, 0.99).
      eps: ε.   eps_root: ε̄.   weight_decay: λ, decoupled.

    References:
      Xie et al., Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing Deep
      Models, TPAMI 2024 (arXiv 2208.06677).
    """

    def init(params: Params) -> AdanState:
        return AdanState(_zero_count(), _zeros(params), _zeros(params), _zeros(params), _zeros(params))

    def update(
        grads: Params, state: AdanState, params: Params, hparams: HParamValues
    ) -> tuple[Params, AdanState, Internals]:
        lr, b1, b2, b3, eps, eps_root, wd = _read(
            hparams, "learning_rate", "b1", "b2", "b3", "eps", "eps_root", "weight_decay"
        )
        diff = _tmap(lambda g, p: jnp.where(state.count == 0, jnp.zeros_like(g), g - p), grads, state.prev)
        mu = _ema(grads, state.mu, b1)
        delta = _ema(diff, state.delta, b2)
        nu = _ema(_tmap(lambda g, dg: jnp.square(g + (1 - b2) * dg), grads, diff), state.nu, b3)
        count = _increment(state.count)
        m_hat, d_hat, n_hat = (
            _bias_correct(mu, b1, count),
            _bias_correct(delta, b2, count),
            _bias_correct(nu, b3, count),
        )
        denominator = _tmap(lambda n: jnp.sqrt(n + eps_root) + eps, n_hat)
        direction = _tmap(
            lambda m, dl, den, p: (m + (1 - b2) * dl) / den + wd * p, m_hat, d_hat, denominator, params
        )
        updates = _descend(lr, direction)
        internals = {
            "m": mu,
            "v": nu,
            "m_hat": m_hat,
            "v_hat": n_hat,
            "step_size": _tmap(lambda den: lr / den, denominator),
        }
        return updates, AdanState(count, mu, delta, nu, grads), internals

    return Optimizer(init, update)


# --------------------------------------------------------------------------------------------
# Lookahead around Adam
# --------------------------------------------------------------------------------------------


class LookaheadState(NamedTuple):
    inner: object  # the inner Adam's state
    since_sync: jax.Array  # fast steps since the last synchronisation
    slow: Params


def lookahead_adam() -> Optimizer:
    r"""Lookahead (optax.lookahead) around Adam (optax.adam), reset_state=False.

    The params are the fast weights; the slow weights start equal to them.

    .. math::
        u_t = \text{Adam}_{α,β₁,β₂,ε}(g_t)                     (g_t at the fast weights)
        s_t = 1 if t is a multiple of k, else 0
        φ_t = φ_{t−1} + s_t·α_s·(θ_{t−1} + u_t − φ_{t−1})      (slow weights)
        θ_t = (1 − s_t)·(θ_{t−1} + u_t) + s_t·φ_t              (fast weights)

    Args:
      learning_rate, b1, b2, eps: the inner Adam's.
      sync_period: k, fast steps per slow step (rounded to a whole number ≥ 1).
      slow_step_size: α_s, how far the slow weights move toward the fast ones.

    References:
      Zhang, Lucas, Hinton & Ba, Lookahead Optimizer: k steps forward, 1 step back, NeurIPS 2019.
    """
    inner = adam()

    def init(params: Params) -> LookaheadState:
        return LookaheadState(inner.init(params), _zero_count(), _tmap(lambda p: p.copy(), params))

    def update(
        grads: Params, state: LookaheadState, params: Params, hparams: HParamValues
    ) -> tuple[Params, LookaheadState, Internals]:
        lr, b1, b2, eps, k, alpha = _read(
            hparams, "learning_rate", "b1", "b2", "eps", "sync_period", "slow_step_size"
        )
        inner_hp = {
            "learning_rate": lr,
            "b1": b1,
            "b2": b2,
            "eps": eps,
            "eps_root": 0.0,
            "bias_correction": 1.0,
            "eps_hat": 0.0,
        }
        u, inner_state, inner_internals = inner.update(grads, state.inner, params, inner_hp)
        period = jnp.maximum(jnp.round(jnp.asarray(k)), 1.0).astype(jnp.int32)
        sync = (state.since_sync == period - 1).astype(jnp.result_type(*jax.tree.leaves(params)))
        diff = _tmap(lambda f, du, s: f + du - s, params, u, state.slow)
        slow = _tmap(lambda s, df: s + alpha * sync * df, state.slow, diff)
        updates = _tmap(lambda du, df: du - sync * (1 - alpha) * df, u, diff)
        fast = _tmap(lambda f, du: f + du, params, updates)
        internals = {**inner_internals, "slow": slow, "fast": fast}
        return updates, LookaheadState(inner_state, (state.since_sync + 1) % period, slow), internals

    return Optimizer(init, update)


# --------------------------------------------------------------------------------------------
# SAM
# --------------------------------------------------------------------------------------------


class SamState(NamedTuple):
    since_sync: jax.Array  # 0: the next step is the ascent, 1: the descent
    anchor: Params  # θ, the outer weights (optax's cache)


def sam() -> Optimizer:
    r"""SAM (optax.contrib.sam with SGD outside and normalized SGD(ρ) as the adversary, sync
    period 2, transparent mode): one gradient per call, two calls per SAM step.

    .. math::
        \text{odd } t \text{ (ascent)}:   θ_{t−1} \text{ kept as the anchor},
            probe = θ_{t−1} + ρ·g_t / ‖g_t‖                    (the params go there)
        \text{even } t \text{ (descent)}: θ_t = θ_{t−2} − α·g_t    (g_t = ∇f(probe))

    Args:
      learning_rate: α, the outer SGD step.   rho: ρ, the radius of the ascent probe.

    References:
      Foret, Kleiner, Mobahi & Neyshabur, Sharpness-Aware Minimization for Efficiently
      Improving Generalization, ICLR 2021.
    """

    def init(params: Params) -> SamState:
        return SamState(_zero_count(), _tmap(lambda p: p.copy(), params))

    def update(
        grads: Params, state: SamState, params: Params, hparams: HParamValues
    ) -> tuple[Params, SamState, Internals]:
        lr, rho = _read(hparams, "learning_rate", "rho")
        norm = _tree_norm(grads)
        ascent = _tmap(lambda g: rho * (g / norm), grads)
        descent = _tmap(lambda a, p, g: a - p - lr * g, state.anchor, params, grads)
        last = state.since_sync == 1
        anchor = _tmap(lambda a, p: jnp.where(last, a, p), state.anchor, params)
        updates = _tmap(lambda d, a: jnp.where(last, d, a), descent, ascent)
        internals = {
            "probe": _tmap(lambda p, a: jnp.where(last, p, p + a), params, ascent),
            "anchor": _tmap(lambda p, u, a: jnp.where(last, p + u, a), params, updates, anchor),
            "step_size": _full_like(grads, jnp.where(last, lr, rho)),
        }
        return updates, SamState((state.since_sync + 1) % 2, anchor), internals

    return Optimizer(init, update)


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------

_LR_VALID = (1e-12, 100.0)
_UNIT = (0.0, 0.9999)


def _lr(default: float, note: str, low: float = 1e-5, high: float = 10.0) -> HyperParam:
    return HyperParam(
        "learning_rate",
        r"\alpha",
        default,
        low,
        high,
        log=True,
        help=f"learning rate: global step size (the value in force at this step); {note}",
        valid=_LR_VALID,
    )


def _beta(
    name: str,
    symbol: str,
    default: float,
    help_text: str,
    low: float = 0.0,
    high: float = 0.999,
    valid: tuple[float, float] = _UNIT,
) -> HyperParam:
    return HyperParam(name, symbol, default, low, high, help=help_text, valid=valid)


def _eps(default: float, help_text: str, low: float = 1e-12) -> HyperParam:
    return HyperParam("eps", r"\epsilon", default, low, 1e-1, log=True, help=help_text, valid=(0.0, 1.0))


def _wd(default: float, help_text: str) -> HyperParam:
    return HyperParam("weight_decay", r"\lambda", default, 0.0, 0.1, help=help_text, valid=(0.0, 10.0))


_SF_B1 = _beta(
    "b1",
    r"\beta_1",
    0.9,
    "where y sits between the average x (β₁ → 1) and z (β₁ → 0); must be > 0",
    low=0.01,
    valid=(1e-4, 0.9999),
)
_SF_POWER = HyperParam(
    "weight_lr_power",
    "p",
    2.0,
    0.0,
    8.0,
    help="averaging weight w_t = (max α)^p: with a warm-up, early points count less",
    valid=(0.0, 100.0),
)
_SF_LATEX_TAIL = r"""w_t &= \big(\max_{i \le t} \alpha_i\big)^{p}, \quad
  c_t = w_t \Big/ \textstyle\sum_{i \le t} w_i \\
x_t &= (1 - c_t)\, x_{t-1} + c_t\, z_t \\
\theta_t &= y_t = \beta_1\, x_t + (1-\beta_1)\, z_t \qquad (\text{evaluate at } x_t)
\end{aligned}"""

MODERN_SPECS: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        name="schedule_free_sgd",
        label="Schedule-Free SGD",
        hyperparams=(
            _lr(1e-3, "the SGD step of z; no decay needed"),
            _SF_B1,
            _wd(0.0, "L2 penalty added to the gradient, taken at y"),
            _SF_POWER,
        ),
        latex=r"""\begin{aligned}
g_t &= \nabla f(y_{t-1}) \\
z_t &= z_{t-1} - \alpha\, (g_t + \lambda\, y_{t-1}) \\
"""
        + _SF_LATEX_TAIL,
        optimizer=schedule_free_sgd(),
        description="No learning-rate schedule: gradients are taken at y, between a plain SGD "
        "iterate z and the running average x, which is the answer: x converges while z wanders.",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
    OptimizerSpec(
        name="schedule_free_adamw",
        label="Schedule-Free AdamW",
        hyperparams=(
            _lr(0.02, "AdamW's step of z (optax's default 0.0025 is for networks)"),
            _SF_B1,
            _beta("b2", r"\beta_2", 0.999, "decay of the squared-gradient average v", low=0.5, high=0.9999),
            _eps(1e-8, "added to √v̂ so the step stays finite where v̂ ≈ 0"),
            _wd(0.0, "weight decay, taken at y, scaled by α"),
            _SF_POWER,
        ),
        latex=r"""\begin{aligned}
g_t &= \nabla f(y_{t-1}) \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \quad \hat v_t = v_t / (1-\beta_2^t) \\
z_t &= z_{t-1} - \alpha\, \big(g_t / (\sqrt{\hat v_t} + \epsilon) + \lambda\, y_{t-1}\big) \\
"""
        + _SF_LATEX_TAIL,
        optimizer=schedule_free_adamw(),
        description="Adam's scaling on the fast iterate z, and the averaging of Schedule-Free in "
        "place of momentum: no schedule, and x is the point to keep.",
        reference="Defazio et al., The Road Less Scheduled, NeurIPS 2024",
    ),
    OptimizerSpec(
        name="prodigy",
        label="Prodigy",
        hyperparams=(
            _lr(1.0, "a multiplier of the estimated step d: 1 trusts the estimate", low=1e-3),
            _beta("b1", r"\beta_1", 0.9, "decay of the average m of d·g"),
            _beta(
                "b2", r"\beta_2", 0.999, "decay of the average v of (d·g)²; β₃ = √β₂", low=0.5, high=0.9999
            ),
            _eps(1e-8, "added to √v (scaled by d)"),
            HyperParam(
                "estim_lr0",
                "d_0",
                1e-6,
                1e-8,
                1.0,
                log=True,
                help="initial under-estimate of the step size d; d only grows",
                valid=(1e-12, 100.0),
            ),
            _wd(0.0, "decoupled weight decay, scaled by the step η_t"),
        ),
        latex=r"""\begin{aligned}
\beta_3 &= \sqrt{\beta_2}, \quad \eta_t = d_{t-1}\, \alpha\, \sqrt{1-\beta_2^t} \,/\, (1-\beta_1^t) \\
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, d_{t-1} g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, d_{t-1}^2 g_t^2 \\
s_t &= \beta_3 s_{t-1} + \eta_t\, d_{t-1}\, g_t / d_0 \\
r_t &= \beta_3 r_{t-1} + (d_{t-1} / d_0)\, \eta_t\, \langle g_t,\, \theta_0 - \theta_{t-1} \rangle \\
d_t &= \max\big(d_{t-1},\; r_t / \lVert s_t \rVert_1\big) \\
\theta_t &= \theta_{t-1} - \eta_t \big(m_t / (\sqrt{v_t} + d_t\, \epsilon) + \lambda\, \theta_{t-1}\big)
\end{aligned}""",
        optimizer=prodigy(),
        description="Learns its own step size: d grows from a tiny d₀ to about the distance to "
        "the minimum, estimated from how gradients correlate with the distance travelled.",
        reference="Mishchenko & Defazio, Prodigy: An Expeditiously Adaptive Parameter-Free "
        "Learner, ICML 2024",
    ),
    OptimizerSpec(
        name="yogi",
        label="Yogi",
        hyperparams=(
            _lr(0.02, "0.02 moves Rosenbrock visibly; 0.01 is optax's usual value"),
            _beta("b1", r"\beta_1", 0.9, "decay of the gradient average m (momentum)"),
            _beta("b2", r"\beta_2", 0.999, "pace of v's additive move toward g²", low=0.5, high=0.9999),
            _eps(1e-3, "added to √v̂ (optax's default 1e-3, larger than Adam's)", low=1e-8),
        ),
        latex=r"""\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \qquad (m_0 = v_0 = 10^{-6}) \\
v_t &= v_{t-1} - (1-\beta_2)\, \operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2 \\
\hat m_t &= m_t / (1-\beta_1^t), \quad \hat v_t = v_t / (1-\beta_2^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)
\end{aligned}""",
        optimizer=yogi(),
        description="Adam whose v changes by at most (1−β₂)·g² per step, in the direction of g²: "
        "a sudden small gradient cannot make the step size explode.",
        reference="Zaheer, Reddi, Sachan, Kale & Kumar, Adaptive Methods for Nonconvex "
        "Optimization, NeurIPS 2018",
    ),
    OptimizerSpec(
        name="adan",
        label="Adan",
        hyperparams=(
            _lr(0.02, "0.02 moves Rosenbrock visibly; networks use ~1e-3"),
            _beta("b1", r"\beta_1", 0.98, "decay of the gradient average m"),
            _beta(
                "b2",
                r"\beta_2",
                0.92,
                "decay of the gradient-difference average δ; 1−β₂ weighs the look-ahead",
            ),
            _beta("b3", r"\beta_3", 0.99, "decay of the squared look-ahead gradient n", low=0.5, high=0.9999),
            _eps(1e-8, "added to √n̂"),
            HyperParam(
                "eps_root",
                r"\bar\epsilon",
                1e-8,
                0.0,
                1e-6,
                help="added to n̂ inside the root",
                valid=(0.0, 1.0),
            ),
            _wd(0.0, "decoupled weight decay: pulls θ toward 0 at rate α·λ"),
        ),
        latex=r"""\begin{aligned}
\Delta_t &= g_t - g_{t-1} \qquad (\Delta_1 = 0) \\
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
\delta_t &= \beta_2 \delta_{t-1} + (1-\beta_2)\, \Delta_t \\
n_t &= \beta_3 n_{t-1} + (1-\beta_3)\, \big(g_t + (1-\beta_2)\, \Delta_t\big)^2 \\
\hat m_t &= \frac{m_t}{1-\beta_1^t}, \quad \hat\delta_t = \frac{\delta_t}{1-\beta_2^t}, \quad
  \hat n_t = \frac{n_t}{1-\beta_3^t} \\
\theta_t &= \theta_{t-1} - \alpha \Big( \frac{\hat m_t + (1-\beta_2)\, \hat\delta_t}
  {\sqrt{\hat n_t + \bar\epsilon} + \epsilon} + \lambda\, \theta_{t-1} \Big)
\end{aligned}""",
        optimizer=adan(),
        description="Nesterov momentum without a second gradient: the look-ahead is estimated "
        "from how the gradient changed since the last step.",
        reference="Xie, Zhou, Li, Lin & Yan, Adan: Adaptive Nesterov Momentum Algorithm for "
        "Faster Optimizing Deep Models, TPAMI 2024",
    ),
    OptimizerSpec(
        name="lookahead_adam",
        label="Lookahead (Adam)",
        hyperparams=(
            _lr(0.02, "the inner Adam's step for the fast weights"),
            _beta("b1", r"\beta_1", 0.9, "the inner Adam's decay of m"),
            _beta("b2", r"\beta_2", 0.999, "the inner Adam's decay of v", low=0.5, high=0.9999),
            _eps(1e-8, "the inner Adam's ε"),
            HyperParam(
                "sync_period",
                "k",
                5.0,
                1.0,
                20.0,
                help="fast steps per slow step (rounded to a whole number)",
                valid=(1.0, 1000.0),
            ),
            HyperParam(
                "slow_step_size",
                r"\alpha_s",
                0.5,
                0.0,
                1.0,
                help="how far the slow weights move toward the fast ones at a sync (1 = plain Adam)",
                valid=(0.0, 1.0),
            ),
        ),
        latex=r"""\begin{aligned}
u_t &= \text{Adam}_{\alpha, \beta_1, \beta_2, \epsilon}(g_t) \qquad (g_t \text{ at the fast weights}) \\
s_t &= \begin{cases} 1 & \text{if } k \mid t \\ 0 & \text{otherwise} \end{cases} \\
\phi_t &= \phi_{t-1} + s_t\, \alpha_s\, (\theta_{t-1} + u_t - \phi_{t-1})
  \qquad (\text{slow}, \phi_0 = \theta_0) \\
\theta_t &= (1 - s_t)\, (\theta_{t-1} + u_t) + s_t\, \phi_t \qquad (\text{fast})
\end{aligned}""",
        optimizer=lookahead_adam(),
        description="k steps forward, one step back: the fast weights explore with Adam, the "
        "slow weights move part of the way toward them and restart them, damping the zig-zag.",
        reference="Zhang, Lucas, Hinton & Ba, Lookahead Optimizer: k steps forward, 1 step back, "
        "NeurIPS 2019",
    ),
    OptimizerSpec(
        name="sam",
        label="SAM (SGD)",
        hyperparams=(
            _lr(1e-3, "the descent step, taken from θ with the gradient at the probe"),
            HyperParam(
                "rho",
                r"\rho",
                0.05,
                0.0,
                0.5,
                help="radius of the ascent probe θ + ρ·g/‖g‖ (0 = SGD at half speed)",
                valid=(0.0, 100.0),
            ),
        ),
        latex=r"""\begin{aligned}
&\text{odd } t \text{ (ascent)}: & \tilde\theta &= \theta_{t-1} + \rho\, g_t / \lVert g_t \rVert
  \qquad (\text{the probe}) \\
&\text{even } t \text{ (descent)}: & \theta_t &= \theta_{t-2} - \alpha\, \nabla f(\tilde\theta)
\end{aligned}""",
        optimizer=sam(),
        description="Steps with the gradient taken uphill at distance ρ: it prefers wide, flat "
        "minima, for two gradients per step (the path shows every probe).",
        reference="Foret, Kleiner, Mobahi & Neyshabur, Sharpness-Aware Minimization for "
        "Efficiently Improving Generalization, ICLR 2021",
    ),
)
