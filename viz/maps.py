"""Maps over a grid of settings: sensitivity heatmaps and basin-of-attraction maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from viz._data import f32, fmt_num, surface_grid
from viz._style import base_layout, log_ticks
from viz.colors import BASIN_PALETTE, DIVERGED_COLOR, MINIMUM_COLOR, OUTLINE_COLOR

if TYPE_CHECKING:
    from surfaces._base import Surface

VALUE_COLORSCALE = "Viridis"  # perceptually even and colour-blind safe; it contains no grey


def _index_position(values: np.ndarray, v: float, log: bool) -> float:
    """Where value `v` sits on an axis that gives each sweep value one equal cell (index i),
    interpolating between neighbours (in log10 when the sweep is log-spaced)."""
    if log:
        if v <= 0 or np.any(values <= 0):
            raise ValueError("a log axis needs positive values")
        values, v = np.log10(values), float(np.log10(v))
    order = np.argsort(values)
    return float(np.interp(v, values[order], np.arange(len(values))[order]))


def _axis_ticks(values: np.ndarray, max_ticks: int = 12) -> dict:
    """Ticks at the sweep's own values (they are what the user chose), one cell each."""
    step = max(1, int(np.ceil(len(values) / max_ticks)))
    idx = np.arange(0, len(values), step)
    return dict(
        tickvals=idx.tolist(),
        ticktext=[fmt_num(float(v)) for v in values[idx]],
        range=[-0.5, len(values) - 0.5],
    )


def heatmap_figure(
    x_values: Sequence[float] | np.ndarray,
    y_values: Sequence[float] | np.ndarray,
    z: np.ndarray,
    x_label: str,
    y_label: str,
    z_label: str,
    log_x: bool = False,
    log_y: bool = False,
    log_z: bool = False,
    default: tuple[float, float] | None = None,
    title: str | None = None,
    nan_label: str = "diverged",
    show_values: bool | None = None,
) -> go.Figure:
    """A value (final loss, steps to tolerance...) over a grid of two settings.

    `z[i, j]` belongs to (x_values[j], y_values[i]). Every sweep value gets one equal cell,
    labelled with the value itself (β1 in {0, 0.9, 0.99} or α on a log grid alike). NaN cells
    (runs that diverged or never got there) are grey with a white x and a legend entry
    `nan_label`. `default` marks where the default setting lies, interpolated between cells
    (in log10 along `log_x` / `log_y` axes). Cell values are printed when the grid is small
    (`show_values=None`: up to 100 cells).
    """
    xs = np.asarray(x_values, dtype=np.float64)
    ys = np.asarray(y_values, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if z.shape != (len(ys), len(xs)):
        raise ValueError(f"z has shape {z.shape}, expected {(len(ys), len(xs))}")
    xpos, ypos = np.arange(len(xs), dtype=np.float64), np.arange(len(ys), dtype=np.float64)
    nan_mask = ~np.isfinite(z)
    zc = z.copy()
    if log_z:
        with np.errstate(all="ignore"):
            positive = zc[np.isfinite(zc) & (zc > 0)]
            floor = positive.min() if positive.size else 1.0
            zc = np.log10(np.where(zc > 0, zc, floor))
    zc[nan_mask] = np.nan
    show_values = z.size <= 100 if show_values is None else show_values
    cell_text = np.vectorize(lambda v: "" if not np.isfinite(v) else fmt_num(float(v)))(z)
    hover_text = np.where(nan_mask, nan_label, cell_text)
    custom = np.dstack(
        [
            np.broadcast_to(np.array([fmt_num(float(v)) for v in xs]), z.shape),
            np.broadcast_to(np.array([fmt_num(float(v)) for v in ys])[:, None], z.shape),
            hover_text,
        ]
    )
    bar: dict = dict(
        title=dict(text=z_label + ("<br>(log colours)" if log_z else ""), side="right"), thickness=14
    )
    finite = zc[np.isfinite(zc)]
    if log_z and finite.size:
        values, text = log_ticks(float(finite.min()), float(finite.max()))
        bar.update(tickvals=np.log10(values).tolist(), ticktext=text)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=f32(xpos),
            y=f32(ypos),
            z=f32(zc),
            colorscale=VALUE_COLORSCALE,
            colorbar=bar,
            customdata=custom,
            name=z_label,
            text=cell_text if show_values else None,
            texttemplate="%{text}" if show_values else None,
            textfont=dict(size=11),
            hovertemplate=f"{x_label} = %{{customdata[0]}}<br>{y_label} = %{{customdata[1]}}"
            f"<br>{z_label} = %{{customdata[2]}}<extra></extra>",
            showlegend=False,
        )
    )
    if nan_mask.any():
        # Diverged cells: grey (Viridis has none) and an x, so print and colour-blind readers
        # can tell them apart too.
        fig.add_trace(
            go.Heatmap(
                x=f32(xpos),
                y=f32(ypos),
                z=np.where(nan_mask, 1.0, np.nan).astype(np.float32),
                colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]],
                showscale=False,
                hoverinfo="skip",
                name=nan_label,
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=nan_label,
                marker=dict(symbol="square", size=14, color=DIVERGED_COLOR),
            )
        )
        iy, ix = np.nonzero(nan_mask)
        fig.add_trace(
            go.Scatter(
                x=f32(xpos[ix]),
                y=f32(ypos[iy]),
                mode="markers",
                name=f"{nan_label} cells",
                marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="#ffffff")),
                hovertemplate=f"{nan_label}<extra></extra>",
                showlegend=False,
            )
        )
    if default is not None:
        dx = _index_position(xs, float(default[0]), log_x)
        dy = _index_position(ys, float(default[1]), log_y)
        fig.add_trace(
            go.Scatter(
                x=[dx],
                y=[dy],
                mode="markers",
                name="default setting",
                marker=dict(
                    symbol="star", size=20, color=MINIMUM_COLOR, line=dict(width=1.5, color=OUTLINE_COLOR)
                ),
                cliponaxis=False,
                hovertemplate=f"default: {x_label} = {fmt_num(default[0])}, "
                f"{y_label} = {fmt_num(default[1])}<extra></extra>",
            )
        )
    base_layout(fig, title, height=520)
    fig.update_xaxes(title_text=x_label, showgrid=False, zeroline=False, **_axis_ticks(xs))
    fig.update_yaxes(title_text=y_label, showgrid=False, zeroline=False, **_axis_ticks(ys))
    return fig


