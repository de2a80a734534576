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
from viz._style import bottom_margin, layout_for, legend_rows, log_ticks, make_figure, merged, message
from viz.colors import OUTLINE_COLOR, color_for
from viz.contour import _contour_trace

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

GRADIENT_COLOR = "#404040"
MOMENT_COLOR = "#7B3294"
RAW_COLOR = "#8c8c8c"
# The 2026 optimizers' extra sequences (the optimizer's own colour stays on its path):
Z_COLOR = "#8C510A"  # Schedule-Free's fast iterate z (brown, dashed)
AVERAGE_COLOR = OUTLINE_COLOR  # what to keep: Schedule-Free's average x, Lookahead's slow weights
PROBE_COLOR = "#A50026"  # SAM's ascent probe (dark red)
SYNC_COLOR = "#666666"  # helper lines: Lookahead's syncs, the segment z–x, SAM's radius ρ
PRODIGY_D_COLOR = OUTLINE_COLOR  # Prodigy's estimate d


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


def _note(text: str, xref: str = "paper", yref: str = "paper", **kwargs: Any) -> dict[str, Any]:
    """A small grey note above the plot's top-left corner (`xref="x domain"`: the corner of the
    drawn axes, which equal units may make narrower than the paper)."""
    return dict(
        text=text,
        xref=xref,
        yref=yref,
        x=0,
        y=1.0,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=12, color="#555555"),
        **kwargs,
    )


def _position(point: np.ndarray, name: str) -> dict[str, Any]:
    """A hollow marker at the point an update starts from."""
    return dict(
        type="scatter",
        x=f32(point[:1]),
        y=f32(point[1:2]),
        mode="markers",
        name=name,
        marker=dict(size=11, color="#ffffff", line=dict(width=2, color=OUTLINE_COLOR)),
        hovertemplate="x = %{x:.5g}, y = %{y:.5g}<extra></extra>",
    )


def _line(
    points: np.ndarray,
    name: str,
    color: str,
    dash: str = "solid",
    width: float = 2.0,
    mode: str = "lines+markers",
    symbol: str = "circle",
    size: float = 6,
    opacity: float = 1.0,
) -> dict[str, Any]:
    """Points (n, 2) as one trace; NaN rows break the line."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return dict(
        type="scatter",
        x=f32(pts[:, 0]),
        y=f32(pts[:, 1]),
        mode=mode,
        name=name,
        line=dict(color=color, width=width, dash=dash),
        marker=dict(size=size, color=color, symbol=symbol, line=dict(width=1, color=color)),
        opacity=opacity,
        hovertemplate=f"x = %{{x:.5g}}, y = %{{y:.5g}}<extra>{name.split(':')[0]}</extra>",
    )


def _segments(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Segments a→b as one polyline broken by NaN rows."""
    rows: list[np.ndarray] = []
    for a, b in pairs:
        rows += [a, b, np.array([np.nan, np.nan])]
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _series(trajectory: Trajectory, key: str, lo: int, hi: int) -> np.ndarray:
    """The recorded sequence `key` at times lo … hi−1, time t meaning after t updates (entry
    t − 1 of the internals); at time 0 every sequence is the start."""
    path = np.asarray(trajectory.path, dtype=np.float64)
    values = np.asarray(trajectory.internals[key], dtype=np.float64)
    return np.array([path[0] if t == 0 else values[t - 1] for t in range(lo, hi)]).reshape(-1, 2)


def _kind(trajectory: Trajectory) -> str:
    """Which drawing of the 2026 optimizers applies, from the internals recorded."""
    keys = trajectory.internals
    if {"z", "x"} <= keys.keys():
        return "schedule_free"
    if {"slow", "fast"} <= keys.keys():
        return "lookahead"
    if {"probe", "anchor"} <= keys.keys():
        return "sam"
    return "plain"


def sync_period(trajectory: Trajectory) -> int:
    """Lookahead's k as the optimizer applies it (rounded, at least 1)."""
    return max(int(np.round(float(trajectory.hparams.get("sync_period", 1.0)))), 1)


