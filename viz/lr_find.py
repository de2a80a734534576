"""The learning-rate range test's figure (training.lr_find): the loss of every batch and its
smoothed curve against α on a log axis, the suggested α (steepest descent of the smoothed loss)
and the step where the test stopped marked. Data in, `go.Figure` out, in the shared style."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from viz._style import layout_for, make_figure, message
from viz.colors import OUTLINE_COLOR, PALETTE

if TYPE_CHECKING:  # types only: drawing a result needs no JAX
    from training.lr_find import LRFindResult

__all__ = ["RAW_NAME", "SMOOTH_NAME", "STOP_NAME", "SUGGESTION_NAME", "lr_find_figure"]

RAW_NAME = "loss of each batch"
SMOOTH_NAME = "smoothed loss"
SUGGESTION_NAME = "suggested α (steepest descent)"
STOP_NAME = "stopped: the loss blew up"
BLOWUP_NAME = "the loss blew up here"
RAW_COLOR = "#b3b3b3"
SMOOTH_COLOR = PALETTE[0]
SUGGESTION_COLOR = PALETTE[2]
STOP_COLOR = PALETTE[1]


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, np.float64)]


def lr_find_figure(result: LRFindResult, title: str | None = None) -> go.Figure:
    """Loss vs α (log x axis): each batch's loss (grey), the smoothed loss, a star and a dashed
    line at the suggested α, a cross where the test stopped (or where the loss blew up).

    The y axis reaches 1.5× the starting loss (or the highest smoothed loss, if lower): the
    falling part fills the plot and the blow-up runs off the top, its cross drawn on the top
    edge."""
    alphas = np.asarray(result.alphas, np.float64)
    raw = np.asarray(result.losses, np.float64)
    smooth = np.asarray(result.smoothed, np.float64)
    hover = "α = %{x:.3g}<br>%{fullData.name}: %{y:.4g}<extra></extra>"
    data: list[dict[str, Any]] = [
        dict(
            type="scatter",
            x=alphas.tolist(),
            y=_finite_or_none(raw),
            mode="lines",
            name=RAW_NAME,
            line=dict(color=RAW_COLOR, width=1),
            hovertemplate=hover,
        ),
        dict(
            type="scatter",
            x=alphas.tolist(),
            y=_finite_or_none(smooth),
            mode="lines",
            name=SMOOTH_NAME,
            line=dict(color=SMOOTH_COLOR, width=3),
            hovertemplate=hover,
        ),
    ]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    i = result.suggestion_index
    if i is not None and result.suggestion is not None:
        data.append(
            dict(
                type="scatter",
                x=[float(result.suggestion)],
                y=[float(smooth[i])],
                mode="markers",
                name=SUGGESTION_NAME,
                marker=dict(
                    symbol="star",
                    size=18,
                    color=SUGGESTION_COLOR,
                    line=dict(color=OUTLINE_COLOR, width=1),
                ),
                hovertemplate="suggested α = %{x:.3g}<br>smoothed loss %{y:.4g}<extra></extra>",
            )
        )
        shapes.append(
            dict(
                type="line",
                xref="x",
                yref="paper",
                x0=float(result.suggestion),
                x1=float(result.suggestion),
                y0=0,
                y1=1,
                line=dict(color=SUGGESTION_COLOR, width=2, dash="dash"),
            )
        )
        annotations.append(
            dict(
                x=math.log10(float(result.suggestion)),
                xref="x",
                y=1,
                yref="paper",
                yanchor="bottom",
                text=f"suggested α = {float(f'{result.suggestion:.3g}'):g}",
                showarrow=False,
                font=dict(color=SUGGESTION_COLOR, size=14),
            )
        )
    finite = smooth[np.isfinite(smooth)]
    raw_finite = raw[np.isfinite(raw)]
    yaxis: dict[str, Any] = dict(title=dict(text="training loss (cross-entropy)"))
    high = math.inf
    if finite.size:
        # Up to 1.5× the starting loss: the part where the loss falls fills the plot, and the
        # blow-up (up to 4× the lowest loss, single batches far more) runs off the top.
        low = float(min(finite.min(), raw_finite.min() if raw_finite.size else finite.min()))
        high = float(min(finite.max(), max(1.5 * finite[0], finite.min() * 1.2)))
        pad = 0.08 * max(high - low, 1e-6)
        high += pad
        yaxis["range"] = [max(low - pad, 0.0), high]
    else:
        annotations.append(message("The loss was not a finite number at any step: nothing to draw."))
    k = result.blowup_index
    if k is not None and k < len(alphas):
        # Drawn at the top edge when the blow-up is above the plot; the hover gives the value.
        value = float(smooth[k])
        data.append(
            dict(
                type="scatter",
                x=[float(alphas[k])],
                y=[min(value, high) if math.isfinite(value) and math.isfinite(high) else None],
                mode="markers",
                name=STOP_NAME if result.stopped_early else BLOWUP_NAME,
                marker=dict(symbol="x", size=14, color=STOP_COLOR, line=dict(color=OUTLINE_COLOR, width=1)),
                cliponaxis=False,
                hovertemplate=(
                    f"α = %{{x:.3g}}<br>smoothed loss {value:.3g}: more than 4× its lowest value"
                    "<extra></extra>"
                ),
            )
        )
    layout = layout_for(
        data,
        title,
        xaxis=dict(type="log", title=dict(text="learning rate α (log scale)"), exponentformat="power"),
        yaxis=yaxis,
        shapes=shapes,
        annotations=annotations,
        hovermode="closest",
        height=420,
    )
    if annotations and i is not None:
        layout["margin"] = dict(layout["margin"], t=max(layout["margin"]["t"], 40))
    return make_figure(data, layout)
