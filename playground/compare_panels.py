"""What the Compare page draws and downloads, from its results: the figures (viz builders with
every name passed in) and the data files (rows, CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optim_core import OPTIMIZERS
from playground.compare_runs import (
    BasinResult,
    HeatmapResult,
    PanelRun,
    heatmap_values,
    reach_radius,
)
from playground.compare_state import (
    CompareState,
    hp_symbol,
    is_log,
)
from surfaces import Surface
from viz import basin_figure, heatmap_figure, small_multiples_figure
from viz.raster import SurfaceRaster

# --- figures ---------------------------------------------------------------------------------


def panels_figure(
    run: PanelRun,
    surface_params: Mapping[str, float] | None = None,
    background: tuple[SurfaceRaster, str] | None = None,
) -> go.Figure:
    titles = [_panel_title(t, tr.diverged_at) for t, tr in zip(run.titles, run.trajectories, strict=True)]
    lines = max(t.count("<br>") + 1 for t in titles)
    longest = max(len(line) for t in titles for line in t.split("<br>"))
    fig = small_multiples_figure(
        run.surface,
        list(run.trajectories),
        titles=titles,
        # A panel is ~145 px wide at four per row in a 1280 px window: ~24 characters at 12 px.
        cols=min(len(titles), 4 if longest <= PANEL_TITLE_CHARS else 3),
        surface_params=surface_params,
        colors=list(run.colors),
        title=f"{run.surface.label}: same start, same steps",
        background=background,
    )
    # Titles on lines of their own (name, then setting), clear of the frame under them.
    for ann in fig.layout.annotations:
        if ann.text in titles:
            ann.update(font=dict(size=12), yshift=PANEL_TITLE_GAP)
    top = fig.layout.margin.t or 60
    fig.update_layout(margin_t=top + 15 * (lines - 1) + PANEL_TITLE_GAP + 8)
    return fig


PANEL_TITLE_CHARS = 24  # longest title line that fits a panel at four per row
PANEL_TITLE_GAP = 4  # px between a panel's title and its frame


def _panel_title(title: str, diverged_at: int | None) -> str:
    """`Momentum (heavy ball), α = 0.001` -> `Momentum (heavy ball)<br>α = 0.001` (and a third
    line when the run diverged): each line short enough for a narrow panel."""
    name, sep, setting = title.rpartition(", ")
    text = f"{name}<br>{setting}" if sep else title
    return text + (f"<br>diverged at {diverged_at}" if diverged_at is not None else "")


DIVERGED_MARKER = "#C00000"


def heatmap_fig(result: HeatmapResult, metric: str) -> go.Figure:
    """The sensitivity heatmap: one cell per setting, ★ at the default, diverged cells marked."""
    z, z_label, log_z, nan_label = heatmap_values(result, metric)
    name = result.optimizer
    x_sym, y_sym = hp_symbol(name, result.x), hp_symbol(name, result.y)
    fig = heatmap_figure(
        result.x_values,
        result.y_values,
        z,
        x_label=f"{x_sym} ({result.x})",
        y_label=f"{y_sym} ({result.y})",
        z_label=z_label,
        log_x=is_log(name, result.x),
        log_y=is_log(name, result.y),
        log_z=log_z,
        default=result.default_point(),
        title=f"{OPTIMIZERS[name].label}: "
        + (z_label if metric == "steps" else f"{z_label} after {result.steps} steps"),
        nan_label=nan_label,
    )
    if metric == "steps" and result.diverged.any():
        # Grey cells mean "never got there"; a red x on top says it blew up on the way.
        iy, ix = np.nonzero(result.diverged)
        fig.add_trace(
            go.Scatter(
                x=ix.astype(float),
                y=iy.astype(float),
                mode="markers",
                name="diverged",
                marker=dict(symbol="x", size=11, color=DIVERGED_MARKER, line=dict(width=1, color="#ffffff")),
                hovertemplate="diverged<extra></extra>",
            )
        )
    return fig


def basin_metric_note(result: BasinResult, metric: str) -> str | None:
    """Why a basin view falls back to another one, or None."""
    if metric == "steps" and not math.isfinite(result.f_star):
        return (
            "This surface has no known minimum, so 'steps to tolerance' is undefined; "
            "showing the final loss instead."
        )
    return None


def basin_fig(
    result: BasinResult,
    metric: str,
    surface: Surface,
    surface_params: Mapping[str, float] | None = None,
    start: tuple[float, float] | None = None,
) -> go.Figure:
    """The basin map: which minimum each start reaches, how fast, or how low it gets."""
    label = OPTIMIZERS[result.optimizer].label
    if metric == "steps" and not math.isfinite(result.f_star):
        metric = "loss"
    if metric == "minimum":
        # Without known minima the centres are where runs settled: the legend says so.
        known = result.known_minima
        return basin_figure(
            result.xs,
            result.ys,
            labels=result.labels,
            minima=result.centers,
            surface=surface,
            surface_params=surface_params,
            start=start,
            title=f"{label}: where each start point ends up",
            none_label="reaches no minimum / diverged",
            reaches_label="reaches minimum" if known else "ends near point",
            minima_name="known minimum" if known else "typical end point",
        )
    if metric == "steps":
        steps = np.where(result.steps_to_tol >= 0, result.steps_to_tol, np.nan).astype(float)
        return basin_figure(
            result.xs,
            result.ys,
            steps=steps,
            minima=result.centers if result.known_minima else (),
            surface=surface,
            surface_params=surface_params,
            start=start,
            title=f"{label}: steps until loss − f* ≤ {result.tol:g}",
        )
    # Final loss on log colours, drawn with the steps map's machinery under its own names.
    floor = (
        result.f_star
        if math.isfinite(result.f_star)
        else np.nanmin(np.where(result.diverged_at >= 0, np.nan, result.final_loss))
    )
    gap = np.where(result.diverged_at >= 0, np.nan, result.final_loss - floor)
    with np.errstate(all="ignore"):
        z = np.log10(np.maximum(gap, 0.0) + 1e-12)
    what = "final loss − f*" if math.isfinite(result.f_star) else "final loss − lowest"
    return basin_figure(
        result.xs,
        result.ys,
        steps=z,
        minima=result.centers if result.known_minima else (),
        surface=surface,
        surface_params=surface_params,
        start=start,
        title=f"{label}: how low each start point gets",
        never_label="diverged",
        value_title=f"log₁₀({what})",
        value_hover=f"log₁₀({what}) = %{{z:.2f}}",
    )


# --- data downloads ---------------------------------------------------------------------------


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def _int_or_none(value: int) -> int | None:
    return int(value) if int(value) >= 0 else None


def heatmap_rows(result: HeatmapResult) -> list[dict[str, Any]]:
    rows = []
    for i, y in enumerate(result.y_values):
        for j, x in enumerate(result.x_values):
            rows.append(
                {
                    result.x: float(x),
                    result.y: float(y),
                    "final_loss": _num(result.final_loss[i, j]),
                    "steps_to_tol": _int_or_none(result.steps_to_tol[i, j]),
                    "diverged_at": _int_or_none(result.diverged_at[i, j]),
                }
            )
    return rows


def basin_rows(result: BasinResult) -> list[dict[str, Any]]:
    rows = []
    for i, y in enumerate(result.ys):
        for j, x in enumerate(result.xs):
            end = result.final_position[i, j]
            rows.append(
                {
                    "start_x": float(x),
                    "start_y": float(y),
                    "end_x": _num(end[0]),
                    "end_y": _num(end[1]),
                    "final_loss": _num(result.final_loss[i, j]),
                    "steps_to_tol": _int_or_none(result.steps_to_tol[i, j]),
                    "diverged_at": _int_or_none(result.diverged_at[i, j]),
                    "reaches": _int_or_none(result.labels[i, j]),
                }
            )
    return rows


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header; empty cells for 'none' (never reached, did not diverge, NaN)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def heatmap_json(result: HeatmapResult, state: CompareState) -> str:
    return json.dumps(
        {
            "kind": "sensitivity-heatmap",
            "surface": state.setup.surface,
            "steps": state.setup.steps,
            "start": list(state.setup.resolved_start()),
            "optimizer": result.optimizer,
            "fixed_hparams": dict(result.fixed),
            "tol": result.tol,
            "x": {"name": result.x, "values": result.x_values.tolist()},
            "y": {"name": result.y, "values": result.y_values.tolist()},
            "cells": heatmap_rows(result),
        },
        indent=1,
    )


def basin_json(result: BasinResult, state: CompareState) -> str:
    return json.dumps(
        {
            "kind": "basin-map",
            "surface": state.setup.surface,
            "steps": state.setup.steps,
            "optimizer": result.optimizer,
            "hparams": dict(state.basin.entry.hparams),
            "tol": result.tol,
            "reach_radius": reach_radius(state.setup.resolved_surface()),
            "targets": result.centers.tolist(),
            "targets_are_known_minima": result.known_minima,
            "cells": basin_rows(result),
        },
        indent=1,
    )
