"""Maps of a surface with paths on them: contour, 3D, animation, small multiples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz._data import (
    MAX_PATH_POINTS,
    ColorScaling,
    Domain,
    color_scaling,
    drawable_path,
    f32,
    finite_length,
    minima_values,
    surface_grid,
)
from viz._style import base_layout, layout_for, make_figure
from viz.colors import (
    MINIMUM_COLOR,
    MINIMUM_FILL_ALPHA,
    OUTLINE_COLOR,
    START_COLOR,
    SURFACE_COLORSCALE,
    path_style,
    resolve_colors,
    with_alpha,
)
from viz.raster import SurfaceRaster, colorbar_trace, layout_image

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

# Name of the invisible scatter grid laid over the contour map. Streamlit returns nothing for a
# click on a contour trace, but with st.plotly_chart(on_select="rerun", selection_mode="points")
# it returns the clicked point of a scatter trace: this one. Find it with `clicked_point`.
CLICK_GRID_NAME = "click-grid"
CLICK_GRID_POINTS = 30  # per side: 900 points (each is an SVG node the browser redraws)

# On the surface picture (`background`), one transparent heatmap takes clicks instead: the browser
# draws it as a single image, where the grid's 900 invisible markers cost ~250 ms on every redraw.
# Streamlit reports no selection from a heatmap: the page listens to Plotly's click event on it.
CLICK_LAYER_NAME = "click-layer"

START_NAME = "start"
MINIMA_NAME = "known minimum"


def display_label(traj: Trajectory) -> str:
    """Legend text: the run's label, plus when it diverged (shown plainly, never hidden)."""
    if traj.diverged_at is not None:
        return f"{traj.label} (diverged at step {int(traj.diverged_at)})"
    return traj.label


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


def _contour_trace(
    surface: Surface,
    params: Mapping[str, float] | None,
    grid_points: int,
    domain: Domain | None = None,
    scaling: ColorScaling | None = None,
    showscale: bool = True,
    colorbar: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], ColorScaling]:
    grid = surface_grid(surface, params, grid_points, domain)
    floor = minima_values(surface, params)
    if scaling is None:
        scaling = color_scaling(grid.z, surface.log_colors, float(floor.min()) if floor.size else None)
    zc = scaling.apply(grid.z)
    bar = dict(title=dict(text=scaling.title, side="right"), thickness=14, len=0.9)
    if scaling.tickvals is not None:
        bar.update(tickvals=scaling.tickvals, ticktext=scaling.ticktext)
    bar.update(colorbar or {})
    trace = dict(
        type="contour",
        x=f32(grid.x),
        y=f32(grid.y),
        z=f32(zc),
        colorscale=SURFACE_COLORSCALE,
        ncontours=24,
        contours=dict(coloring="fill", showlines=True),
        line=dict(width=0.5, color="rgba(60,60,60,0.35)"),
        showscale=showscale,
        colorbar=bar,
        hoverinfo="skip",  # the click grid above answers hovers with x, y and the loss
        name="surface",
    )
    return trace, scaling


def _click_grid_trace(
    surface: Surface, params: Mapping[str, float] | None, n: int = CLICK_GRID_POINTS
) -> dict[str, Any]:
    grid = surface_grid(surface, params, n)
    xx, yy = np.meshgrid(grid.x, grid.y)
    return dict(
        type="scatter",
        x=f32(xx.ravel()),
        y=f32(yy.ravel()),
        customdata=f32(grid.z.ravel()),
        mode="markers",
        name=CLICK_GRID_NAME,
        marker=dict(size=10, color="rgba(0,0,0,0)", opacity=0),
        # Transparent when selected too, else a click would paint a dot or dim the map.
        selected=dict(marker=dict(opacity=0)),
        unselected=dict(marker=dict(opacity=0)),
        hovertemplate="x = %{x:.3g}, y = %{y:.3g}<br>loss = %{customdata:.4g}"
        "<br><i>click to start here</i><extra></extra>",
        showlegend=False,
    )


def _click_layer_trace(
    surface: Surface, params: Mapping[str, float] | None, n: int = CLICK_GRID_POINTS
) -> dict[str, Any]:
    grid = surface_grid(surface, params, n)
    return dict(
        type="heatmap",
        x=f32(grid.x),
        y=f32(grid.y),
        z=f32(grid.z),
        opacity=0,
        showscale=False,
        name=CLICK_LAYER_NAME,
        hovertemplate="x = %{x:.3g}, y = %{y:.3g}<br>loss = %{z:.4g}"
        "<br><i>click to start here</i><extra></extra>",
        showlegend=False,
    )


