"""MNIST training with the optim_core optimizers: data, models, training loop, landscapes.

Public API (see each module's docstring):

    from training import (load_mnist, load_sample, download_mnist, read_idx,   # data
                          get_model, MODELS,                                     # models
                          train, TrainConfig, TrainResult,                     # training
                          compute_landscape, Landscape)                          # landscape

Optimizers are given as `optim_core.OptimizerSettings` (re-exported here) or bare names.
"""

from __future__ import annotations

from training.data import (
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
from training.landscape import Landscape, compute_landscape
from training.models import MODELS, Model, get_model
from training.train import (
    DEFAULT_PRESET,
    EpochRecord,
    OptimizerSettings,
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
    "OptimizerSettings",
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
