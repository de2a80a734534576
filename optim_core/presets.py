"""Framework presets and hyperparameter resolution.

A preset maps optimizer name -> overrides of the registry defaults, so that the playground
can show, say, "Adam as Keras runs it" beside "Adam as PyTorch runs it". The registry defaults
already are optax's (except the learning rates, which optax leaves to the caller), so the
"optax" preset overrides nothing.

Where a framework lacks an optimizer, its preset has no entry and the optax defaults apply.
Where a framework has it with the same update rule, the preset reproduces that rule exactly
(tests/optim_core/test_presets.py checks the ones marked "exact"). Where the rule itself differs
(noted "defaults only"), only the framework's default values are taken: the trajectory then
follows optax's formula with those values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from optim_core._base import HyperParam
from optim_core.optimizers import OPTIMIZERS

__all__ = ["PRESETS", "PRESET_LABELS", "resolve_hparams"]

_KERAS_SGD = {"learning_rate": 0.01}
_KERAS_ADAM = {"learning_rate": 0.001, "eps": 1e-7, "eps_hat": 1.0}
_TORCH_ADAM = {"learning_rate": 0.001, "eps": 1e-8}

PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "optax": {},
    # Keras 3 (keras.optimizers) defaults. No RAdam or AdaBelief in Keras: optax defaults.
    "keras": {
        # exact: Keras' m = μ·m − α·g equals optax's trace at a constant learning rate
        "sgd": _KERAS_SGD,
        "momentum": _KERAS_SGD,
        "nesterov": _KERAS_SGD,
        # exact: accumulator starts at 0.1, ε inside the root
        "adagrad": {
            "learning_rate": 0.001,
            "initial_accumulator_value": 0.1,
            "eps": 1e-7,
            "eps_inside": 1.0,
        },  # fmt: skip
        # exact: the 0.001 learning rate is why Adadelta barely moves in Keras
        "adadelta": {"learning_rate": 0.001, "rho": 0.95, "eps": 1e-7},
        # exact: ε inside the root, momentum off, not centered
        "rmsprop": {"learning_rate": 0.001, "decay": 0.9, "eps": 1e-7, "eps_inside": 1.0},
        # exact: the ε-hat form (ε on the uncorrected √v)
        "adam": _KERAS_ADAM,
        # exact: ε-hat Adam plus decoupled decay α·λ·θ, λ = 0.004
        "adamw": {**_KERAS_ADAM, "weight_decay": 0.004},
        # defaults only: Keras (Adam(amsgrad=True)) takes the max of the uncorrected v
        # in the ε-hat form; optax takes the max of the corrected v̂
        "amsgrad": {"learning_rate": 0.001, "eps": 1e-7},
        # defaults only: Keras adds ε after the max, optax inside it
        "adamax": {"learning_rate": 0.001, "eps": 1e-7},
        # defaults only: Keras uses Dozat's momentum schedule μ_t
        "nadam": {"learning_rate": 0.001, "eps": 1e-7},
        # exact: Keras' Lion has no weight decay by default
        "lion": {"learning_rate": 0.001, "weight_decay": 0.0},
    },
    # torch.optim defaults. No AdaBelief or Lion in torch.optim: optax defaults.
    "pytorch": {
        # exact: buf = μ·buf + g; θ −= α·buf (Nesterov: α·(g + μ·buf))
        "sgd": {"learning_rate": 0.001},
        "momentum": {"learning_rate": 0.001},
        "nesterov": {"learning_rate": 0.001},
        # exact: accumulator starts at 0, ε outside the root
        "adagrad": {
            "learning_rate": 0.01,
            "initial_accumulator_value": 0.0,
            "eps": 1e-10,
            "eps_inside": 0.0,
        },  # fmt: skip
        # exact: learning rate 1.0
        "adadelta": {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6},
        # exact: PyTorch's alpha is optax's decay; ε outside the root
        "rmsprop": {"learning_rate": 0.01, "decay": 0.99, "eps": 1e-8, "eps_inside": 0.0},
        # exact: ε outside √v̂, as optax
        "adam": _TORCH_ADAM,
        # exact: θ·(1 − α·λ) then the Adam step equals −α·(d + λ·θ)
        "adamw": {**_TORCH_ADAM, "weight_decay": 0.01},
        # defaults only: PyTorch takes the max of the uncorrected v
        "amsgrad": _TORCH_ADAM,
        # exact: max(β₂·u, |g| + ε), as optax
        "adamax": {"learning_rate": 0.002, "eps": 1e-8},
        # defaults only: PyTorch uses Dozat's momentum schedule (momentum_decay 4e-3)
        "nadam": {"learning_rate": 0.002, "eps": 1e-8},
        # defaults only: PyTorch adds ε to the uncorrected √v and rectifies when ρ_t > 5
        "radam": {"learning_rate": 0.001, "eps": 1e-8},
    },
}

PRESET_LABELS: dict[str, str] = {
    "optax": "optax defaults (ε inside the root for RMSprop/Adagrad, outside √v̂ for Adam)",
    "keras": "Keras 3 defaults: small learning rates, ε = 1e-7, Adam's ε-hat form",
    "pytorch": "torch.optim defaults: ε outside the root, Adagrad from 0, Adadelta lr 1.0",
}


def _checked_value(optimizer: str, spec: HyperParam, value: object) -> float:
    """`value` as a float, if it is a finite number within the spec's valid range."""
    where = f"{optimizer}.{spec.name}"
    if isinstance(value, str | bytes):
        raise ValueError(f"{where} must be a number, got {value!r}")
    if spec.kind == "bool":
        if value in (True, False, 0, 1):  # also 0.0 and 1.0
            return float(value)
        raise ValueError(f"{where} is a switch: use True/False or 0/1, got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"{where} is a number, not a switch: got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{where} must be finite, got {number}")
    low, high = spec.valid_range
    if not low <= number <= high:
        raise ValueError(f"{where} = {number:g} is outside its valid range [{low:g}, {high:g}]")
    return number


def resolve_hparams(
    name: str,
    hparams: Mapping[str, float] | None = None,
    preset: str | None = None,
) -> dict[str, float]:
    """Every hyperparameter of optimizer `name`: defaults, then `preset`, then `hparams`.

    Raises ValueError naming the unknown optimizer, preset or hyperparameter, or the value
    that is not a finite number in its valid range (switches take True/False/0/1).
    """
    spec = OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    overrides = {**(PRESETS[preset].get(name, {}) if preset else {}), **(hparams or {})}
    resolved = dict(spec.defaults)
    for key, value in overrides.items():
        if key not in resolved:
            raise ValueError(
                f"optimizer {name!r} has no hyperparameter {key!r}; known: {', '.join(resolved)}"
            )
        resolved[key] = _checked_value(name, spec.hyperparam(key), value)
    return resolved