def _path_hover(name: str, note: str = "") -> str:
    return (
        f"<b>{name}</b><br>step %{{customdata[0]:d}}<br>x = %{{x:.4g}}, y = %{{y:.4g}}"
        f"<br>loss = %{{customdata[1]:.4g}}{note}<extra></extra>"
    )


def _path_traces(
    traj: Trajectory,
    color: str,
    group: str,
    domain: Domain,
    max_points: int = MAX_PATH_POINTS,
    showlegend: bool = True,
    slot: int | None = None,
) -> list[dict[str, Any]]:
    """The path (line + a marker per drawn step) and its end marker (x when it diverged), in the
    colour, dash, width and end shape of run `slot` (default: the run number of `group`)."""
    style = path_style(_slot(group) if slot is None else slot)
    steps, pts = drawable_path(traj, max_points)
    loss = np.asarray(traj.loss, dtype=np.float64)[steps] if steps.size else np.zeros(0)
    name = display_label(traj)
    # Dots show individual steps on short paths; on long ones they read as a blur and cost the
    # browser an SVG node each, so long paths are drawn as lines only. The dots are rings (beads
    # on the line), and steps too close to the last bead get none: a band of dots would cover
    # the dash's gaps, through which the path under this one shows.
    with_markers = steps.size <= 120
    marker_size = _bead_sizes(pts, domain, style.width + 3.5) if with_markers else style.width + 3.5
    path = dict(
        type="scatter",
        x=f32(pts[:, 0]),
        y=f32(pts[:, 1]),
        customdata=np.column_stack([steps, loss]).astype(np.float32),
        mode="lines+markers" if with_markers else "lines",
        name=name,
        legendgroup=group,
        showlegend=showlegend,
        line=dict(color=color, width=style.width, dash=style.dash),
        marker=dict(color=color, size=marker_size, symbol="circle-open", line=dict(width=1.3, color=color)),
        unselected=dict(marker=dict(opacity=1)),  # a click on the map must not dim the paths
        hovertemplate=_path_hover(traj.label),
    )
    traces = [path]
    if steps.size:
        end = _end_marker(traj, pts, steps, loss, color, group, domain, style.end_symbol, style.end_size)
        traces.append(end)
    return traces


def _bead_sizes(pts: np.ndarray, domain: Domain, size: float, spacing: float = 0.012) -> list[float]:
    """A marker size per point: `size` where the point is at least `spacing` (a share of the
    domain's larger side, about 6 px on the map) from the last point that got a bead, else 0."""
    (x0, x1), (y0, y1) = domain
    gap = spacing * max(x1 - x0, y1 - y0)
    sizes: list[float] = []
    last: np.ndarray | None = None
    for p in np.asarray(pts, dtype=np.float64):
        if last is None or not np.all(np.isfinite(p)) or float(np.hypot(*(p - last))) >= gap:
            sizes.append(round(size, 2))
            last = p if np.all(np.isfinite(p)) else last
        else:
            sizes.append(0.0)
    return sizes


def _end_marker(
    traj: Trajectory,
    pts: np.ndarray,
    steps: np.ndarray,
    loss: np.ndarray,
    color: str,
    group: str,
    domain: Domain,
    symbol: str = "square",
    size: float = 11.0,
) -> dict[str, Any]:
    """The end of a path: `symbol` at `size`, outlined, on its last point; an x on the last
    finite point when it diverged. A run whose end lies outside the view is marked where it was
    last seen, as a hollow `symbol` (a cross when it diverged), and the hover says where it ended."""
    diverged_at = traj.diverged_at
    diverged = diverged_at is not None
    k = len(pts) - 1
    note = ""
    (x0, x1), (y0, y1) = domain
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    left_view = not inside[k] and bool(inside.any())
    if left_view:
        # A run that leaves the view (a diverging one, often long before it turns NaN) would
        # have its end drawn off the map: put the mark where it was last seen, and say so.
        end = pts[k]
        k = int(np.flatnonzero(inside)[-1])
        note = f"<br>left the view after step {int(steps[k])}"
        if not diverged:
            note += f"<br>ended outside it at x = {end[0]:.4g}, y = {end[1]:.4g}"
    if diverged_at is not None:
        note += f"<br>diverged at step {int(diverged_at)}"
    if diverged:
        marker = dict(symbol="x", size=size + 2, color=color, line=dict(width=1.5, color="#ffffff"))
    elif left_view:
        marker = dict(symbol=f"{symbol}-open", size=size, color=color, line=dict(width=3, color=color))
    else:
        marker = dict(symbol=symbol, size=size, color=color, line=dict(width=1.5, color=OUTLINE_COLOR))
    where = " (last finite point)" if diverged else " (last point in view)" if left_view else " end"
    return dict(
        type="scatter",
        x=f32(pts[k : k + 1, 0]),
        y=f32(pts[k : k + 1, 1]),
        customdata=np.array([[steps[k], loss[k]]], dtype=np.float32),
        mode="markers",
        name=f"{traj.label} end",
        legendgroup=group,
        showlegend=False,
        marker=marker,
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate=_path_hover(traj.label + where, note),
    )


