"""Plotly figure of a training result: loss and accuracy per epoch, one colour per optimizer."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from training.train import TrainResult
from viz.colors import color_for

__all__ = ["curves_figure"]

_PANELS = (("train_loss", "training loss", 1, 1), ("val_loss", "validation loss", 1, 2),
           ("train_acc", "training accuracy", 2, 1), ("val_acc", "validation accuracy", 2, 2))


def curves_figure(result: TrainResult, title: str | None = None) -> go.Figure:
    """2×2 panels (train/validation × loss/accuracy) against epoch; validation curves start
    at epoch 0 (the shared initial weights)."""
    fig = make_subplots(rows=2, cols=2, subplot_titles=[p[1] for p in _PANELS],
                        horizontal_spacing=0.08, vertical_spacing=0.12)
    for i, run in enumerate(result.runs):
        color = color_for(i)
        for key, _, row, col in _PANELS:
            x = [e.epoch for e in run.epochs]
            y = list(run.curve(key))
            if key.startswith("val_"):
                x = [0, *x]
                y = [run.initial_val_loss if key == "val_loss" else run.initial_val_acc, *y]
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines+markers", name=run.label, legendgroup=run.label,
                showlegend=(row, col) == (1, 1), line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"{run.label}<br>epoch %{{x}}<br>%{{y:.4f}}<extra></extra>"),
                row=row, col=col)
    cfg = result.config
    title = title or (f"MNIST, {cfg.model.upper()}: batch {cfg.batch_size}, "
                      f"{result.n_train} training / {result.n_val} validation images "
                      f"({result.data_source})")
    fig.update_layout(title=title, template="plotly_white", width=1000, height=700,
                      legend={"orientation": "h", "y": -0.08})
    fig.update_xaxes(title_text="epoch", row=2)
    fig.update_xaxes(tick0=0, dtick=max(1, cfg.epochs // 10), range=[-0.3, cfg.epochs + 0.3])
    return fig
