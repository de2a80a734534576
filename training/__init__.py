"""MNIST training with the optim_core optimizers: data, models, training loop, landscapes.

Public API (see each module's docstring):

    from training import (load_mnist, load_sample, download_mnist, read_idx,   # data
                          get_model, MODELS,                                     # models
                          train, TrainConfig, OptimizerConfig, TrainResult,      # training
                          compute_landscape, Landscape)                          # landscape
"""

from __future__ import annotations

import os
from pathlib import Path

import jax


def _configure_compilation_cache() -> None:
    """The same persistent compilation cache as optim_core.engine (same variable, same dir):
    an epoch program compiles in 1-3 s; later processes (CLI runs, app restarts) reuse it."""
    cache_dir = os.environ.get(
        "OPTIM_PLAYGROUND_JAX_CACHE",
        str(Path.home() / ".cache" / "optimizer-playground" / "jax"),
    )
    if cache_dir in ("", "0", "off"):
        return
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_configure_compilation_cache()

from training.data import (  # noqa: E402
    ChecksumError,
    DownloadError,
    IDXError,
    MNISTSplit,
    download_mnist,
    load_full,
    load_mnist,
    load_sample,
    read_idx,
)
from training.landscape import Landscape, compute_landscape  # noqa: E402
from training.models import MODELS, Model, get_model  # noqa: E402
from training.train import (  # noqa: E402
    DEFAULT_PRESET,
    EpochRecord,
    OptimizerConfig,
    Progress,
    RunResult,
    TrainConfig,
    TrainResult,
    train,
)

__all__ = [
    "DEFAULT_PRESET",
    "MODELS",
    "ChecksumError",
    "DownloadError",
    "EpochRecord",
    "IDXError",
    "Landscape",
    "MNISTSplit",
    "Model",
    "OptimizerConfig",
    "Progress",
    "RunResult",
    "TrainConfig",
    "TrainResult",
    "compute_landscape",
    "download_mnist",
    "get_model",
    "load_full",
    "load_mnist",
    "load_sample",
    "read_idx",
    "train",
]