def _start_trace(trajectories: Sequence[Trajectory], surface: Surface) -> dict[str, Any]:
    starts = {t.start for t in trajectories} if trajectories else {tuple(surface.start)}
    pts = np.array(sorted(starts), dtype=np.float64)
    return dict(
        type="scatter",
        x=f32(pts[:, 0]),
        y=f32(pts[:, 1]),
        mode="markers",
        name=START_NAME,
        marker=dict(symbol="circle", size=12, color=START_COLOR, line=dict(width=2.2, color=OUTLINE_COLOR)),
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate="start<br>x = %{x:.4g}, y = %{y:.4g}<extra></extra>",
    )


def _minima_trace(surface: Surface) -> dict[str, Any] | None:
    if not surface.minima:
        return None
    pts = np.asarray(surface.minima, dtype=np.float64).reshape(-1, 2)
    return dict(
        type="scatter",
        x=f32(pts[:, 0]),
        y=f32(pts[:, 1]),
        mode="markers",
        name=MINIMA_NAME,
        # Half-transparent gold: an end marker under the star (a run that reached the minimum)
        # shows through it.
        marker=dict(
            symbol="star",
            size=16,
            color=with_alpha(MINIMUM_COLOR, MINIMUM_FILL_ALPHA),
            line=dict(width=1.2, color=OUTLINE_COLOR),
        ),
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate="known minimum<br>x = %{x:.4g}, y = %{y:.4g}<extra></extra>",
    )


def _domain_axes(domain: Domain, equal: bool = True) -> dict[str, Any]:
    """Layout axes whose ranges are the domain exactly, with equal units on both axes when the
    domain is not too elongated (a long thin domain drawn 1:1 would be a sliver)."""
    (x0, x1), (y0, y1) = domain
    common = dict(constrain="domain", showgrid=False, zeroline=False)
    xaxis = dict(range=[x0, x1], title=dict(text="x"), **common)
    yaxis = dict(range=[y0, y1], title=dict(text="y"), **common)
    ratio = (y1 - y0) / (x1 - x0)
    if equal and 1 / 3 <= ratio <= 3:
        yaxis.update(scaleanchor="x", scaleratio=1)
    return dict(xaxis=xaxis, yaxis=yaxis)


def _group(i: int) -> str:
    return f"run{i}"


def _slot(group: str) -> int:
    """The run number of a legend group made by `_group` (0 for any other group)."""
    return int(group[3:]) if group.startswith("run") and group[3:].isdigit() else 0


# ---------------------------------------------------------------------------------------------
# Public figures
# ---------------------------------------------------------------------------------------------