def sam_pair(trajectory: Trajectory, step: int) -> tuple[int, bool]:
    """(index of the ascent update, whether its descent is there) of the SAM step holding
    update `step`. Updates come in pairs: odd ones (1, 3, …) go up to the probe, even ones
    descend from θ; a last, unpaired ascent falls back to the pair before it."""
    last = last_valid_step(trajectory)
    i = _clamp_step(trajectory, step) - 1
    ia = i - i % 2
    if ia + 2 > last and ia >= 2:
        ia -= 2
    return ia, ia + 2 <= last


def _schedule_free_layer(
    trajectory: Trajectory, k: int, lo: int, hi: int
) -> tuple[list[dict[str, Any]], list[np.ndarray], list[str]]:
    inner = "AdamW" if "v" in trajectory.internals else "SGD"
    b1 = float(trajectory.hparams.get("b1", 0.9))
    z, x = _series(trajectory, "z", lo, hi), _series(trajectory, "x", lo, hi)
    zk, xk = (_series(trajectory, key, k, k + 1)[0] for key in ("z", "x"))
    yk = np.asarray(trajectory.path, dtype=np.float64)[k]
    traces = [
        _line(z, f"z: the fast iterate, plain {inner} steps", Z_COLOR, dash="dash", size=5),
        _line(x, "x: the running average of the z's (the point to keep)", AVERAGE_COLOR, width=2.5, size=5),
        _line(
            np.array([zk, xk]),
            f"after update {k}: y sits on the segment z–x, β₁ = {fmt_num(b1)} of the way to x",
            SYNC_COLOR,
            dash="dot",
            width=1.5,
            mode="lines",
        ),
        _line(np.array([zk]), f"z after update {k}", Z_COLOR, mode="markers", symbol="square", size=11),
        _line(
            np.array([xk]), f"x after update {k}", AVERAGE_COLOR, mode="markers", symbol="diamond", size=12
        ),
    ]
    notes = []
    lr = np.asarray(trajectory.lr, dtype=np.float64)
    if lr.size and np.all(lr == lr[0]):
        notes.append("with a constant α, x after t updates is the plain mean of z₁ … z_t")
    return traces, [zk, xk, yk], notes


def _lookahead_layer(
    trajectory: Trajectory, k: int, lo: int, hi: int
) -> tuple[list[dict[str, Any]], list[np.ndarray], list[str]]:
    period = sync_period(trajectory)
    alpha_s = float(trajectory.hparams.get("slow_step_size", 0.5))
    path = np.asarray(trajectory.path, dtype=np.float64)
    slow = _series(trajectory, "slow", lo, hi)
    n = finite_length(trajectory)
    syncs = [t for t in range(max(lo, 1), hi) if t % period == 0 and t < n]
    slow_times = [lo] + [t for t in syncs if t != lo]
    traces = [
        _line(
            slow[[t - lo for t in slow_times]],
            f"slow weights φ: move only every k = {period} steps",
            AVERAGE_COLOR,
            width=2.5,
            symbol="diamond",
            size=10,
        )
    ]
    internals = trajectory.internals
    if syncs and {"m_hat", "step_size"} <= internals.keys():
        # Where the fast weights got before the sync: θ_{t−1} + Adam's update (−α·m̂/(√v̂+ε)).
        m_hat = np.asarray(internals["m_hat"], dtype=np.float64)
        size = np.asarray(internals["step_size"], dtype=np.float64)
        before = np.array([path[t - 1] - size[t - 1] * m_hat[t - 1] for t in syncs])
        traces.append(
            _line(
                before,
                f"fast weights after their {period}-th Adam step, before the sync",
                SYNC_COLOR,
                mode="markers",
                symbol="x",
                size=10,
            )
        )
        traces.append(
            _line(
                _segments([(b, path[t]) for b, t in zip(before, syncs, strict=True)]),
                "sync: the fast weights restart at the new slow weights",
                SYNC_COLOR,
                dash="dash",
                width=1.5,
                mode="lines",
            )
        )
    slow_k = _series(trajectory, "slow", k, k + 1)[0]
    traces.append(
        _line(
            np.array([slow_k]),
            f"slow weights after update {k}",
            AVERAGE_COLOR,
            mode="markers",
            symbol="diamond",
            size=14,
        )
    )
    notes = [
        f"every k = {period} updates the slow weights move α_s = {fmt_num(alpha_s)} of the way "
        "to the fast weights, and the fast weights restart from them"
    ]
    # Fit the cycles around update k: the slow points and the syncs within two periods.
    near = [t for t in slow_times if abs(t - k) <= 2 * period]
    fit = [slow_k, path[k], *slow[[t - lo for t in near]]]
    if syncs and {"m_hat", "step_size"} <= internals.keys():
        fit += [b for b, t in zip(before, syncs, strict=True) if abs(t - k) <= 2 * period]
    return traces, fit, notes


