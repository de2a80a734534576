"""The optimizers a network trains with: every `optim_core` optimizer, plus the network-only ones
(Muon, which orthogonalizes weight *matrices*: on the 2D surfaces every parameter is a vector,
so it is offered for MNIST only and kept out of `optim_core.OPTIMIZERS`).

Use these three instead of `optim_core.OPTIMIZERS`, `resolve_hparams` and `preset_support`
wherever a network's optimizer is named (training, the learning-rate finder, the MNIST page):

    NETWORK_OPTIMIZERS["muon"].hyperparams
    resolve_network_hparams("muon", {"learning_rate": 0.01}, "keras")
    network_preset_support("muon", "keras")   # "Keras 3 presets have no Muon: …"
"""

from __future__ import annotations

from collections.abc import Mapping

from optim_core import OPTIMIZERS, PRESETS, OptimizerSpec, preset_support, resolve_hparams
from optim_core.presets import _checked_value  # the one validation policy, shared
from training.muon import MUON_SPEC

__all__ = [
    "NETWORK_ONLY",
    "NETWORK_OPTIMIZERS",
    "network_preset_support",
    "resolve_network_hparams",
]

NETWORK_ONLY: dict[str, OptimizerSpec] = {MUON_SPEC.name: MUON_SPEC}
NETWORK_OPTIMIZERS: dict[str, OptimizerSpec] = {**OPTIMIZERS, **NETWORK_ONLY}

_FRAMEWORK_NAMES = {"keras": "Keras 3", "pytorch": "PyTorch"}


def resolve_network_hparams(
    name: str, hparams: Mapping[str, float] | None = None, preset: str | None = None
) -> dict[str, float]:
    """`optim_core.resolve_hparams`, also for the network-only optimizers: their defaults
    (optax's, whatever the preset: no preset has values for them), then `hparams`, each value
    validated as the registry's are. ValueError names what is wrong."""
    spec = NETWORK_ONLY.get(name)
    if spec is None:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(NETWORK_OPTIMIZERS)}")
        return resolve_hparams(name, hparams, preset)
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    resolved = dict(spec.defaults)
    for key, value in (hparams or {}).items():
        if key not in resolved:
            raise ValueError(
                f"optimizer {name!r} has no hyperparameter {key!r}; known: {', '.join(resolved)}"
            )
        resolved[key] = _checked_value(name, spec.hyperparam(key), value)
    return resolved


def network_preset_support(name: str, preset: str | None) -> str | None:
    """`optim_core.preset_support` for any network optimizer: None when the preset is the
    framework's own form, else the sentence the picker shows."""
    spec = NETWORK_ONLY.get(name)
    if spec is None:
        return preset_support(name, preset)
    if preset is None or preset == "optax":
        return None
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    return (
        f"{_FRAMEWORK_NAMES.get(preset, preset)} presets have no {spec.label} (their own Muon "
        "differs in defaults and rule): these are optax.contrib.muon's defaults and update rule."
    )