def contour_spec(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    grid_points: int = 80,  # smooth on screen, light for the browser to draw
    clickable: bool = True,
    title: str | None = None,
    max_path_points: int = MAX_PATH_POINTS,
    background: tuple[SurfaceRaster, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The data and layout of `contour_figure` as plain dicts (for figures built on it).

    Trace order: surface contour, click grid (when `clickable`; named CLICK_GRID_NAME), every
    path (named by `display_label`), every end marker, then "start" and "known minimum".
    Diverged runs end in an x at their last visible point.

    `background` = (raster, URL): the surface is that picture (`viz.raster`), laid under the
    paths as a layout image, and the first trace only draws its colour bar: the figure then
    carries no surface grid at all (the live Playground; exports keep the vector contour), and
    clicks land on a transparent heatmap named CLICK_LAYER_NAME instead of the click grid.
    """
    colors_ = resolve_colors(len(trajectories), colors)
    images: list[dict[str, Any]] = []
    if background is not None:
        raster, source = background
        data = [colorbar_trace(raster)]
        images = [layout_image(raster, source)]
    else:
        contour, _ = _contour_trace(surface, surface_params, grid_points)
        data = [contour]
    if clickable:
        data.append(
            _click_grid_trace(surface, surface_params)
            if background is None
            else _click_layer_trace(surface, surface_params)
        )
    # All paths first, then all end markers: a later path must not cover an earlier end.
    per_run = [
        _path_traces(traj, color, _group(i), surface.domain, max_path_points)
        for i, (traj, color) in enumerate(zip(trajectories, colors_, strict=True))
    ]
    data += [traces[0] for traces in per_run]
    data += [tr for traces in per_run for tr in traces[1:]]
    data.append(_start_trace(trajectories, surface))
    minima = _minima_trace(surface)
    if minima is not None:
        data.append(minima)
    layout = layout_for(
        data,
        title if title is not None else surface.label,
        hovermode="closest",
        clickmode="event+select",
        dragmode="zoom",
        height=640,
        uirevision=surface.key,
        **_domain_axes(surface.domain),
    )
    if images:
        layout["images"] = images
    return data, layout


def contour_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    grid_points: int = 80,  # smooth on screen, light for the browser to draw
    clickable: bool = True,
    title: str | None = None,
    max_path_points: int = MAX_PATH_POINTS,
    background: tuple[SurfaceRaster, str] | None = None,
) -> go.Figure:
    """Filled contour of the surface with every path, its start, its end and the known minima:
    the figure of `contour_spec` (trace order, `clickable` and `background` as described there)."""
    return make_figure(
        *contour_spec(
            surface=surface,
            trajectories=trajectories,
            surface_params=surface_params,
            colors=colors,
            grid_points=grid_points,
            clickable=clickable,
            title=title,
            max_path_points=max_path_points,
            background=background,
        )
    )


def clicked_point(fig: go.Figure, selection: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The (x, y) a user clicked on the map, from Streamlit's selection state, else None.

    `selection` is what st.plotly_chart(on_select="rerun", selection_mode="points") returns (or
    its ["selection"] part). Only points of the click grid count: a click that lands on a path
    marker is not a new start.
    """
    if not selection:
        return None
    sel = selection.get("selection", selection)
    points = sel.get("points", []) if isinstance(sel, Mapping) else []
    grid_index = next(
        (i for i, tr in enumerate(fig.data) if getattr(tr, "name", None) == CLICK_GRID_NAME), None
    )
    for p in points:
        curve = p.get("curve_number", p.get("curveNumber"))
        if curve == grid_index and p.get("x") is not None and p.get("y") is not None:
            return (float(p["x"]), float(p["y"]))
    return None


def surface3d_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    grid_points: int = 60,
    log_z: bool | None = None,
    title: str | None = None,
    max_path_points: int = 300,
    animate: bool = False,
    max_frames: int = 60,
    trail_frames: int | None = 12,
    frame_ms: int = 80,
) -> go.Figure:
    """The surface in 3D (z on a log scale when `log_z`, default: surface.log_colors) with each
    path lifted onto it, its start and end marked.

    `animate`: the animation of `animated_contour_figure` on the surface, with the same frame
    steps, play/pause buttons and step slider (named ANIMATION_SLIDER_NAME): the whole paths
    are drawn faint, and each frame moves a bright trail of the last `trail_frames` frames and
    one "position now" trace with every run's head. The frames hold only those traces; a 3D
    scene redraws whole on each frame (WebGL), surface included."""
    log_z = surface.log_colors if log_z is None else log_z
    colors_ = resolve_colors(len(trajectories), colors)
    grid = surface_grid(surface, surface_params, grid_points)
    floor = minima_values(surface, surface_params)
    scaling = color_scaling(grid.z, log_z, float(floor.min()) if floor.size else None)
    zs = scaling.apply(grid.z)
    finite = zs[np.isfinite(zs)]
    z_lo, z_hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lift = 0.015 * (z_hi - z_lo or 1.0)  # a hair above the surface, so it does not hide the path
    data: list[dict[str, Any]] = [
        dict(
            type="surface",
            x=f32(grid.x),
            y=f32(grid.y),
            z=f32(zs),
            colorscale=SURFACE_COLORSCALE,
            showscale=False,  # the z axis already reads in loss units
            opacity=0.9,
            name="surface",
            hoverinfo="skip",
            lighting=dict(ambient=0.8, diffuse=0.5, specular=0.05),
        )
    ]
    (x0, x1), (y0, y1) = surface.domain
    for i, (traj, color) in enumerate(zip(trajectories, colors_, strict=True)):
        steps, pts = drawable_path(traj, max_path_points)
        if not steps.size:
            continue
        inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        z = scaling.apply(np.asarray(traj.loss, dtype=np.float64)[steps]) + lift
        x, y = pts[:, 0].copy(), pts[:, 1].copy()
        x[~inside] = y[~inside] = z[~inside] = np.nan  # 3D scenes do not clip: hide what is out
        loss = np.asarray(traj.loss, dtype=np.float64)[steps]
        hover = _path_hover(traj.label)
        style = path_style(i)
        data.append(
            dict(
                type="scatter3d",
                x=f32(x),
                y=f32(y),
                z=f32(z),
                mode="lines",
                name=display_label(traj),
                legendgroup=_group(i),
                line=dict(color=color, width=style.width + 2.5, dash=style.dash_3d),
                customdata=np.column_stack([steps, loss]).astype(np.float32),
                hovertemplate=hover,
            )
        )
        ends = [0, len(x) - 1]
        data.append(
            dict(
                type="scatter3d",
                x=f32(x[ends]),
                y=f32(y[ends]),
                z=f32(z[ends]),
                mode="markers",
                name=f"{traj.label} start/end",
                legendgroup=_group(i),
                showlegend=False,
                marker=dict(
                    size=[6, round(style.end_size / 2, 2)],
                    color=[START_COLOR, color],
                    symbol=["circle", "x" if traj.diverged_at is not None else style.end_symbol_3d],
                    line=dict(width=2, color=OUTLINE_COLOR),
                ),
                customdata=np.column_stack([steps[ends], loss[ends]]).astype(np.float32),
                hovertemplate=hover,
            )
        )
    frames: list[dict[str, Any]] | None = None
    controls: dict[str, Any] = {}
    if animate:
        frames = _animate_3d(
            data, trajectories, colors_, scaling.apply, lift, surface.domain, max_frames, trail_frames
        )
        controls = _animation_controls(
            np.array([int(f["name"]) for f in frames]), frame_ms, redraw=True, y=-0.02
        )
    ratio = (y1 - y0) / (x1 - x0)
    # Tick labels: a little smaller, and the box a little wider than the surface, so the labels on
    # its edges stand off the surface's walls instead of running across them.
    ticks = dict(tickfont=dict(size=11), nticks=6)
    zaxis: dict[str, Any] = dict(title=dict(text="loss (log scale)" if log_z else "loss"), **ticks)
    if scaling.tickvals is not None:
        zaxis.update(tickvals=scaling.tickvals, ticktext=scaling.ticktext)
    zaxis["range"] = [z_lo - 0.08 * (z_hi - z_lo or 1.0), z_hi + lift]
    pad_x, pad_y = 0.06 * (x1 - x0), 0.06 * (y1 - y0)
    layout = layout_for(
        data,
        title if title is not None else f"{surface.label}: 3D view" + (", press play" if animate else ""),
        height=700 if animate else 640,
        axis_px=70 if animate else 10,
        margin=dict(l=0, r=0),
        scene=dict(
            xaxis=dict(title=dict(text="x"), range=[x0 - pad_x, x1 + pad_x], **ticks),
            yaxis=dict(title=dict(text="y"), range=[y0 - pad_y, y1 + pad_y], **ticks),
            zaxis=zaxis,
            aspectmode="manual",
            aspectratio=dict(x=1, y=min(max(ratio, 0.3), 3), z=0.6),
            # From above and in front: valleys and the paths in them stay in sight.
            camera=dict(eye=dict(x=0.35, y=-1.7, z=1.45)),
        ),
        uirevision=surface.key,  # keep the user's camera across reruns
        **controls,
    )
    return make_figure(data, layout, frames)


def _animate_3d(
    data: list[dict[str, Any]],
    trajectories: Sequence[Trajectory],
    colors: Sequence[str],
    to_z: Any,
    lift: float,
    domain: Domain,
    max_frames: int,
    trail_frames: int | None,
) -> list[dict[str, Any]]:
    """Turn the 3D figure's `data` into an animation's first frame (the paths faint, a trail per
    run and the heads added, in place) and return the frames."""
    if max_frames < 2:
        raise ValueError("max_frames must be at least 2")
    for trace in data:
        if trace.get("type") == "scatter3d" and trace.get("mode") == "lines":
            # Faint by the trace's opacity: WebGL draws an rgba line colour washed out, not faint.
            trace.update(line=dict(trace["line"], width=2.5), opacity=0.5, showlegend=False)
    frame_steps = _frame_steps(max((t.steps for t in trajectories), default=0), max_frames)
    (x0, x1), (y0, y1) = domain
    decimals = _decimals(max(x1 - x0, y1 - y0))
    runs: list[tuple[np.ndarray, np.ndarray, int]] = []
    for traj in trajectories:
        n_ok = finite_length(traj)
        idx = np.minimum(frame_steps, max(n_ok - 1, 0))
        xy = np.asarray(traj.path, dtype=np.float64)[idx].copy()
        z = np.asarray(to_z(np.asarray(traj.loss, dtype=np.float64)[idx]), dtype=np.float64) + lift
        hide = ~((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)) | (n_ok == 0)
        xy[hide] = np.nan
        z[hide] = np.nan
        runs.append((xy, z, n_ok))

    def frame_traces(j: int) -> list[dict[str, Any]]:
        lo = 0 if trail_frames is None else max(0, j - trail_frames)
        out: list[dict[str, Any]] = []
        heads: list[tuple[float, float, float]] = []
        symbols: list[str] = []
        for i, (traj, (xy, z, n_ok)) in enumerate(zip(trajectories, runs, strict=True)):
            out.append(
                dict(
                    type="scatter3d",
                    x=_rounded_list(xy[lo : j + 1, 0], decimals),
                    y=_rounded_list(xy[lo : j + 1, 1], decimals),
                    z=_rounded_list(z[lo : j + 1], 5),
                )
            )
            heads.append((xy[j, 0], xy[j, 1], z[j]))
            diverged_now = traj.diverged_at is not None and frame_steps[j] >= n_ok
            symbols.append("x" if diverged_now else path_style(i).end_symbol_3d)
        h = np.array(heads, dtype=np.float64).reshape(-1, 3)
        out.append(
            dict(
                type="scatter3d",
                x=_rounded_list(h[:, 0], decimals),
                y=_rounded_list(h[:, 1], decimals),
                z=_rounded_list(h[:, 2], 5),
                marker=dict(symbol=symbols),
            )
        )
        return out

    first = len(data)
    opening = frame_traces(0)
    for i, (traj, color) in enumerate(zip(trajectories, colors, strict=True)):
        style = path_style(i)
        data.append(
            dict(
                opening[i],
                mode="lines",
                name=display_label(traj),
                legendgroup=_group(i),
                line=dict(color=color, width=style.width + 3.5, dash=style.dash_3d),
                hoverinfo="skip",
            )
        )
    data.append(
        dict(
            opening[-1],
            mode="markers",
            name="position now",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                color=list(colors),
                size=[round(path_style(i).end_size / 2 + 1, 2) for i in range(len(trajectories))],
                symbol=opening[-1]["marker"]["symbol"],
                line=dict(width=2, color=OUTLINE_COLOR),
            ),
        )
    )
    animated = list(range(first, first + len(trajectories) + 1))
    return [dict(name=str(int(s)), data=frame_traces(j), traces=animated) for j, s in enumerate(frame_steps)]