def _basin_colorscale(n_minima: int) -> list[list[float | str]]:
    """Stepped colours for labels -1 (none), 0..n-1 on z in [-1.5, n - 0.5]."""
    colors = [DIVERGED_COLOR] + [BASIN_PALETTE[i % len(BASIN_PALETTE)] for i in range(n_minima)]
    scale: list[list[float | str]] = []
    k = len(colors)
    for i, c in enumerate(colors):
        scale += [[i / k, c], [(i + 1) / k, c]]
    return scale


def basin_figure(
    x_grid: Sequence[float] | np.ndarray,
    y_grid: Sequence[float] | np.ndarray,
    labels: np.ndarray | None = None,
    steps: np.ndarray | None = None,
    minima: Sequence[Sequence[float]] | np.ndarray = (),
    surface: Surface | None = None,
    surface_params: Mapping[str, float] | None = None,
    title: str | None = None,
    start: tuple[float, float] | None = None,
    none_label: str = "none / diverged",
    reaches_label: str = "reaches minimum",
    minima_name: str = "known minimum",
    never_label: str = "never reached / diverged",
    value_title: str = "steps to reach<br>a minimum",
    value_hover: str = "%{z:.0f} steps",
) -> go.Figure:
    """Where each start point ends up. Give exactly one of:

    - `labels[i, j]`: index of the minimum reached from (x_grid[j], y_grid[i]), -1 for none
      or diverged (categorical colours, grey for none), or
    - `steps[i, j]`: how many steps it took to get there, NaN if never (continuous colours,
      grey for never).

    With `surface`, its level lines are drawn on top; minima are stars in their basin's colour.
    The legend's words are parameters: `reaches_label` ("reaches minimum" 1, 2, ...), `minima_name`
    (the stars), `none_label` (no minimum, by label) and `never_label` (no arrival, by steps);
    a caller whose centres are not known minima names them differently. `value_title` and
    `value_hover` describe the `steps` values (a caller may map another quantity, e.g. a loss).
    """
    if (labels is None) == (steps is None):
        raise ValueError("give exactly one of labels or steps")
    xs = np.asarray(x_grid, dtype=np.float64)
    ys = np.asarray(y_grid, dtype=np.float64)
    mins = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
    fig = go.Figure()
    if labels is not None:
        lab = np.asarray(labels, dtype=np.float64)
        if lab.shape != (len(ys), len(xs)):
            raise ValueError(f"labels has shape {lab.shape}, expected {(len(ys), len(xs))}")
        lab = np.where(np.isfinite(lab), lab, -1.0)
        n = len(mins)
        names = np.array([none_label] + [f"minimum {i + 1}" for i in range(n)])
        fig.add_trace(
            go.Heatmap(
                x=f32(xs),
                y=f32(ys),
                z=lab.astype(np.float32),
                zmin=-1.5,
                zmax=n - 0.5,
                colorscale=_basin_colorscale(n),
                showscale=False,
                name="basin",
                customdata=names[(lab + 1).astype(int)],
                hovertemplate="start (%{x:.3g}, %{y:.3g})<br>ends at %{customdata}<extra></extra>",
            )
        )
        # Categorical colours go in the legend, one swatch each.
        for i in range(n):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"{reaches_label} {i + 1} ({fmt_num(mins[i, 0])}, {fmt_num(mins[i, 1])})",
                    marker=dict(symbol="square", size=14, color=BASIN_PALETTE[i % len(BASIN_PALETTE)]),
                )
            )
        if np.any(lab < 0):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=none_label,
                    marker=dict(symbol="square", size=14, color=DIVERGED_COLOR),
                )
            )
        default_title = "Which minimum each start point reaches"
    else:
        st = np.asarray(steps, dtype=np.float64)
        if st.shape != (len(ys), len(xs)):
            raise ValueError(f"steps has shape {st.shape}, expected {(len(ys), len(xs))}")
        never = ~np.isfinite(st)
        fig.add_trace(
            go.Heatmap(
                x=f32(xs),
                y=f32(ys),
                z=f32(np.where(never, np.nan, st)),
                colorscale=VALUE_COLORSCALE,
                reversescale=True,
                name="steps",
                colorbar=dict(title=dict(text=value_title, side="right"), thickness=14),
                hovertemplate="start (%{x:.3g}, %{y:.3g})<br>" + value_hover + "<extra></extra>",
            )
        )
        if never.any():
            fig.add_trace(
                go.Heatmap(
                    x=f32(xs),
                    y=f32(ys),
                    z=np.where(never, 1.0, np.nan).astype(np.float32),
                    colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]],
                    showscale=False,
                    name=none_label,
                    customdata=np.full(st.shape, none_label, dtype=object),
                    hovertemplate="start (%{x:.3g}, %{y:.3g})<br>never reached a minimum<extra></extra>",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=never_label,
                    marker=dict(symbol="square", size=14, color=DIVERGED_COLOR),
                )
            )
        default_title = "How many steps each start point needs"
    if surface is not None:
        dom = ((float(xs.min()), float(xs.max())), (float(ys.min()), float(ys.max())))
        grid = surface_grid(surface, surface_params, 80, dom)
        z = np.log10(grid.z - np.nanmin(grid.z) + 1e-3) if surface.log_colors else grid.z
        fig.add_trace(
            go.Contour(
                x=f32(grid.x),
                y=f32(grid.y),
                z=f32(z),
                showscale=False,
                ncontours=18,
                contours=dict(coloring="none"),
                line=dict(width=0.8, color="rgba(30,30,30,0.45)"),
                hoverinfo="skip",
                name="level lines",
                showlegend=False,
            )
        )
    if len(mins):
        fig.add_trace(
            go.Scatter(
                x=f32(mins[:, 0]),
                y=f32(mins[:, 1]),
                mode="markers",
                name=minima_name,
                marker=dict(
                    symbol="star", size=18, color=MINIMUM_COLOR, line=dict(width=1.5, color=OUTLINE_COLOR)
                ),
                hovertemplate="minimum at (%{x:.3g}, %{y:.3g})<extra></extra>",
            )
        )
    if start is not None:
        fig.add_trace(
            go.Scatter(
                x=[start[0]],
                y=[start[1]],
                mode="markers",
                name="current start",
                marker=dict(
                    symbol="circle", size=13, color="#ffffff", line=dict(width=2.5, color=OUTLINE_COLOR)
                ),
            )
        )
    base_layout(fig, title if title is not None else default_title, height=600)
    dx, dy = xs[-1] - xs[0], ys[-1] - ys[0]
    half_x = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    half_y = (ys[1] - ys[0]) / 2 if len(ys) > 1 else 0.5
    fig.update_xaxes(
        title_text="start x",
        range=[xs[0] - half_x, xs[-1] + half_x],
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    fig.update_yaxes(
        title_text="start y",
        range=[ys[0] - half_y, ys[-1] + half_y],
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    if dx > 0 and 1 / 3 <= dy / dx <= 3:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig
