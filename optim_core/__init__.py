"""Optimizer core: pure optimizers over pytrees, presets, schedules and the trajectory engine."""

# JAX is configured by the entry points (configure_jax), never on import.
from optim_core._base import (
    INTERNAL_KEYS,
    HyperParam,
    Optimizer,
    OptimizerSpec,
    apply_updates,
)
from optim_core._jax_config import configure_jax
from optim_core.engine import GridResult, RunConfig, divergence_bound, run, run_batch, run_grid
from optim_core.metrics import Metrics, compute_metrics
from optim_core.presets import (
    FRAMEWORK_OPTIMIZERS,
    PRESETS,
    preset_support,
    resolve_hparams,
    setting_warnings,
)
from optim_core.registry import OPTIMIZERS
from optim_core.schedules import SCHEDULE_KINDS, Schedule
from optim_core.settings import HParams, OptimizerSettings
from optim_core.trajectory import Trajectory

__all__ = [
    "INTERNAL_KEYS",
    "SCHEDULE_KINDS",
    "GridResult",
    "Metrics",
    "RunConfig",
    "Schedule",
    "compute_metrics",
    "configure_jax",
    "divergence_bound",
    "run",
    "run_batch",
    "run_grid",
    "OPTIMIZERS",
    "PRESETS",
    "FRAMEWORK_OPTIMIZERS",
    "HyperParam",
    "Optimizer",
    "OptimizerSettings",
    "HParams",
    "OptimizerSpec",
    "Trajectory",
    "apply_updates",
    "preset_support",
    "resolve_hparams",
    "setting_warnings",
]