def _sam_layer(
    trajectory: Trajectory, step: int, color: str
) -> tuple[list[dict[str, Any]], list[np.ndarray], list[str], str]:
    ia, paired = sam_pair(trajectory, step)
    path = np.asarray(trajectory.path, dtype=np.float64)
    grads = np.asarray(trajectory.grads, dtype=np.float64)
    rho = float(trajectory.hparams.get("rho", 0.0))
    theta, probe, g = path[ia], path[ia + 1], grads[ia]
    j = ia // 2 + 1
    n = finite_length(trajectory)
    lo, hi = max(0, ia - 20), min(n, ia + 23)
    lo -= lo % 2
    thetas = path[lo:hi:2]
    probes = path[lo + 1 : hi : 2]
    circle = theta + rho * np.stack(
        [np.cos(np.linspace(0, 2 * np.pi, 73)), np.sin(np.linspace(0, 2 * np.pi, 73))], 1
    )
    traces = [
        _line(thetas, "θ: SAM's weights (every other update)", color, width=1.5, size=5, opacity=0.4),
        _line(
            probes,
            "earlier and later probes",
            PROBE_COLOR,
            mode="markers",
            symbol="circle-open",
            size=7,
            opacity=0.55,
        ),
        _line(circle, f"distance ρ = {fmt_num(rho)} around θ", SYNC_COLOR, dash="dot", width=1, mode="lines"),
        _arrow(theta, probe - theta, "ascent: θ + ρ·g/‖g‖, uphill to the probe", PROBE_COLOR, "dash", 3),
    ]
    fit = [theta, probe, theta + rho, theta - rho]
    notes = ["one SAM step = two gradients: up to the probe, then down from θ with the probe's gradient"]
    if paired:
        alpha = float(np.asarray(trajectory.lr, dtype=np.float64)[ia + 1])
        descent = path[ia + 2] - theta
        plain = -alpha * g
        longest = max(float(np.linalg.norm(descent)), float(np.linalg.norm(plain)), 1e-300)
        reach = max(rho, 1e-300)
        scale = 1.0 if longest >= 0.25 * reach else 0.6 * reach / longest
        factor = "" if scale == 1.0 else f" (×{fmt_num(scale)})"
        traces += [  # the dotted SGD arrow on top: it often runs along the descent
            _arrow(theta, descent * scale, f"descent: −α·∇f(probe), taken from θ{factor}", color, "solid", 4),
            _arrow(theta, plain * scale, f"plain SGD would step −α·∇f(θ){factor}", GRADIENT_COLOR, "dot", 3),
        ]
        fit += [theta + descent * scale, theta + plain * scale]
        if scale != 1.0:
            notes.append("the two steps are scaled up by the same factor to be visible")
    traces += [
        _line(np.array([probe]), f"probe of SAM step {j}", PROBE_COLOR, mode="markers", size=12),
        _position(theta, f"θ before SAM step {j}"),
    ]
    updates = f"updates {ia + 1} and {ia + 2}" if paired else f"update {ia + 1}, its descent not taken"
    return traces, fit, notes, f"{trajectory.label}: SAM step {j} ({updates}), up close"


