"""Shared types of the optimizer core: hyperparameter specs and optimizer definitions.

An optimizer is a pure pair, in the manner of optax::

    state = opt.init(params)
    updates, state, internals = opt.update(grads, state, params, hparams)
    params = apply_updates(params, updates)

`hparams` (HParamValues) is a mapping from hyperparameter name to a scalar (a traced value under `jit`),
so changing any value never triggers a recompile. Switches (bias correction on/off, ε inside
or outside the root) are hyperparameters too, with kind "bool", passed as 0.0 or 1.0 and
applied with `jnp.where`-style arithmetic.

`internals` is a dict holding what the app draws, each a pytree shaped like `params`; any of
the keys in `INTERNAL_KEYS` may be present: first moment, second moment, their bias-corrected
values and the per-coordinate effective step size, and the extra sequences of the optimizers
in `optim_core.optimizers_modern` (Schedule-Free's z, y, x, Prodigy's d, Lookahead's slow and
fast weights, SAM's probe and anchor).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax

Params = Any  # a pytree of arrays
State = Any  # a pytree of arrays (each rule's own NamedTuple)
# What `update` reads: hyperparameter name -> scalar (a traced array under jit). The frozen,
# hashable settings type is `optim_core.settings.HParams`; it is one of these.
HParamValues = Mapping[str, jax.Array | float]
Internals = dict[str, Params]
InitFn = Callable[[Params], State]
UpdateFn = Callable[[Params, State, Params, HParamValues], tuple[Params, State, Internals]]

INTERNAL_KEYS: tuple[str, ...] = (
    "m",
    "v",
    "m_hat",
    "v_hat",
    "step_size",
    # optim_core.optimizers_modern: Schedule-Free's z, y, x; Prodigy's d; Lookahead's slow and
    # fast weights; SAM's probe and anchor (= optimizers_modern.MODERN_INTERNAL_KEYS)
    "z",
    "y",
    "x",
    "d",
    "slow",
    "fast",
    "probe",
    "anchor",
)


# LaTeX symbol -> plain text, for every symbol the registry uses; anything else reads as its name.
TEXT_SYMBOLS: dict[str, str] = {
    r"\alpha": "α",
    r"\alpha_s": "α_s",
    r"\beta_1": "β₁",
    r"\beta_2": "β₂",
    r"\beta_3": "β₃",
    r"\epsilon": "ε",
    r"\bar\epsilon": "ε̄",
    r"\hat\epsilon": "ε̂",
    r"\epsilon_{\text{in}}": "ε_in",
    r"\epsilon_{\text{out}}": "ε_out",
    r"\mu": "μ",
    r"\rho": "ρ",
    r"\rho_{\min}": "ρ_min",
    r"\lambda": "λ",
    r"\psi": "ψ",
    "G_0": "G₀",
    "d_0": "d₀",
    "v_0": "v₀",
    "k": "k",
    "p": "p",
}


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: its optax name, its symbol, default, slider range and valid range."""

    name: str
    symbol: str  # LaTeX, e.g. r"\alpha"
    default: float
    low: float  # slider range
    high: float
    log: bool = False  # slider on a log scale
    help: str = ""  # one-line meaning
    kind: str = "float"  # "float" or "bool" (bool passed as 0.0 / 1.0)
    valid: tuple[float, float] | None = None  # closed valid interval; None means (low, high)

    @property
    def text_symbol(self) -> str:
        """The symbol in plain text (widget names, plot titles, screen readers): "α", "β₁"."""
        return TEXT_SYMBOLS.get(self.symbol, self.name)

    @property
    def valid_range(self) -> tuple[float, float]:
        if self.kind == "bool":
            return (0.0, 1.0)
        return self.valid if self.valid is not None else (self.low, self.high)


class Optimizer(NamedTuple):
    """A pure init/update pair (like optax.GradientTransformation, hyperparameters at update time)."""

    init: InitFn  # init(params) -> state
    update: UpdateFn  # update(grads, state, params, hparams) -> (updates, state, internals)


@dataclass(frozen=True)
class OptimizerSpec:
    """A registered optimizer: its transformation, hyperparameter specs and equations."""

    name: str  # registry key, e.g. "adam"
    label: str  # display name, e.g. "Adam"
    hyperparams: tuple[HyperParam, ...]
    latex: str  # update rule, line by line as in the code
    optimizer: Optimizer
    description: str = ""  # one line: what it does / why it matters
    reference: str = ""  # paper

    @property
    def defaults(self) -> dict[str, float]:
        return {h.name: h.default for h in self.hyperparams}

    def hyperparam(self, name: str) -> HyperParam:
        for h in self.hyperparams:
            if h.name == name:
                return h
        raise KeyError(name)


def apply_updates(params: Params, updates: Params) -> Params:
    """params + updates, leaf by leaf (updates already carry the minus sign)."""
    return jax.tree.map(lambda p, u: p + u, params, updates)
