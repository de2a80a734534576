"""The result of one optimizer run on a 2D surface."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One run, as NumPy arrays.

    Alignment: `path[k]` is the position after k steps (`path[0]` is the start). Entry `i` of
    `grads`, `updates`, `lr` and each `internals` array describes the step from `path[i]` to
    `path[i + 1]`: the gradient used (noise included), the update applied
    (`path[i + 1] - path[i]`), the learning rate in force, and the optimizer's state after it.

    Divergence: `diverged_at` is the first index k whose `path[k]` is non-finite, outside the
    engine's bound, or has a non-finite loss; from there on `path` and `loss` are NaN, and so
    are the step arrays from index k - 1 on. None when the run stayed finite.
    """

    optimizer: str  # registry name
    label: str  # display label, e.g. "Adam (α=0.02)"
    hparams: dict[str, float]
    path: np.ndarray  # (steps + 1, 2)
    loss: np.ndarray  # (steps + 1,), the true (noise-free) loss
    grads: np.ndarray  # (steps, 2)
    updates: np.ndarray  # (steps, 2)
    lr: np.ndarray  # (steps,)
    internals: dict[str, np.ndarray] = field(default_factory=dict)  # each (steps, 2)
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        return int(self.path.shape[0] - 1)

    @property
    def start(self) -> tuple[float, float]:
        return (float(self.path[0, 0]), float(self.path[0, 1]))
