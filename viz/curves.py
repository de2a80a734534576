"""Per-step curves, one trace per run in its colour and dash: loss, distance to a minimum, step
length."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from viz._data import (
    MAX_CURVE_POINTS,
    drawable_curve,
    f32,
    finite_length,
    fmt_num,
    minima_values,
    nearest_minimum_distance,
)
from viz._style import layout_for, log_ticks, make_figure, message
from viz.colors import path_style, resolve_colors
from viz.contour import display_label

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

Series = Callable[["Trajectory"], tuple[np.ndarray, np.ndarray]]


def _log_range(curves: list[tuple[np.ndarray, bool]]) -> tuple[float, float] | None:
    """log10 y-range that shows every run that stayed finite in full; a diverged run's blow-up
    may reach at most 2 decades above them (else it would squash the others into a flat line)."""
    calm = [y for y, diverged in curves if not diverged and y.size]
    wild = [y for y, diverged in curves if diverged and y.size]
    base = np.concatenate(calm) if calm else np.concatenate(wild) if wild else np.zeros(0)
    base = base[np.isfinite(base) & (base > 0)]
    if not base.size:
        return None
    lo, hi = float(np.log10(base.min())), float(np.log10(base.max()))
    for y in wild:
        y = y[np.isfinite(y) & (y > 0)]
        if y.size:
            lo = min(lo, float(np.log10(y.min())))
            hi = max(hi, min(float(np.log10(y.max())), hi + 2.0))
    pad = 0.05 * max(hi - lo, 0.5)
    return lo - pad, hi + pad


def _series_figure(
    trajectories: Sequence[Trajectory],
    series: Series,
    y_title: str,
    value_name: str,
    log_y: bool,
    colors: Sequence[str] | None,
    title: str | None,
    max_points: int,
) -> go.Figure:
    colors_ = resolve_colors(len(trajectories), colors)
    data: list[dict[str, Any]] = []
    curves = []
    for traj in trajectories:
        steps, values = series(traj)
        if log_y:
            values = np.where(values > 0, values, np.nan)  # a log axis cannot show 0 or less
        curves.append(drawable_curve(steps, values, max_points))
    flagged = [(y, t.diverged_at is not None) for (_, y), t in zip(curves, trajectories, strict=True)]
    y_range = _log_range(flagged) if log_y else None
    marks: list[dict[str, Any]] = []
    for i, (traj, color, (x, y)) in enumerate(zip(trajectories, colors_, curves, strict=True)):
        data.append(
            dict(
                type="scatter",
                x=x.astype(np.int32),
                y=f32(y),
                mode="lines",
                name=display_label(traj),
                legendgroup=f"run{i}",
                # Dash and width per run as on the map: two curves that run together both show.
                line=dict(color=color, width=max(path_style(i).width - 0.6, 1.4), dash=path_style(i).dash),
                hovertemplate=f"<b>{traj.label}</b><br>step %{{x}}<br>{value_name} = %{{y:.4g}}"
                "<extra></extra>",
            )
        )
        if traj.diverged_at is not None and y.size:
            # The curve stops where the run blew up: mark the spot (where it leaves the plot,
            # if it does) and say it in the hover.
            k = len(y) - 1
            if y_range is not None:
                above = np.flatnonzero(np.log10(y) > y_range[1])
                k = int(above[0]) if above.size else k
            mark_y = y[k] if y_range is None else min(y[k], 10 ** y_range[1])
            marks.append(
                dict(
                    type="scatter",
                    x=x[k : k + 1].astype(np.int32),
                    y=f32([mark_y]),
                    mode="markers",
                    name=f"{traj.label} diverged",
                    legendgroup=f"run{i}",
                    showlegend=False,
                    marker=dict(symbol="x", size=14, color=color, line=dict(width=1, color="#fff")),
                    cliponaxis=False,
                    hovertemplate=f"<b>{traj.label}</b><br>diverged at step {traj.diverged_at}"
                    "<extra></extra>",
                )
            )
    data += marks
    yaxis: dict[str, Any] = dict(title=dict(text=y_title))
    if log_y:
        yaxis["type"] = "log"
        if y_range is not None:
            vals, text = log_ticks(*y_range)
            yaxis.update(range=list(y_range), tickvals=vals, ticktext=text)
    layout = layout_for(
        data,
        title,
        height=420,
        hovermode="closest",
        yaxis=yaxis,
        xaxis=dict(title=dict(text="step"), rangemode="tozero"),
    )
    return make_figure(data, layout)


def loss_figure(
    trajectories: Sequence[Trajectory],
    surface: Surface | None = None,
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    log_y: bool = True,
    title: str | None = "Loss per step",
    max_points: int = MAX_CURVE_POINTS,
) -> go.Figure:
    """Loss against step (log y). Where the loss can be zero or negative, a log axis cannot show
    it, so the figure plots the gap to the lowest known value instead and says so on the axis."""
    f_star = None
    if log_y:
        finite = np.concatenate(
            [np.asarray(t.loss, dtype=np.float64)[: finite_length(t)] for t in trajectories] or [np.zeros(0)]
        )
        finite = finite[np.isfinite(finite)]
        if finite.size and finite.min() <= 0:
            known = minima_values(surface, surface_params) if surface is not None else np.zeros(0)
            f_star = float(min(known.min(), finite.min()) if known.size else finite.min())
    if f_star is None:

        def series(t: Trajectory) -> tuple[np.ndarray, np.ndarray]:
            return np.arange(t.steps + 1), np.asarray(t.loss, dtype=np.float64)

        y_title, value_name = "loss" + (" (log scale)" if log_y else ""), "loss"
    else:

        def series(t: Trajectory) -> tuple[np.ndarray, np.ndarray]:
            return np.arange(t.steps + 1), np.asarray(t.loss, dtype=np.float64) - f_star

        y_title = f"loss − {fmt_num(f_star)} (log scale)"
        value_name = "loss − min"
    return _series_figure(trajectories, series, y_title, value_name, log_y, colors, title, max_points)


def distance_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    colors: Sequence[str] | None = None,
    log_y: bool = True,
    title: str | None = "Distance to the nearest known minimum",
    max_points: int = MAX_CURVE_POINTS,
) -> go.Figure:
    """Euclidean distance from each step's position to the nearest known minimum (log y)."""
    if not surface.minima:
        last = max((t.steps for t in trajectories), default=1)
        layout = layout_for(
            [],
            title,
            height=420,
            xaxis=dict(title=dict(text="step"), range=[0, last]),
            yaxis=dict(title=dict(text="distance"), showticklabels=False, showgrid=False, zeroline=False),
            annotations=[
                message(f"{surface.label} has no known minimum,<br>so there is no distance to show.")
            ],
        )
        return make_figure([], layout)

    def series(t: Trajectory) -> tuple[np.ndarray, np.ndarray]:
        n = finite_length(t)
        d = np.full(t.steps + 1, np.nan)
        d[:n] = nearest_minimum_distance(np.asarray(t.path, dtype=np.float64)[:n], surface.minima)
        return np.arange(t.steps + 1), d

    return _series_figure(
        trajectories,
        series,
        "distance" + (" (log scale)" if log_y else ""),
        "distance",
        log_y,
        colors,
        title,
        max_points,
    )


def step_length_figure(
    trajectories: Sequence[Trajectory],
    colors: Sequence[str] | None = None,
    log_y: bool = True,
    title: str | None = "Step length |update| per step",
    max_points: int = MAX_CURVE_POINTS,
) -> go.Figure:
    """Length of each update against the step it produced (step k moved path[k-1] to path[k])."""

    def series(t: Trajectory) -> tuple[np.ndarray, np.ndarray]:
        u = np.asarray(t.updates, dtype=np.float64)
        return np.arange(1, t.steps + 1), np.sqrt(np.sum(u * u, axis=1))

    return _series_figure(
        trajectories,
        series,
        "|update|" + (" (log scale)" if log_y else ""),
        "|update|",
        log_y,
        colors,
        title,
        max_points,
    )