def _fit_window(
    points: list[np.ndarray], half: float, span: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square window holding every point, at least `half` wide each way, at most 0.75·span."""
    pts = np.array([p for p in points if np.all(np.isfinite(p))], dtype=np.float64).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2
    half = float(min(max(half, 0.6 * float(np.max(hi - lo))), 0.75 * span))
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


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

    The 2026 optimizers draw what they keep beside the path (from the recorded internals):
    Schedule-Free its z, y and x sequences; Lookahead its slow weights, the sync points and
    where the fast weights had got before each sync; SAM the SAM step holding update `step`:
    θ, the ascent to the probe θ + ρ·g/‖g‖, the descent −α·∇f(probe) from θ, and the plain SGD
    step −α·∇f(θ) beside it.
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
    kind = _kind(trajectory)
    default_title = f"{trajectory.label}: update {k}, up close"
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
    lo, hi = max(0, i - 20), min(finite_length(trajectory), i + 22)
    path_name = {
        "schedule_free": "y: where the gradient is taken (the path)",
        "lookahead": "fast weights θ (the path)",
    }.get(kind, "path")
    layer: list[dict[str, Any]] = []
    fit: list[np.ndarray] = []
    notes: list[str] = []
    if kind == "schedule_free":
        layer, fit, notes = _schedule_free_layer(trajectory, k, lo, hi)
    elif kind == "lookahead":
        layer, fit, notes = _lookahead_layer(trajectory, k, lo, hi)
    elif kind == "sam":
        layer, fit, notes, default_title = _sam_layer(trajectory, k, color)
    title = title if title is not None else default_title
    if fit:
        window = _fit_window([p, p + u, *fit], half, span)
        half = (window[0][1] - window[0][0]) / 2
    else:
        window = ((p[0] - half, p[0] + half), (p[1] - half, p[1] + half))
    contour, _ = _contour_trace(surface, surface_params, grid_points, domain=window, showscale=False)
    data = [contour]
    if kind != "sam":
        # Context: the path around this step, faint.
        data.append(
            dict(
                type="scatter",
                x=f32(path[lo:hi, 0]),
                y=f32(path[lo:hi, 1]),
                mode="lines+markers",
                name=path_name,
                line=dict(color=color, width=1.5),
                marker=dict(size=5, color=color),
                opacity=0.45,
                hovertemplate=f"x = %{{x:.4g}}, y = %{{y:.4g}}<extra>{path_name.split(':')[0]}</extra>",
            )
        )
    data += layer
    if kind != "sam":
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
        data.append(_position(p, f"position before update {k}"))
        notes.insert(0, "arrows rescaled to be visible; the legend gives each factor")
        if m is None:
            notes.insert(1, f"{trajectory.label} keeps no first moment m")
    if k != step and trajectory.diverged_at is not None and step > k:
        notes.append(f"showing update {k}: the run diverged at step {trajectory.diverged_at}")
    note = _note("<br>".join(notes), align="left", xref="x domain", yref="y domain")
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    extra: dict[str, Any] = {}
    if kind != "plain":
        # One legend entry per row: the names are sentences, and they must not cover the axis.
        entries = sum(1 for t in data if t.get("name") and t.get("showlegend", True) is not False)
        extra = dict(
            height=560 + 20 * entries,
            legend=dict(entrywidth=1, entrywidthmode="fraction"),
            margin=dict(b=60 + 20 * entries),
        )
    layout = layout_for(
        data,
        title,
        height=600,
        margin=dict(t=64 + 16 * max(len(notes), 2)),
        annotations=[note],
        xaxis=dict(range=list(window[0]), title=dict(text="x"), **axis),
        yaxis=dict(range=list(window[1]), title=dict(text="y"), scaleanchor="x", scaleratio=1, **axis),
    )
    return make_figure(data, merged(layout, extra))


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


HALF_WIDTH_PX = 300  # the Internals tab shows the step-size and moments charts side by side


def _half_width_margin(data: list[dict[str, Any]]) -> tuple[int, int]:
    """(bottom margin, extra height) for a legend laid out at half a column's width: sized for
    720 px it would wrap into more rows than planned and climb over the x axis's labels."""
    labels = [str(d["name"]) for d in data if d.get("name") and d.get("showlegend", True) is not False]
    wide = bottom_margin(labels)
    narrow = 55 + (26 * legend_rows(labels, width_px=HALF_WIDTH_PX) + 8 if labels else 0)
    return narrow, max(narrow - wide, 0)


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
    if _kind(trajectory) == "sam":
        return _sam_rise_figure(trajectory, step, color, title)
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
    main_axis = _log_axis([d["y"] for d in data])
    panels: dict[str, Any] = {}
    if "d" in trajectory.internals:
        # Prodigy: its estimate d, in a panel above (x2/y2) sharing the step axis.
        top = _prodigy_d_traces(trajectory, x_all)
        data += top
        panels = dict(
            yaxis2=dict(
                domain=[0.64, 1.0],
                anchor="x2",
                title=dict(text="distance (log scale)"),
                **_log_axis([d["y"] for d in top]),
            ),
            xaxis2=dict(anchor="y2", matches="x", showticklabels=False, range=[0, n + 1]),
        )
        annotations.append(
            dict(
                text="Prodigy's estimate d: the step size it learns",
                xref="paper",
                yref="paper",
                x=0.5,
                y=1.0,
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=13),
            )
        )
    shapes = []
    if k is not None:
        shapes.append(_step_line(k))
        if panels:
            shapes.append(_step_line(k, "x2", "y2 domain"))
        annotations.append(
            dict(
                text=f"step {k}",
                x=k,
                xref="x",
                # Written on the side of the line away from the nearer edge, inside the frame.
                xanchor="left" if k <= n / 2 else "right",
                y=1.0 if not panels else 0.5,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=12),
            )
        )
    margin_b, extra = _half_width_margin(data)
    layout = layout_for(
        data,
        title,
        height=(420 if not panels else 620) + extra,
        margin=dict(b=margin_b),
        shapes=shapes,
        annotations=annotations,
        xaxis=dict(title=dict(text="step"), range=[0, n + 1], automargin=True),  # title below ticks
        yaxis=dict(title=dict(text=y_title), **main_axis, **(dict(domain=[0.0, 0.5]) if panels else {})),
        **panels,
    )
    return make_figure(data, layout)


