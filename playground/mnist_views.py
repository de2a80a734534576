"""What the MNIST page shows of a job or a result, as plain data: progress texts, the summary
and per-epoch tables, the stop message, and which landscape paths are hidden under others."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optim_core import PRESETS
from playground.mnist_jobs import (
    LOADING,
    PREPARING,
    QUEUED,
    TRAINING,
    Outcome,
    TrainingJob,
)
from training import (
    Landscape,
    TrainResult,
)

# --- what the page shows -------------------------------------------------------------------------

PHASE_TEXT = {
    QUEUED: "Waiting for a free slot: other trainings are running on this server.",
    LOADING: "Loading the images…",
    PREPARING: "Compiling the network for these settings (a few seconds the first time)…",
    TRAINING: "Training…",
}


def progress_fraction(job: TrainingJob) -> float:
    return min(max(job.done / job.total, 0.0), 1.0) if job.total else 0.0


def progress_text(job: TrainingJob) -> str:
    if job.phase == QUEUED and (queued := job.queue_text()) is not None:
        return f"{queued}. {PHASE_TEXT[QUEUED]}"
    if job.phase != TRAINING:
        return PHASE_TEXT.get(job.phase, job.phase)
    per_epoch = max(job.total // max(job.setup.epochs, 1), 1)
    epochs, n = job.setup.epochs, len(job.setup.optimizers)
    finished, in_epoch = divmod(job.done, per_epoch)
    where = (
        f"epoch {finished} of {epochs} finished"
        if in_epoch == 0
        else f"epoch {finished + 1} of {epochs}, batch {in_epoch} of {per_epoch}"
    )
    return f"Training {n} optimizer{'s' * (n != 1)} side by side: {where} · {job.elapsed():.0f} s"


def stop_message(outcome: Outcome) -> str:
    """What a stopped run kept, in words."""
    result, reason = outcome.result, outcome.stop_reason
    full = [e for e in result.runs[0].epochs if e.batches >= result.steps_per_epoch]
    part = [e for e in result.runs[0].epochs if e.batches < result.steps_per_epoch]
    text = (
        f"Stopped{' because ' + reason if reason else ''}: {len(full)} of "
        f"{result.config.epochs} epochs finished"
    )
    if part:
        text += (
            f", epoch {part[0].epoch} stopped after {part[0].batches} of "
            f"{result.steps_per_epoch} batches (its row is marked *partial*)"
        )
    return text + (
        ". Everything trained so far is shown below. A stopped run is not kept "
        "in the cache: Run trains this setup again from the start."
    )


def _pct(x: float) -> float:
    return float(x) * 100.0 if math.isfinite(x) else math.nan


def summary_frame(result: TrainResult) -> pd.DataFrame:
    """One row per optimizer: validation accuracy and loss after the last epoch, the best
    validation accuracy and its epoch, and the training time."""
    rows = []
    for r in result.runs:
        acc = r.curve("val_acc")
        finite = np.where(np.isfinite(acc), acc, -np.inf)
        best = int(np.argmax(finite)) if len(acc) else -1
        last = r.epochs[-1] if r.epochs else None
        row = {
            "optimizer": r.label,
            "accuracy (%)": _pct(last.val_acc) if last else math.nan,
            "loss": last.val_loss if last else math.nan,
            "best accuracy (%)": _pct(acc[best]) if best >= 0 else math.nan,
            "at epoch": r.epochs[best].epoch if best >= 0 else None,
            "time (s)": r.total_time,
        }
        if any(x.diverged for x in result.runs):
            row["note"] = "diverged" if r.diverged else ""
        rows.append(row)
    return pd.DataFrame(rows)


EPOCH_METRICS = {"val_acc": "validation accuracy (%)", "val_loss": "validation loss"}


def epoch_frame(result: TrainResult, metric: str = "val_acc") -> pd.DataFrame:
    """The article's table: one row per epoch (0 = the shared initial weights), one column per
    optimizer, holding the validation accuracy (%) or loss after that epoch. An epoch that
    Stop cut short says so in its row label."""
    if metric not in EPOCH_METRICS:
        raise ValueError(f"metric must be one of {sorted(EPOCH_METRICS)}, got {metric!r}")
    runs = result.runs
    scale = _pct if metric == "val_acc" else float
    initial = "initial_val_acc" if metric == "val_acc" else "initial_val_loss"
    rows: list[dict[str, Any]] = [
        {"epoch": "0 (start)", **{r.label: scale(getattr(r, initial)) for r in runs}}
    ]
    for i in range(max((len(r.epochs) for r in runs), default=0)):
        label = str(i + 1)
        row: dict[str, Any] = {}
        for r in runs:
            e = r.epochs[i] if i < len(r.epochs) else None
            row[r.label] = scale(getattr(e, metric)) if e is not None else math.nan
            if e is not None and e.batches < result.steps_per_epoch:
                label = f"{i + 1} (partial: {e.batches} of {result.steps_per_epoch} batches)"
        rows.append({"epoch": label, **row})
    return pd.DataFrame(rows)


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Each point's distance to the polyline through `line`'s points."""
    if len(line) == 1:
        return np.linalg.norm(points - line[0], axis=1)
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.einsum("psk,sk->ps", points[:, None, :] - a[None], ab) / np.maximum(
        np.einsum("sk,sk->s", ab, ab), 1e-30
    )
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]
    return np.min(np.linalg.norm(points[:, None, :] - closest, axis=2), axis=1)


