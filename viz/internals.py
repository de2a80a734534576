"""What one optimizer does inside, at one step: arrows, effective step sizes, moments.

Step numbering here: `step` k (1-based) is the k-th update, the one that moved path[k-1] to
path[k]. It used grads[k-1] and left the state internals[k-1]; time series plot that state at
x = k, the same x as step_length_figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from viz._data import drawable_curve, f32, finite_length, fmt_num
from viz._style import layout_for, log_ticks, make_figure, message
from viz.colors import OUTLINE_COLOR, color_for
from viz.contour import _contour_trace

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

GRADIENT_COLOR = "#404040"
MOMENT_COLOR = "#7B3294"
RAW_COLOR = "#8c8c8c"


def last_valid_step(traj: Trajectory) -> int:
    """The last update number whose result is finite (0 when the first update already blew up)."""
    return max(finite_length(traj) - 1, 0)


def _clamp_step(traj: Trajectory, step: int | None) -> int:
    last = last_valid_step(traj)
    return last if step is None else int(min(max(step, 1), last)) if last else 0


def _empty(title: str | None, text: str, height: int = 420) -> go.Figure:
    hidden = dict(visible=False)
    return make_figure(
        [], layout_for([], title, height=height, xaxis=hidden, yaxis=hidden, annotations=[message(text)])
    )


def _arrow(
    start: np.ndarray, vec: np.ndarray, name: str, color: str, dash: str, width: float
) -> dict[str, Any]:
    end = start + vec
    return dict(
        type="scatter",
        x=f32([start[0], end[0]]),
        y=f32([start[1], end[1]]),
        mode="lines+markers",
        name=name,
        line=dict(color=color, width=width, dash=dash),
        # an arrow head at the end, pointing along the segment
        marker=dict(symbol="arrow", size=[0, 16], angleref="previous", color=color),
        hoverinfo="skip",
    )


def internals_arrows_figure(
    surface: Surface,
    trajectory: Trajectory,
    step: int,
    surface_params: Mapping[str, float] | None = None,
    color: str | None = None,
    grid_points: int = 60,
    title: str | None = None,
) -> go.Figure:
    """Zoomed contour around the position before update `step`, with arrows for the descent
    direction −gradient, the first moment −m (if the optimizer keeps one) and the actual update.

    Arrows are rescaled to be visible: −gradient and −m share one factor (so their lengths
    compare), the update has its own; the legend states both factors.
    """
    color = color or color_for(0)
    last = last_valid_step(trajectory)
    if last == 0:
        return _empty(
            title if title is not None else f"{trajectory.label}: up close",
            f"{trajectory.label} diverged at its first step:<br>"
            "nothing to show. Try a smaller learning rate.",
        )
    k = _clamp_step(trajectory, step)
    title = title if title is not None else f"{trajectory.label}: update {k}, up close"
    i = k - 1  # index into grads / updates / internals
    path = np.asarray(trajectory.path, dtype=np.float64)
    p = path[i]
    g = np.asarray(trajectory.grads, dtype=np.float64)[i]
    u = np.asarray(trajectory.updates, dtype=np.float64)[i]
    m = trajectory.internals.get("m")
    m = None if m is None else np.asarray(m, dtype=np.float64)[i]

    (x0, x1), (y0, y1) = surface.domain
    span = max(x1 - x0, y1 - y0)
    half = float(np.clip(6 * np.linalg.norm(u), 0.04 * span, 0.35 * span))
    window = ((p[0] - half, p[0] + half), (p[1] - half, p[1] + half))
    contour, _ = _contour_trace(surface, surface_params, grid_points, domain=window, showscale=False)
    data = [contour]
    # Context: the path around this step, faint.
    lo, hi = max(0, i - 20), min(finite_length(trajectory), i + 22)
    data.append(
        dict(
            type="scatter",
            x=f32(path[lo:hi, 0]),
            y=f32(path[lo:hi, 1]),
            mode="lines+markers",
            name="path",
            line=dict(color=color, width=1.5),
            marker=dict(size=5, color=color),
            opacity=0.45,
            hovertemplate="x = %{x:.4g}, y = %{y:.4g}<extra>path</extra>",
        )
    )
    # The gradient-unit arrows reach further than the update, so that for SGD (update = −α·g,
    # the same direction) the dotted gradient still shows beyond the update's head.
    target = 0.55 * half
    g_norms = [float(np.linalg.norm(g))] + ([float(np.linalg.norm(m))] if m is not None else [])
    g_scale = 1.6 * target / max(max(g_norms), 1e-300)
    u_scale = target / max(float(np.linalg.norm(u)), 1e-300)
    data.append(_arrow(p, -g * g_scale, f"−gradient (×{fmt_num(g_scale)})", GRADIENT_COLOR, "dot", 3))
    if m is not None:
        data.append(
            _arrow(p, -m * g_scale, f"−m, first moment (×{fmt_num(g_scale)})", MOMENT_COLOR, "dash", 3)
        )
    data.append(_arrow(p, u * u_scale, f"actual update (×{fmt_num(u_scale)})", color, "solid", 4))
    data.append(
        dict(
            type="scatter",
            x=f32(p[:1]),
            y=f32(p[1:2]),
            mode="markers",
            name=f"position before update {k}",
            marker=dict(size=11, color="#ffffff", line=dict(width=2, color=OUTLINE_COLOR)),
            hovertemplate="x = %{x:.5g}, y = %{y:.5g}<extra></extra>",
        )
    )
    notes = ["arrows rescaled to be visible; the legend gives each factor"]
    if m is None:
        notes.append(f"{trajectory.label} keeps no first moment m")
    if k != step and trajectory.diverged_at is not None and step > k:
        notes.append(f"showing update {k}: the run diverged at step {trajectory.diverged_at}")
    note = dict(
        text="<br>".join(notes),
        xref="paper",
        yref="paper",
        x=0,
        y=1.0,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=12, color="#555555"),
        align="left",
    )
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    layout = layout_for(
        data,
        title,
        height=600,
        margin=dict(t=95),
        annotations=[note],
        xaxis=dict(range=list(window[0]), title=dict(text="x"), **axis),
        yaxis=dict(range=list(window[1]), title=dict(text="y"), scaleanchor="x", scaleratio=1, **axis),
    )
    return make_figure(data, layout)


def _log_axis(ys: list) -> dict[str, Any]:
    """A log axis with plain tick labels, ranged on the values drawn."""
    vals = np.concatenate([np.asarray(y, dtype=np.float64) for y in ys if y is not None] or [np.zeros(0)])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    axis: dict[str, Any] = dict(type="log")
    if vals.size:
        lo, hi = float(np.log10(vals.min())), float(np.log10(vals.max()))
        pad = 0.05 * max(hi - lo, 0.5)
        tickvals, ticktext = log_ticks(lo - pad, hi + pad)
        axis.update(range=[lo - pad, hi + pad], tickvals=tickvals, ticktext=ticktext)
    return axis


def _step_line(step: int, xref: str = "x", yref: str = "y domain") -> dict[str, Any]:
    return dict(
        type="line",
        xref=xref,
        yref=yref,
        x0=step,
        x1=step,
        y0=0,
        y1=1,
        line=dict(color="#333333", width=1.5, dash="dot"),
    )


def effective_step_figure(
    trajectory: Trajectory,
    step: int | None = None,
    color: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """The per-coordinate effective step size (e.g. α/(√v̂ + ε) for Adam) over time, log y,
    with a vertical line at `step`. For optimizers that do not adapt per coordinate it shows
    the learning rate instead and says so."""
    color = color or color_for(0)
    title = title if title is not None else f"{trajectory.label}: effective step size"
    k = None if step is None else _clamp_step(trajectory, step)
    n = trajectory.steps
    x_all = np.arange(1, n + 1)
    data: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    size = trajectory.internals.get("step_size")
    if size is not None:
        size = np.asarray(size, dtype=np.float64)
        for col, (coord, dash) in enumerate((("x", "solid"), ("y", "dash"))):
            x, y = drawable_curve(x_all, size[:, col])
            data.append(
                dict(
                    type="scatter",
                    x=x.astype(np.int32),
                    y=f32(y),
                    mode="lines",
                    name=f"{coord} coordinate",
                    line=dict(color=color, width=2.2, dash=dash),
                    hovertemplate=f"step %{{x}}<br>{coord}: %{{y:.4g}}<extra></extra>",
                )
            )
        y_title = "effective step size (log scale)"
    else:
        x, y = drawable_curve(x_all, np.asarray(trajectory.lr, dtype=np.float64))
        data.append(
            dict(
                type="scatter",
                x=x.astype(np.int32),
                y=f32(y),
                mode="lines",
                name="learning rate α (x and y)",
                line=dict(color=color, width=2.2),
                hovertemplate="step %{x}<br>α = %{y:.4g}<extra></extra>",
            )
        )
        y_title = "learning rate (log scale)"
        annotations.append(
            dict(
                text=f"{trajectory.label} does not adapt its step per coordinate:<br>"
                "both coordinates use the learning rate α shown here.",
                xref="paper",
                yref="paper",
                x=0.5,
                y=0.95,
                showarrow=False,
                yanchor="top",
                font=dict(size=13, color="#555555"),
                bgcolor="rgba(255,255,255,0.85)",
            )
        )
    if trajectory.diverged_at is not None:
        annotations.append(
            dict(
                text=f"diverged at step {trajectory.diverged_at}",
                xref="paper",
                yref="paper",
                x=1,
                y=1.0,
                xanchor="right",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12, color="#b00000"),
            )
        )
    shapes = []
    if k is not None:
        shapes.append(_step_line(k))
        annotations.append(
            dict(
                text=f"step {k}",
                x=k,
                xref="x",
                y=1.0,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12),
            )
        )
    layout = layout_for(
        data,
        title,
        height=420,
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(title=dict(text="step"), range=[0, n + 1]),
        yaxis=dict(title=dict(text=y_title), **_log_axis([d["y"] for d in data])),
    )
    return make_figure(data, layout)


_MOMENT_ROWS = (
    ("m", "m_hat", "first moment m", "m (raw: starts biased toward 0)", "m̂ (bias-corrected)"),
    ("v", "v_hat", "second moment v", "v (raw: starts biased toward 0)", "v̂ (bias-corrected)"),
)


def moments_figure(
    trajectory: Trajectory,
    step: int | None = None,
    color: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """m vs m̂ and v vs v̂ over time, one column per coordinate, showing what bias correction
    does in the first steps (v on a log axis). Rows appear for the moments the optimizer keeps;
    with none, a message says so."""
    color = color or color_for(0)
    title = title if title is not None else f"{trajectory.label}: moments and bias correction"
    rows = [r for r in _MOMENT_ROWS if r[0] in trajectory.internals or r[1] in trajectory.internals]
    if not rows:
        return _empty(
            title,
            f"{trajectory.label} keeps no moment estimates (m, v):<br>"
            "it steps along the current gradient only.",
        )
    k = None if step is None else _clamp_step(trajectory, step)
    n = trajectory.steps
    x_all = np.arange(1, n + 1)
    n_rows = len(rows)
    # A 2-column grid laid out by hand (make_subplots costs ~30 ms).
    gap = 0.16 if n_rows > 1 else 0.0
    row_h = (1 - gap * (n_rows - 1)) / n_rows
    col_domains = ([0.0, 0.44], [0.56, 1.0])
    x_log = [0, float(np.log10(max(n, 2)))]
    tickvals, ticktext = log_ticks(*x_log)
    data: list[dict[str, Any]] = []
    layout_axes: dict[str, Any] = {}
    shapes: list[dict[str, Any]] = []
    titles: list[dict[str, Any]] = []
    for r, (raw, hat, what, raw_name, hat_name) in enumerate(rows, start=1):
        has_hat = hat in trajectory.internals
        note = "" if has_hat else " (no bias correction)"
        # Corrected first, raw on top: where they agree the dashed raw line still shows.
        series = [(hat, hat_name, dict(color=color, width=2.5))] if has_hat else []
        raw_line = dict(color=RAW_COLOR, width=2, dash="dash") if has_hat else dict(color=color, width=2.2)
        if raw in trajectory.internals:
            series.append((raw, raw_name if has_hat else f"{raw} (no bias correction)", raw_line))
        y_top = 1 - (r - 1) * (row_h + gap)
        for col in (1, 2):
            idx = (r - 1) * 2 + col
            suffix = "" if idx == 1 else str(idx)
            drawn = []
            for key, name, line in series:
                vals = np.asarray(trajectory.internals[key], dtype=np.float64)[:, col - 1]
                if key.startswith("v"):
                    vals = np.where(vals > 0, vals, np.nan)
                x, y = drawable_curve(x_all, vals)
                drawn.append(y)
                data.append(
                    dict(
                        type="scatter",
                        x=x.astype(np.int32),
                        y=f32(y),
                        mode="lines",
                        name=name,
                        line=line,
                        legendgroup=key,
                        showlegend=(col == 1),
                        xaxis=f"x{suffix}",
                        yaxis=f"y{suffix}",
                        hovertemplate=f"step %{{x}}<br>{key} = %{{y:.4g}}<extra></extra>",
                    )
                )
            # Log steps: bias correction matters in the first 1/(1−β) steps, which a linear
            # axis of hundreds of steps squeezes into a few pixels.
            xaxis: dict[str, Any] = dict(
                type="log",
                range=x_log,
                tickvals=tickvals,
                ticktext=ticktext,
                domain=col_domains[col - 1],
                anchor=f"y{suffix}",
                showticklabels=r == n_rows,
            )
            if idx != 1:
                xaxis["matches"] = "x"
            if r == n_rows:
                xaxis["title"] = dict(text="step (log scale)")
            yaxis: dict[str, Any] = dict(domain=[y_top - row_h, y_top], anchor=f"x{suffix}")
            if raw == "v":
                yaxis.update(_log_axis(drawn))
            layout_axes[f"xaxis{suffix}"] = xaxis
            layout_axes[f"yaxis{suffix}"] = yaxis
            if k is not None:
                shapes.append(_step_line(k, f"x{suffix}", f"y{suffix} domain"))
            coord = "x" if col == 1 else "y"
            titles.append(
                dict(
                    text=f"{what}, {coord} coordinate{note}",
                    showarrow=False,
                    xref="paper",
                    yref="paper",
                    x=sum(col_domains[col - 1]) / 2,
                    y=y_top,
                    xanchor="center",
                    yanchor="bottom",
                    font=dict(size=13),
                )
            )
    layout = layout_for(
        data,
        title + (f" (step {k})" if k is not None else ""),
        height=250 * n_rows + 170,
        shapes=shapes,
        annotations=titles,
        **layout_axes,
    )
    return make_figure(data, layout)