def _sam_rise_figure(trajectory: Trajectory, step: int | None, color: str, title: str | None) -> go.Figure:
    """SAM's side figure: per SAM step, how much higher the loss is at the probe than at θ
    (SAM's step sizes are fixed, α for the descent and ρ for the probe: a plot of them would
    only alternate)."""
    title = title if title is not None else f"{trajectory.label}: the loss at the probe"
    loss = np.asarray(trajectory.loss, dtype=np.float64)
    n = trajectory.steps
    pairs = np.arange(0, max(last_valid_step(trajectory) - 1, 0), 2)  # ascent updates 1, 3, … (0-based)
    rise = loss[pairs + 1] - loss[pairs]
    x, y = drawable_curve(pairs + 2, rise)  # at the SAM step's descent update
    alpha, rho = (trajectory.hparams.get(h) for h in ("learning_rate", "rho"))
    name = "f(probe) − f(θ): how much higher the loss is at the probe"
    data = [
        dict(
            type="scatter",
            x=x.astype(np.int32),
            y=f32(y),
            mode="lines+markers",
            name=name,
            line=dict(color=PROBE_COLOR, width=2),
            marker=dict(size=4, color=PROBE_COLOR),
            hovertemplate="SAM step ending at update %{x}<br>rise %{y:.4g}<extra></extra>",
        )
    ]
    fixed = (
        f"SAM's step sizes are fixed: ρ = {fmt_num(float(rho))} uphill, then α = {fmt_num(float(alpha))} down"
        if alpha is not None and rho is not None
        else "SAM's step sizes are fixed"
    )
    annotations: list[dict[str, Any]] = [_note(fixed)]
    shapes = []
    if step is not None:
        ia, paired = sam_pair(trajectory, step)
        if paired:
            shapes.append(_step_line(ia + 2))
    layout = layout_for(
        data,
        title,
        height=420,
        shapes=shapes,
        annotations=annotations,
        margin=dict(t=80),
        xaxis=dict(title=dict(text="step (each SAM step drawn at its descent update)"), range=[0, n + 1]),
        yaxis=dict(title=dict(text="loss rise at the probe")),
    )
    return make_figure(data, layout)


