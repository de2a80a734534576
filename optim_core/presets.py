"""Framework presets and hyperparameter resolution.

A preset maps optimizer name -> overrides of the registry defaults, so that the playground
can show, say, "Adam as Keras runs it" beside "Adam as PyTorch runs it". The registry defaults
already are optax's (except the learning rates, which optax leaves to the caller), so the
"optax" preset overrides nothing.

Every Keras and PyTorch entry reproduces the framework's own optimizer step for step:
tests/optim_core/test_frameworks.py runs `keras.optimizers.*` (Keras 3, JAX backend) and
`torch.optim.*` on the same gradients in float64 and asserts a relative error ≤ 1e-6. Where a
framework has no such optimizer, its preset has no entry, the optax defaults apply, and
`preset_support` says so (the picker shows that sentence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from optim_core._base import HyperParam
from optim_core.registry import OPTIMIZERS

__all__ = [
    "FRAMEWORK_OPTIMIZERS",
    "PRESETS",
    "PRESET_LABELS",
    "preset_support",
    "resolve_hparams",
    "setting_warnings",
]

_KERAS_SGD = {"learning_rate": 0.01}
_KERAS_ADAM = {"learning_rate": 0.001, "eps": 1e-7, "eps_hat": 1.0}
_TORCH_ADAM = {"learning_rate": 0.001, "eps": 1e-8}

PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "optax": {},
    # keras.optimizers (Keras 3) defaults and update rules. Keras has no RAdam or AdaBelief.
    "keras": {
        # SGD(momentum=μ, nesterov=...): Keras' m = μ·m − α·g equals optax's trace at a
        # constant learning rate
        "sgd": _KERAS_SGD,
        "momentum": _KERAS_SGD,
        "nesterov": _KERAS_SGD,
        # Adagrad: accumulator starts at 0.1, ε inside the root
        "adagrad": {
            "learning_rate": 0.001,
            "initial_accumulator_value": 0.1,
            "eps": 1e-7,
            "eps_inside": 1.0,
        },  # fmt: skip
        # Adadelta: the 0.001 learning rate is why Adadelta barely moves in Keras
        "adadelta": {"learning_rate": 0.001, "rho": 0.95, "eps": 1e-7},
        # RMSprop: ε inside the root (also centered: √(v − m² + ε)); momentum on the α-scaled step
        "rmsprop": {"learning_rate": 0.001, "decay": 0.9, "eps": 1e-7, "eps_inside": 1.0},
        # Adam: the ε-hat form (ε on the uncorrected √v)
        "adam": _KERAS_ADAM,
        # AdamW: ε-hat Adam plus decoupled decay α·λ·θ, λ = 0.004
        "adamw": {**_KERAS_ADAM, "weight_decay": 0.004},
        # Adam(amsgrad=True): max of the uncorrected v, in the ε-hat form
        "amsgrad": {**_KERAS_ADAM, "max_raw": 1.0},
        # Adamax: ε added after the max
        "adamax": {"learning_rate": 0.001, "eps": 1e-7, "eps_outside": 1.0},
        # Nadam: μ_t = β₁(1 − ½·0.96^t), i.e. ψ = 1
        "nadam": {"learning_rate": 0.001, "eps": 1e-7, "momentum_schedule": 1.0, "momentum_decay": 1.0},
        # Lion: no weight decay by default
        "lion": {"learning_rate": 0.001, "weight_decay": 0.0},
    },
    # torch.optim defaults and update rules. torch.optim has no AdaBelief or Lion.
    "pytorch": {
        # SGD(momentum=μ, nesterov=...): buf = μ·buf + g; θ −= α·buf (Nesterov: α·(g + μ·buf))
        "sgd": {"learning_rate": 0.001},
        "momentum": {"learning_rate": 0.001},
        "nesterov": {"learning_rate": 0.001},
        # Adagrad: accumulator starts at 0, ε outside the root
        "adagrad": {
            "learning_rate": 0.01,
            "initial_accumulator_value": 0.0,
            "eps": 1e-10,
            "eps_inside": 0.0,
        },  # fmt: skip
        # Adadelta: learning rate 1.0
        "adadelta": {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6},
        # RMSprop: PyTorch's alpha is optax's decay; ε outside the root
        "rmsprop": {"learning_rate": 0.01, "decay": 0.99, "eps": 1e-8, "eps_inside": 0.0},
        # Adam: ε outside √v̂, as optax
        "adam": _TORCH_ADAM,
        # AdamW: θ·(1 − α·λ) then the Adam step equals −α·(d + λ·θ)
        "adamw": {**_TORCH_ADAM, "weight_decay": 0.01},
        # Adam(amsgrad=True): max of the uncorrected v, ε outside
        "amsgrad": {**_TORCH_ADAM, "max_raw": 1.0},
        # Adamax: max(β₂·u, |g| + ε), as optax
        "adamax": {"learning_rate": 0.002, "eps": 1e-8},
        # NAdam: μ_t = β₁(1 − ½·0.96^{0.004·t}) (momentum_decay = 0.004)
        "nadam": {"learning_rate": 0.002, "eps": 1e-8, "momentum_schedule": 1.0, "momentum_decay": 0.004},
        # RAdam: ε on the uncorrected √v (the ε-hat form); rectified when ρ_t > 5
        "radam": {"learning_rate": 0.001, "eps": 1e-8, "eps_hat": 1.0},
    },
}

PRESET_LABELS: dict[str, str] = {
    "optax": "optax defaults (ε inside the root for RMSprop/Adagrad, outside √v̂ for Adam)",
    "keras": "keras.optimizers (Keras 3): its defaults and update rules, e.g. Adam's ε-hat form",
    "pytorch": "torch.optim: its defaults and update rules, e.g. ε outside the root, Adagrad from 0",
}

# The framework's own name for each optimizer it has (what the presets reproduce).
FRAMEWORK_OPTIMIZERS: dict[str, dict[str, str]] = {
    "keras": {
        "sgd": "keras.optimizers.SGD",
        "momentum": "keras.optimizers.SGD(momentum=0.9)",
        "nesterov": "keras.optimizers.SGD(momentum=0.9, nesterov=True)",
        "adagrad": "keras.optimizers.Adagrad",
        "adadelta": "keras.optimizers.Adadelta",
        "rmsprop": "keras.optimizers.RMSprop",
        "adam": "keras.optimizers.Adam",
        "adamw": "keras.optimizers.AdamW",
        "amsgrad": "keras.optimizers.Adam(amsgrad=True)",
        "adamax": "keras.optimizers.Adamax",
        "nadam": "keras.optimizers.Nadam",
        "lion": "keras.optimizers.Lion",
    },
    "pytorch": {
        "sgd": "torch.optim.SGD",
        "momentum": "torch.optim.SGD(momentum=0.9)",
        "nesterov": "torch.optim.SGD(momentum=0.9, nesterov=True)",
        "adagrad": "torch.optim.Adagrad",
        "adadelta": "torch.optim.Adadelta",
        "rmsprop": "torch.optim.RMSprop",
        "adam": "torch.optim.Adam",
        "adamw": "torch.optim.AdamW",
        "amsgrad": "torch.optim.Adam(amsgrad=True)",
        "adamax": "torch.optim.Adamax",
        "nadam": "torch.optim.NAdam",
        "radam": "torch.optim.RAdam",
    },
}

_FRAMEWORK_NAMES = {"keras": "Keras 3", "pytorch": "PyTorch (torch.optim)"}


def preset_support(optimizer: str, preset: str | None) -> str | None:
    """None when `preset` reproduces `optimizer` as its framework runs it (or is optax's);
    otherwise one sentence for the picker, e.g. "Keras 3 has no RAdam: these are optax's
    defaults and update rule."
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if preset is None or preset == "optax":
        return None
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    if optimizer in FRAMEWORK_OPTIMIZERS.get(preset, {}):
        return None
    return (
        f"{_FRAMEWORK_NAMES.get(preset, preset)} has no {OPTIMIZERS[optimizer].label}: "
        "these are optax's defaults and update rule."
    )


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


def setting_warnings(name: str, hparams: Mapping[str, float]) -> list[str]:
    """Legal settings whose steps blow up for a reason other than the learning rate, each
    named in one sentence (the app shows them beside the run; an empty list: none).

    Every other setting the sliders allow runs finite, or leaves the picture only because α
    is too large for the surface (tests/optim_core/test_numerics.py checks both).
    """
    hp = resolve_hparams(name, hparams)
    warnings = []
    if name == "rmsprop" and hp["centered"] > 0.5:
        eps_form = "√ε" if hp["eps_inside"] > 0.5 else "ε"
        if hp["bias_correction"] > 0.5:
            warnings.append(
                "RMSprop with centered and bias correction both on: after one gradient the corrected "
                f"variance v̂ − m̂² is exactly 0, so the first step is α·g/{eps_form}, huge unless ε is "
                "large. Switch one of them off, or raise ε."
            )
        elif hp["decay"] < 0.5:
            warnings.append(
                f"Centered RMSprop with a short memory (ρ = {hp['decay']:.3g}): the variance v − m² of "
                "the last few gradients is nearly 0 wherever the gradient changes slowly, so the step "
                f"α·g/{eps_form} becomes huge. Raise ρ (0.9 is usual) or switch centered off."
            )
    return warnings
