"""Data files: trajectories and metrics as CSV / JSON (NaN -> empty cell / null).

Plain text out, no figures: the Playground's downloads and `python -m viz` write these.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory


_INTERNAL_ORDER = ("m", "v", "m_hat", "v_hat", "step_size")

TRAJECTORY_ALIGNMENT = (
    "Row `step` k: x, y and loss are the position after k steps. grad, update, lr and the "
    "internals describe the step from k to k + 1 (the gradient used, the update applied, the "
    "learning rate, the optimizer state after it); they are empty in the last row."
)


def _internal_keys(trajectories: Sequence[Trajectory]) -> list[str]:
    keys = {k for t in trajectories for k in t.internals}
    return [k for k in _INTERNAL_ORDER if k in keys] + sorted(keys - set(_INTERNAL_ORDER))


def _number_strings(values: np.ndarray) -> np.ndarray:
    """Shortest round-trip text of each number (float32 stays short); '' for NaN/inf."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    text = arr.astype(str)
    return np.where(np.isfinite(arr), text, "")


def _per_row(a: np.ndarray | None, rows: int, cols: int) -> np.ndarray:
    """A (steps, cols) step array padded with NaN to one row per position (steps + 1)."""
    out = np.full((rows, cols), np.nan, dtype=np.float64)
    if a is not None:
        a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)[: rows - 1, :cols]
        out[: len(a)] = a
    return out


def _trajectory_columns(trajectories: Sequence[Trajectory]) -> tuple[list[str], list[np.ndarray]]:
    """Column names and, per column, the text of every row (all runs stacked)."""
    internal = _internal_keys(trajectories)
    names = ["optimizer", "label", "step", "x", "y", "loss", "grad_x", "grad_y", "update_x", "update_y", "lr"]
    for k in internal:
        names += [f"{k}_x", f"{k}_y"]
    per_run: list[list[np.ndarray]] = []
    for t in trajectories:
        n = t.steps + 1

        cols = [
            np.full(n, t.optimizer, dtype=object),
            np.full(n, t.label, dtype=object),
            np.arange(n).astype(str),
            _number_strings(np.asarray(t.path)[:, 0]),
            _number_strings(np.asarray(t.path)[:, 1]),
            _number_strings(np.asarray(t.loss)),
        ]
        for a, width in ((t.grads, 2), (t.updates, 2), (t.lr, 1)):
            arr = _per_row(a, n, width)
            src = np.asarray(a)
            dtype = src.dtype if src.dtype.kind == "f" else np.float64  # float32 stays short
            cols += [_number_strings(arr[:, c].astype(dtype)) for c in range(width)]
        for k in internal:
            arr = _per_row(t.internals.get(k), n, 2)
            dtype = np.asarray(t.internals[k]).dtype if k in t.internals else np.float64
            cols += [_number_strings(arr[:, c].astype(dtype)) for c in range(2)]
        per_run.append(cols)
    columns = [
        np.concatenate([run[i] for run in per_run]) if per_run else np.zeros(0, dtype=str)
        for i in range(len(names))
    ]
    return names, columns


def trajectories_csv(trajectories: Sequence[Trajectory]) -> str:
    """One row per optimizer per step (see TRAJECTORY_ALIGNMENT); NaN written as an empty cell."""
    names, columns = _trajectory_columns(trajectories)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def trajectories_json(trajectories: Sequence[Trajectory], indent: int | None = None) -> str:
    """{"runs": [per-run facts], "columns": [...], "rows": [one object per optimizer per step]}.

    Valid JSON: NaN and infinities are null. Numbers keep their shortest exact text.
    """
    names, columns = _trajectory_columns(trajectories)
    text_cols = {"optimizer", "label"}
    encoded = []
    for name, col in zip(names, columns, strict=True):
        if name in text_cols:
            encoded.append([json.dumps(str(v), ensure_ascii=False) for v in col])
        else:
            encoded.append(np.where(col == "", "null", col).tolist())
    keys = [json.dumps(n) for n in names]
    rows = [
        "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, vals, strict=True)) + "}"
        for vals in zip(*encoded, strict=True)
    ]
    head = {
        "format": "optimizer-playground/trajectories",
        "version": 1,
        "alignment": TRAJECTORY_ALIGNMENT,
        "runs": [
            {
                "optimizer": t.optimizer,
                "label": t.label,
                "hparams": _json_safe(dict(t.hparams)),
                "steps": t.steps,
                "diverged_at": None if t.diverged_at is None else int(t.diverged_at),
            }
            for t in trajectories
        ],
        "columns": names,
    }
    body = json.dumps(head, ensure_ascii=False, indent=indent, allow_nan=False)[:-1].rstrip()
    sep = ",\n" if indent is not None else ", "
    return body + sep + '"rows": [' + (",\n" if indent is not None else ", ").join(rows) + "]}"


def _json_safe(value: Any) -> Any:
    """Plain JSON values: NumPy scalars/arrays unwrapped, NaN/inf -> None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _metric_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    return names


def _csv_cell(value: Any) -> str:
    value = _json_safe(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def metrics_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """A metrics table (one dict per row, computed elsewhere) as CSV; NaN/None -> empty cell.
    Columns: every key, in the order first seen."""
    names = _metric_columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_cell(row.get(n)) for n in names])
    return out.getvalue()


def metrics_json(rows: Sequence[Mapping[str, Any]], indent: int | None = 1) -> str:
    """The metrics rows as a JSON list of objects; NaN/inf -> null (valid JSON)."""
    return json.dumps([_json_safe(dict(r)) for r in rows], ensure_ascii=False, indent=indent, allow_nan=False)