def _frame_steps(total_steps: int, max_frames: int) -> np.ndarray:
    """Step shown by each frame: 0, s, 2s, ... and the last step, with s an odd integer.

    Odd because SGD in a ravine flips side every step: an even stride would sample one side
    only and draw a smooth path where the real one zig-zags.
    """
    if total_steps + 1 <= max_frames:
        return np.arange(total_steps + 1)
    stride = math.ceil(total_steps / (max_frames - 1))
    if stride % 2 == 0:
        stride += 1
    steps = np.arange(0, total_steps + 1, stride)
    if steps[-1] != total_steps:
        steps = np.append(steps, total_steps)
    return steps


# The animations' step slider (2D and 3D): the page's step buttons find the chart by this name.
ANIMATION_SLIDER_NAME = "animation-steps"


def _animation_controls(frame_steps: np.ndarray, frame_ms: int, redraw: bool, y: float) -> dict[str, Any]:
    """Play/pause buttons and a step slider (named ANIMATION_SLIDER_NAME) at height `y` (paper
    units, negative: under the plot): layout entries. `redraw` must be True for 3D scenes."""
    still = dict(frame=dict(duration=0, redraw=redraw), transition=dict(duration=0), mode="immediate")
    play = dict(
        frame=dict(duration=frame_ms, redraw=redraw),
        transition=dict(duration=0),
        fromcurrent=True,
        mode="immediate",
    )
    return dict(
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                showactive=False,
                x=0.0,
                y=y - 0.015,
                xanchor="left",
                yanchor="top",
                pad=dict(t=0, r=10),
                buttons=[
                    dict(label="▶ Play", method="animate", args=[None, play]),
                    dict(label="❚❚ Pause", method="animate", args=[[None], still]),
                ],
            )
        ],
        sliders=[
            dict(
                name=ANIMATION_SLIDER_NAME,
                active=0,
                x=0.33,
                y=y,
                len=0.67,
                xanchor="left",
                yanchor="top",
                pad=dict(t=0, b=0),
                steps=[
                    dict(method="animate", label=str(int(s)), args=[[str(int(s))], still])
                    for s in frame_steps
                ],
                currentvalue=dict(
                    prefix="step ", visible=True, xanchor="right", font=dict(size=14, color="#222222")
                ),
                # 150 tick labels would be a black smear: the current value says the step.
                ticklen=0,
                minorticklen=0,
                font=dict(size=1, color="rgba(0,0,0,0)"),
            )
        ],
    )


def _rounded_list(a: np.ndarray, decimals: int) -> list[float | None]:
    """Plain rounded floats, None for what is not finite: frames carry lists, not typed arrays
    (a typed NumPy array per tiny trace makes plotly.py's validation and serialization ~10x
    slower)."""
    return [None if not math.isfinite(v) else v for v in np.round(a, decimals).tolist()]


def _decimals(span: float) -> int:
    """Decimals that keep 1e-5 of `span`: far below a pixel."""
    return max(0, 5 - math.floor(math.log10(span))) if span > 0 and math.isfinite(span) else 5


def animated_contour_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    max_frames: int = 60,  # smooth enough; frames dominate the build time and payload
    trail_frames: int | None = 12,
    grid_points: int = 80,
    frame_ms: int = 60,
    title: str | None = None,
    background: tuple[SurfaceRaster, str] | None = None,
) -> go.Figure:
    """Contour map on which every optimizer moves together: play, pause and a step slider, all
    in the browser (no server round trip per frame).

    Each run is drawn as a faint full path (static, so the route is always visible) and, per
    frame, a bright trail of its last `trail_frames` frame positions; one more trace, "position
    now", holds every run's head (an x once it diverged). A long trail means a fast optimizer.
    `trail_frames=None` grows the whole path instead, whose JSON grows with frames squared.
    Frames hold only the trail and head traces (the contour stays out of them) and play with
    redraw=False; at most `max_frames` frames. `background` = (raster, URL) draws the surface as
    that picture, as `contour_figure` does: it stays in place whatever a frame redraws.
    """
    if max_frames < 2:
        raise ValueError("max_frames must be at least 2")
    colors_ = resolve_colors(len(trajectories), colors)
    total = max((t.steps for t in trajectories), default=0)
    frame_steps = _frame_steps(total, max_frames)
    if background is not None:
        data = [colorbar_trace(background[0])]
    else:
        contour, _ = _contour_trace(surface, surface_params, grid_points)
        data = [contour]
    for i, (traj, color) in enumerate(zip(trajectories, colors_, strict=True)):
        ghost = _path_traces(traj, color, _group(i), surface.domain)[0]
        ghost.update(
            line=dict(color=with_alpha(color, 0.45), width=1.5, dash=path_style(i).dash),
            mode="lines",
            showlegend=False,
            name=f"{traj.label} (whole path)",
        )
        ghost.pop("marker", None)
        data.append(ghost)
    minima = _minima_trace(surface)
    if minima is not None:
        data.append(minima)
    data.append(_start_trace(trajectories, surface))

    # Each run's position at every frame step (held at its last finite point once diverged).
    sampled: list[tuple[np.ndarray, int]] = []
    for traj in trajectories:
        n_ok = finite_length(traj)
        idx = np.minimum(frame_steps, max(n_ok - 1, 0))
        sampled.append((np.asarray(traj.path, dtype=np.float64)[idx], n_ok))

    (x0, x1), (y0, y1) = surface.domain
    # Frames carry plain rounded lists: a typed NumPy array per tiny trace makes plotly.py's
    # validation and serialization ~10x slower, and 1e-5 of the domain is far below a pixel.
    decimals = max(0, 5 - math.floor(math.log10(max(x1 - x0, y1 - y0))))

    def as_list(a: np.ndarray) -> list[float | None]:
        return [None if not math.isfinite(v) else v for v in np.round(a, decimals).tolist()]

    def frame_traces(j: int) -> list[dict[str, Any]]:
        """One trail per run, then one trace holding every run's head (fewer, smaller frames)."""
        lo = 0 if trail_frames is None else max(0, j - trail_frames)
        out: list[dict[str, Any]] = []
        heads: list[np.ndarray] = []
        symbols: list[str] = []
        for traj, (pts, n_ok) in zip(trajectories, sampled, strict=True):
            trail = pts[lo : j + 1] if n_ok else pts[:0]
            out.append(dict(type="scatter", x=as_list(trail[:, 0]), y=as_list(trail[:, 1])))
            heads.append(trail[-1] if len(trail) else np.array([np.nan, np.nan]))
            diverged_now = traj.diverged_at is not None and frame_steps[j] >= n_ok
            symbols.append("x" if diverged_now else path_style(len(symbols)).end_symbol)
        h = np.array(heads).reshape(-1, 2)
        out.append(dict(type="scatter", x=as_list(h[:, 0]), y=as_list(h[:, 1]), marker=dict(symbol=symbols)))
        return out

    first = len(data)
    n_runs = len(trajectories)
    animated = list(range(first, first + n_runs + 1))  # the trails, then the heads
    opening = frame_traces(0)
    for i, (traj, color) in enumerate(zip(trajectories, colors_, strict=True)):
        data.append(
            dict(
                type="scatter",
                x=opening[i]["x"],
                y=opening[i]["y"],
                mode="lines",
                name=display_label(traj),
                legendgroup=_group(i),
                line=dict(color=color, width=path_style(i).width + 0.5, dash=path_style(i).dash),
                hoverinfo="skip",
            )
        )
    data.append(
        dict(
            type="scatter",
            x=opening[-1]["x"],
            y=opening[-1]["y"],
            mode="markers",
            name="position now",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                color=colors_,
                size=[path_style(i).end_size for i in range(n_runs)],
                symbol=opening[-1]["marker"]["symbol"],
                line=dict(width=1.5, color=OUTLINE_COLOR),
            ),
        )
    )
    frames = [
        dict(name=str(int(s)), data=frame_traces(j), traces=animated) for j, s in enumerate(frame_steps)
    ]
    axes = _domain_axes(surface.domain)
    axes["xaxis"]["title"] = dict(text="")  # the slider sits where the axis title would
    # Under the plot: tick labels, then the play/pause buttons and the slider, then the legend.
    layout = layout_for(
        data,
        title if title is not None else f"{surface.label}: press play",
        height=720,
        axis_px=100,
        **axes,
        **_animation_controls(frame_steps, frame_ms, redraw=False, y=-0.085),
        uirevision=surface.key,
    )
    if background is not None:
        layout["images"] = [layout_image(*background)]
    return make_figure(data, layout, frames)


