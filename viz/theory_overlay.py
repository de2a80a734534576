"""Theory drawn beside the measured runs: a quadratic's eigenvectors on the contour map and the
predicted loss per step on the loss figure. Pure: the segments and curves come in as data
(optim_core.theory computes them); these functions only add traces to a figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

# flat direction, steep direction: dark, so they read on the pale floor of the contour map
EIGEN_COLORS = ("#263238", "#8e24aa")
EIGEN_DASHES = ("dot", "dash")
EIGEN_NAME_PREFIX = "eigenvector"
PREDICTED_NAME = "predicted"


@dataclass(frozen=True)
class Segment:
    start: tuple[float, float]
    end: tuple[float, float]
    label: str  # e.g. "λ = 10 (steep)"


@dataclass(frozen=True)
class PredictedCurve:
    label: str  # the run it belongs to, e.g. "SGD"
    rate: float
    values: np.ndarray  # loss (or loss − f*) per step, k = 0 … steps
    color: str


def eigen_name(segment: Segment) -> str:
    return f"{EIGEN_NAME_PREFIX} {segment.label}"


def predicted_name(curve: PredictedCurve) -> str:
    return f"{curve.label}: {PREDICTED_NAME} (rate {curve.rate:.4g})"


def add_eigenvectors(fig: go.Figure, segments: Sequence[Segment]) -> go.Figure:
    """One labelled dashed line per eigenvector, through the minimum (drawn above the contour)."""
    for i, seg in enumerate(segments):
        color = EIGEN_COLORS[min(i, len(EIGEN_COLORS) - 1)]
        fig.add_trace(
            go.Scatter(
                x=[seg.start[0], seg.end[0]],
                y=[seg.start[1], seg.end[1]],
                mode="lines+text",
                line=dict(color=color, width=2.5, dash=EIGEN_DASHES[min(i, len(EIGEN_DASHES) - 1)]),
                text=["", seg.label],
                textposition="top left",
                textfont=dict(color=color, size=13),
                name=eigen_name(seg),
                hovertemplate=f"{seg.label}<extra></extra>",
                showlegend=True,
            )
        )
    return fig


def add_predicted_lines(fig: go.Figure, curves: Sequence[PredictedCurve]) -> go.Figure:
    """A dashed line per predicted curve, in its run's colour, beside the measured loss.
    Values ≤ 0 (the log axis cannot show them) are left out."""
    for curve in curves:
        y = np.asarray(curve.values, dtype=np.float64)
        steps = np.arange(y.size)
        keep = np.isfinite(y) & (y > 0)
        fig.add_trace(
            go.Scatter(
                x=steps[keep],
                y=y[keep],
                mode="lines",
                line=dict(color=curve.color, width=2, dash="dash"),
                name=predicted_name(curve),
                hovertemplate=f"{predicted_name(curve)}<br>step %{{x}}: %{{y:.3e}}<extra></extra>",
            )
        )
    return fig