def _prodigy_d_traces(trajectory: Trajectory, x_all: np.ndarray) -> list[dict[str, Any]]:
    """Prodigy's d after each step (one value for all coordinates) and, for scale, how far the
    run has got from its start, ‖θ_t − θ₀‖."""
    d = np.asarray(trajectory.internals["d"], dtype=np.float64)[:, 0]
    path = np.asarray(trajectory.path, dtype=np.float64)
    moved = np.linalg.norm(path[1:] - path[0], axis=1)
    moved = np.where(moved > 0, moved, np.nan)
    d0 = trajectory.hparams.get("estim_lr0")
    start = f"starts at d₀ = {fmt_num(float(d0))}, " if d0 is not None else ""
    traces = []
    for values, name, line in (
        (
            d,
            f"d: Prodigy's step-size estimate ({start}never shrinks)",
            dict(color=PRODIGY_D_COLOR, width=2.5),
        ),
        (moved, "‖θ_t − θ₀‖: distance from the start", dict(color=SYNC_COLOR, width=2, dash="dash")),
    ):
        x, y = drawable_curve(x_all, values)
        traces.append(
            dict(
                type="scatter",
                x=x.astype(np.int32),
                y=f32(y),
                mode="lines",
                name=name,
                line=line,
                xaxis="x2",
                yaxis="y2",
                hovertemplate=f"step %{{x}}<br>%{{y:.4g}}<extra>{name.split(':')[0]}</extra>",
            )
        )
    return traces


_MOMENT_ROWS = (
    ("m", "m_hat", "first moment m", "m (raw: starts biased toward 0)", "m̂ (bias-corrected)"),
    ("v", "v_hat", "second moment v", "v (raw: starts biased toward 0)", "v̂ (bias-corrected)"),
)


ROW_TITLE_SHIFT = 21  # px: a row's title sits above its panels' own titles


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
                xaxis["title"] = dict(text="step (log)")
            yaxis: dict[str, Any] = dict(domain=[y_top - row_h, y_top], anchor=f"x{suffix}")
            if raw == "v":
                yaxis.update(_log_axis(drawn))
            layout_axes[f"xaxis{suffix}"] = xaxis
            layout_axes[f"yaxis{suffix}"] = yaxis
            if k is not None:
                shapes.append(_step_line(k, f"x{suffix}", f"y{suffix} domain"))
            # Short panel titles (the figure sits in half a column, ~300 px): the coordinate
            # over each panel, what the row shows once above the row.
            titles.append(
                dict(
                    text=f"{'x' if col == 1 else 'y'} coordinate",
                    showarrow=False,
                    xref="paper",
                    yref="paper",
                    x=sum(col_domains[col - 1]) / 2,
                    y=y_top,
                    xanchor="center",
                    yanchor="bottom",
                    yshift=3,
                    font=dict(size=12, color="#444444"),
                )
            )
        titles.append(
            dict(
                text=f"<b>{what}</b>{note}",
                showarrow=False,
                xref="paper",
                yref="paper",
                x=0.5,  # over the whole row (it names both panels; a panel alone is too narrow)
                y=y_top,
                xanchor="center",
                yanchor="bottom",
                yshift=ROW_TITLE_SHIFT,
                font=dict(size=13),
            )
        )
    margin_b, extra = _half_width_margin(data)
    layout = layout_for(
        data,
        title,  # without the step (the dotted lines mark it): a longer title is cut off
        height=250 * n_rows + 170 + extra,
        shapes=shapes,
        annotations=titles,
        margin=dict(t=84, b=margin_b),
        **layout_axes,
    )
    return make_figure(data, layout)
