"""Optimizer core: pure optimizers over pytrees, presets, schedules and the trajectory engine."""

# The persistent compilation cache must be configured before the first compile.
from optim_core import _jax_config  # noqa: F401  (configures on import)
from optim_core._base import (
    INTERNAL_KEYS,
    HyperParam,
    Optimizer,
    OptimizerSpec,
    apply_updates,
)
from optim_core.engine import GridResult, RunConfig, divergence_bound, run, run_batch, run_grid
from optim_core.metrics import Metrics, compute_metrics
from optim_core.optimizers import OPTIMIZERS
from optim_core.presets import (
    FRAMEWORK_OPTIMIZERS,
    PRESETS,
    preset_support,
    resolve_hparams,
    setting_warnings,
)
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from optim_core.trajectory import Trajectory

__all__ = [
    "INTERNAL_KEYS",
    "SCHEDULE_KINDS",
    "GridResult",
    "Metrics",
    "RunConfig",
    "Schedule",
    "compute_metrics",
    "divergence_bound",
    "run",
    "run_batch",
    "run_grid",
    "OPTIMIZERS",
    "PRESETS",
    "FRAMEWORK_OPTIMIZERS",
    "HyperParam",
    "Optimizer",
    "OptimizerSpec",
    "Trajectory",
    "apply_updates",
    "preset_support",
    "resolve_hparams",
    "setting_warnings",
]
