"""Figures of MNIST training results: curves per epoch, and the loss-landscape slice with the
optimizers' paths. Data in, `go.Figure` out, in the style of every other figure (viz._style) and
with the palette of the 2D playground (one colour per optimizer, in order)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz._style import base_layout
from viz.colors import OUTLINE_COLOR, SURFACE_COLORSCALE, color_for

if TYPE_CHECKING:  # types only: drawing a result needs no JAX
    from training.landscape import Landscape
    from training.train import TrainResult

__all__ = ["curves_figure", "digits_figure", "landscape_figure", "run_colors"]

_PANELS = (
    ("train_loss", "training loss", 1, 1),
    ("val_loss", "validation loss", 1, 2),
    ("train_acc", "training accuracy", 2, 1),
    ("val_acc", "validation accuracy", 2, 2),
)


def run_colors(result: TrainResult, twins: Mapping[str, str] | None = None) -> list[str]:
    """The colour of each run: the palette in order, except that a run named in `twins`
    ({label: label of its twin}, e.g. a fix beside the original) takes its twin's colour."""
    twins = twins or {}
    order = [r.label for r in result.runs if r.label not in twins]
    colors = {label: color_for(i) for i, label in enumerate(order)}
    return [colors.get(twins.get(r.label, r.label), color_for(len(order))) for r in result.runs]


def curves_figure(
    result: TrainResult, title: str | None = None, twins: Mapping[str, str] | None = None
) -> go.Figure:
    """2×2 panels (train/validation × loss/accuracy) against epoch; validation curves start
    at epoch 0 (the shared initial weights).

    `twins` ({label: label of its twin}) draws each named run in its twin's colour, dashed,
    with diamond markers: a before/after pair reads as one optimizer, two ways.
    """
    fig = make_subplots(
        rows=2, cols=2, subplot_titles=[p[1] for p in _PANELS], horizontal_spacing=0.08, vertical_spacing=0.12
    )
    twins = twins or {}
    colors = run_colors(result, twins)
    for run, color in zip(result.runs, colors, strict=True):
        twin = run.label in twins
        for key, _, row, col in _PANELS:
            x = [e.epoch for e in run.epochs]
            y = list(run.curve(key))
            if key.startswith("val_"):
                x = [0, *x]
                y = [run.initial_val_loss if key == "val_loss" else run.initial_val_acc, *y]
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines+markers",
                    name=run.label,
                    legendgroup=run.label,
                    showlegend=(row, col) == (1, 1),
                    line={"color": color, "width": 2, "dash": "dash" if twin else "solid"},
                    marker={"size": 7 if twin else 5, "symbol": "diamond" if twin else "circle"},
                    hovertemplate=f"{run.label}<br>epoch %{{x}}<br>%{{y:.4f}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
    cfg = result.config
    title = title or (
        f"MNIST, {cfg.model.upper()}: batch {cfg.batch_size}, "
        f"{result.n_train} training / {result.n_val} validation images "
        f"({result.data_source})"
    )
    base_layout(fig, title, width=1000, height=700)
    fig.update_xaxes(title_text="epoch", row=2)
    fig.update_xaxes(tick0=0, dtick=max(1, cfg.epochs // 10), range=[-0.3, cfg.epochs + 0.3])
    return fig


def landscape_figure(land: Landscape, title: str | None = None, wide: Collection[str] = ()) -> go.Figure:
    """Contours of log10(loss) on the plane, each optimizer's projected path on top (a marker
    per snapshot, the shared start as a white circle, the center as a cross).

    `wide` names paths to draw wider, so that one hidden under a later path shows as a border
    around it.
    """
    z = np.log10(np.maximum(land.loss, 1e-8))
    fig = go.Figure(
        go.Contour(
            x=land.alphas,
            y=land.betas,
            z=z,
            colorscale=SURFACE_COLORSCALE,
            ncontours=25,
            colorbar={"title": "log10 loss"},
            line={"width": 0.5},
            customdata=land.loss,
            hovertemplate="α %{x:.3g}, β %{y:.3g}<br>loss %{customdata:.4g}<extra></extra>",
        )
    )
    for i, (label, path) in enumerate(land.paths.items()):
        steps = land.path_steps.get(label, list(range(len(path))))
        loss = land.path_loss[label]
        widened = label in wide
        fig.add_trace(
            go.Scatter(
                x=path[:, 0],
                y=path[:, 1],
                mode="lines+markers",
                name=label,
                line={"color": color_for(i), "width": 8 if widened else 2.5},
                marker={"size": 10 if widened else 5},
                customdata=np.stack([steps, loss, land.residual[label]], axis=1),
                hovertemplate=(
                    f"{label}<br>after %{{customdata[0]:.0f}} batches<br>"
                    "loss %{customdata[1]:.4g}<br>off the plane "
                    "%{customdata[2]:.0%}<extra></extra>"
                ),
            )
        )
    first = next(iter(land.paths.values()))
    fig.add_trace(
        go.Scatter(
            x=[first[0, 0]],
            y=[first[0, 1]],
            mode="markers",
            name="start",
            marker={"size": 11, "color": "white", "line": {"color": OUTLINE_COLOR, "width": 2}},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0.0],
            y=[0.0],
            mode="markers",
            name="center",
            marker={"size": 10, "symbol": "x", "color": OUTLINE_COLOR},
        )
    )
    ev = land.explained_variance
    base_layout(
        fig,
        title
        or (
            f"Loss on the PCA plane of the paths<br><sup>{land.normalize}-"
            f"normalised directions explaining {ev[0]:.0%} + {ev[1]:.0%} of the "
            f"movement; center: {land.center}; loss on {land.subset} images</sup>"
        ),
        width=900,
        height=700,
        xaxis_title="α (direction 1)",
        yaxis_title="β (direction 2)",
    )
    return fig


def digits_figure(images: np.ndarray, labels: np.ndarray, count: int = 24, rows: int = 2) -> go.Figure:
    """The first `count` images (28×28, 0..255) in a grid, each with its label: what the network
    sees."""
    cols = -(-count // rows)
    gap, size = 4, 28
    canvas = np.full((rows * (size + gap) - gap, cols * (size + gap) - gap), np.nan)
    annotations = []
    for i in range(min(count, len(images))):
        r, c = divmod(i, cols)
        y0, x0 = r * (size + gap), c * (size + gap)
        canvas[y0 : y0 + size, x0 : x0 + size] = images[i]
        annotations.append(
            {
                "x": x0 + size - 3,
                "y": y0 + 3,
                "text": str(int(labels[i])),
                "showarrow": False,
                "font": {"size": 12, "color": "#B34D00"},  # vermilion darkened to 5.3:1 on white
            }
        )
    fig = go.Figure(
        go.Heatmap(z=canvas, colorscale="gray_r", showscale=False, zmin=0, zmax=255, hoverinfo="skip")
    )
    base_layout(fig, None, legend=False)
    fig.update_layout(
        annotations=annotations,
        height=20 + 65 * rows,
        margin={"l": 0, "r": 0, "t": 10, "b": 10},
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
    )
    return fig
