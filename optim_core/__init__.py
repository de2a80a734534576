"""Optimizer core: pure optimizers over pytrees, presets, schedules and the trajectory engine."""

from optim_core._base import (
    INTERNAL_KEYS,
    HyperParam,
    Optimizer,
    OptimizerSpec,
    apply_updates,
)
from optim_core.optimizers import OPTIMIZERS
from optim_core.presets import PRESETS, resolve_hparams
from optim_core.trajectory import Trajectory

__all__ = [
    "INTERNAL_KEYS",
    "OPTIMIZERS",
    "PRESETS",
    "HyperParam",
    "Optimizer",
    "OptimizerSpec",
    "Trajectory",
    "apply_updates",
    "resolve_hparams",
]