def hidden_paths(land: Landscape, tolerance: float = 0.02) -> dict[str, str]:
    """Paths the landscape figure hides, each with where it is: one that barely leaves the
    start ("start"), or one that runs under a path drawn after it (that path's label).
    `tolerance` is a fraction of the plot's diagonal."""
    span = math.hypot(float(np.ptp(land.alphas)), float(np.ptp(land.betas))) or 1.0
    tol = tolerance * span
    labels = list(land.paths)
    out: dict[str, str] = {}
    for i, label in enumerate(labels):
        path = np.asarray(land.paths[label], float)
        if np.max(np.linalg.norm(path - path[0], axis=1)) < tol:
            out[label] = "start"
            continue
        for later in labels[i + 1 :]:
            if np.all(_distance_to_polyline(path, np.asarray(land.paths[later], float)) < tol):
                out[label] = later
                break
    return out


def hidden_paths_note(hidden: Mapping[str, str]) -> str:
    parts = [
        f"{label} barely leaves the start (its path is under the white circle)"
        if where == "start"
        else f"{label}'s path runs under {where}'s (drawn wider, it "
        "shows as a border): they moved the same way"
        for label, where in hidden.items()
    ]
    return "; ".join(parts) + "." if parts else ""


def widened_paths(hidden: Mapping[str, str]) -> list[str]:
    """The paths the landscape figure draws wider: those that run under a later path."""
    return [label for label, where in hidden.items() if where != "start"]


def preset_names() -> list[str]:
    return list(PRESETS)


MUON_TEACHES = (
    "**What Muon teaches:** the gradient of a weight matrix is dominated by a few directions. "
    "Muon replaces the matrix's momentum by the nearest matrix whose singular values are all "
    "about 1 (five Newton-Schulz steps), so rare directions get as large a step as common ones; "
    "biases, which are not matrices, still get Adam."
)


def muon_note(result: TrainResult) -> str | None:
    """The 'what it teaches' line under the results when Muon ran: its accuracy beside Adam's
    and SGD's (when they ran too) and what its orthogonalization cost in time."""
    runs = [r for r in result.runs if r.epochs]
    muon = next((r for r in runs if r.optimizer == "muon"), None)
    if muon is None:
        return None
    epochs = len(muon.epochs)
    parts = [f"Muon {_pct(muon.epochs[-1].val_acc):.1f}%"]
    for name in ("adam", "sgd"):
        other = next((r for r in runs if r.optimizer == name), None)
        if other is not None:
            parts.append(f"{other.label} {_pct(other.epochs[-1].val_acc):.1f}%")
    text = (
        f"{MUON_TEACHES} Validation accuracy after {epochs} epoch{'s' * (epochs != 1)}: {', '.join(parts)}."
    )
    adam = next((r for r in runs if r.optimizer == "adam"), None)
    if adam is not None and adam.total_time > 0 and muon.total_time > 0:
        text += (
            f" The price: Muon's training took {muon.total_time / adam.total_time:.1f}× Adam's time "
            "(its matrix products cost more than the gradient itself on small batches)."
        )
    return text