def small_multiples_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    titles: Sequence[str] | None = None,
    cols: int | None = None,
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    grid_points: int = 60,
    max_path_points: int = 400,
    title: str | None = None,
    background: tuple[SurfaceRaster, str] | None = None,
) -> go.Figure:
    """One panel per trajectory, shared axes and one shared contour scale (one colour bar).

    `titles` default to the trajectories' labels; `cols` defaults to up to 4 per row.
    `background` = (raster, URL): every panel shows that one picture of the surface (fetched
    once by the browser) instead of its own contour trace.
    """
    n = len(trajectories)
    if n == 0:
        raise ValueError("small_multiples_figure needs at least one trajectory")
    titles_ = list(titles) if titles is not None else [display_label(t) for t in trajectories]
    if len(titles_) != n:
        raise ValueError(f"{n} trajectories but {len(titles_)} titles")
    titles_ = [
        t + (f" (diverged at {tr.diverged_at})" if tr.diverged_at is not None and "diverged" not in t else "")
        for t, tr in zip(titles_, trajectories, strict=True)
    ]
    cols_ = cols or min(n, 4)
    rows = math.ceil(n / cols_)
    fig = make_subplots(
        rows=rows,
        cols=cols_,
        shared_xaxes="all",
        shared_yaxes="all",
        subplot_titles=titles_,
        horizontal_spacing=0.03,
        vertical_spacing=0.09,
    )
    colors_ = resolve_colors(n, colors)
    scaling: ColorScaling | None = None
    for i, (traj, color) in enumerate(zip(trajectories, colors_, strict=True)):
        r, c = divmod(i, cols_)
        if background is not None:
            fig.add_layout_image(layout_image(*background), row=r + 1, col=c + 1)
            if i == 0:
                fig.add_trace(colorbar_trace(background[0]), row=1, col=1)
        else:
            contour, scaling = _contour_trace(
                surface, surface_params, grid_points, scaling=scaling, showscale=(i == 0)
            )
            fig.add_trace(contour, row=r + 1, col=c + 1)
        for tr in _path_traces(traj, color, _group(i), surface.domain, max_path_points, showlegend=False):
            fig.add_trace(tr, row=r + 1, col=c + 1)
        start = _start_trace([traj], surface)
        start.update(showlegend=i == 0, legendgroup=START_NAME)
        fig.add_trace(start, row=r + 1, col=c + 1)
        minima = _minima_trace(surface)
        if minima is not None:
            minima.update(showlegend=i == 0, legendgroup=MINIMA_NAME)
            fig.add_trace(minima, row=r + 1, col=c + 1)
    (x0, x1), (y0, y1) = surface.domain
    fig.update_xaxes(range=[x0, x1], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], showgrid=False, zeroline=False)
    for c in range(cols_):
        fig.update_xaxes(title_text="x", row=rows, col=c + 1)
    for r in range(rows):
        fig.update_yaxes(title_text="y", row=r + 1, col=1)
    height = 300 * rows + 150
    base_layout(fig, title if title is not None else surface.label, height=height)
    fig.update_annotations(font=dict(size=13))
    return fig
