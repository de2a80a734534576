"""The figures of the "Adam explained" page: 1D gradient streams and what each optimizer makes of them.

Data in, go.Figure out. The runs come from playground.adam_demo (optim_core's optimizers
stepped over a stream of gradients); any object with the fields of `StreamSeries` will do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz._style import base_layout
from viz.colors import PALETTE


class StreamSeries(Protocol):
    """One optimizer's run over a gradient stream g₁..g_T (arrays of length T)."""

    @property
    def grads(self) -> np.ndarray: ...

    @property
    def m(self) -> np.ndarray: ...

    @property
    def v(self) -> np.ndarray: ...

    @property
    def m_hat(self) -> np.ndarray: ...

    @property
    def v_hat(self) -> np.ndarray: ...

    @property
    def relative_step(self) -> np.ndarray: ...


GRAD_COLOR = "#9a9a9a"
_BLUE, _ORANGE, _GREEN, _PURPLE = PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3]


def _layout(fig: go.Figure, title: str, height: int = 380, **extra: Any) -> go.Figure:
    """The shared style (viz._style.base_layout: template, legend under the plot) at `height`."""
    return base_layout(fig, title, height=height, **extra)


def _steps(n: int) -> np.ndarray:
    return np.arange(1, n + 1)


def gd_figure(paths: np.ndarray, batch_sizes: Sequence[int], w_star: float, data_points: int) -> go.Figure:
    """One descent path per batch size; a batch of `data_points` is the full batch."""
    fig = go.Figure()
    colors = [_ORANGE, _BLUE, _GREEN]
    names = {1: "stochastic (1 sample per step)", data_points: f"full batch ({data_points} samples)"}
    for path, b, color in zip(paths, batch_sizes, colors):
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(path)),
                y=path,
                mode="lines",
                name=names.get(int(b), f"mini-batch of {int(b)}"),
                line=dict(color=color, width=2),
            )
        )
    fig.add_hline(
        y=w_star,
        line=dict(color="#333333", dash="dot", width=1.2),
        annotation_text="best w*",
        annotation_position="bottom right",
    )
    fig.update_xaxes(title_text="step t")
    fig.update_yaxes(title_text="weight w")
    return _layout(fig, "The same descent with noisier or cleaner gradients")


def momentum_figure(run: StreamSeries, b1: float) -> go.Figure:
    t = _steps(len(run.grads))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t, y=run.grads, mode="markers", name="gradient gₜ", marker=dict(color=GRAD_COLOR, size=5)
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=run.m, mode="lines", name=f"average mₜ (β = {b1:g})", line=dict(color=_BLUE, width=2.5)
        )
    )
    fig.update_xaxes(title_text="step t")
    fig.update_yaxes(title_text="value")
    window = 1 / (1 - b1) if b1 < 1 else math.inf
    return _layout(fig, f"mₜ remembers about the last {window:.0f} gradients")


def rmsprop_figure(run: StreamSeries) -> go.Figure:
    t = _steps(len(run.grads))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t, y=np.abs(run.grads), mode="markers", name="|gₜ|", marker=dict(color=GRAD_COLOR, size=5)
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=np.sqrt(run.v), mode="lines", name="√vₜ (typical size)", line=dict(color=_ORANGE, width=2)
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=run.relative_step, mode="lines", name="step |Δθₜ| / α", line=dict(color=_BLUE, width=2.5)
        )
    )
    fig.update_xaxes(title_text="step t")
    fig.update_yaxes(title_text="size (log scale)", type="log", dtick=1, exponentformat="power")
    return _layout(fig, "The step stays near α, whatever the gradient's scale")


def adam_moments_figure(run: StreamSeries) -> go.Figure:
    t = _steps(len(run.grads))
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=("first moment: average gradient", "second moment: average squared gradient"),
    )
    # Faint gradient dots under the lines: with a constant stream m̂ sits right on them.
    fig.add_trace(
        go.Scatter(
            x=t, y=run.grads, mode="markers", name="gₜ", marker=dict(color=GRAD_COLOR, size=4, opacity=0.45)
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=t, y=run.m, mode="lines", name="mₜ (raw)", line=dict(color=_BLUE, width=2)), row=1, col=1
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=run.m_hat,
            mode="lines",
            name="m̂ₜ (corrected)",
            line=dict(color=_BLUE, width=3, dash="dash"),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=run.grads**2,
            mode="markers",
            name="gₜ²",
            marker=dict(color=GRAD_COLOR, size=4, opacity=0.45),
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=t, y=run.v, mode="lines", name="vₜ (raw)", line=dict(color=_ORANGE, width=2)),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=run.v_hat,
            mode="lines",
            name="v̂ₜ (corrected)",
            line=dict(color=_ORANGE, width=3, dash="dash"),
        ),
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text="step t", row=2, col=1)
    return _layout(fig, "Adam's two running averages", height=520)


def bias_step_figure(on: StreamSeries, off: StreamSeries) -> go.Figure:
    t = _steps(len(on.grads))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t,
            y=on.relative_step,
            mode="lines",
            name="with bias correction",
            line=dict(color=_BLUE, width=2.5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=off.relative_step,
            mode="lines",
            name="without bias correction",
            line=dict(color=_ORANGE, width=2.5),
        )
    )
    fig.update_xaxes(title_text="step t", type="log", dtick=1)
    fig.update_yaxes(title_text="step |Δθₜ| / α")
    return _layout(fig, "Step size over time (log time axis: the first steps matter)", height=300)


def eps_first_step_figure(
    g_values: np.ndarray,
    optax_ratio: np.ndarray,
    keras_ratio: np.ndarray,
    g_mark: float,
    optax_mark: float,
    keras_mark: float,
    eps_optax: float,
    eps_keras: float,
) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=g_values,
            y=optax_ratio,
            mode="lines",
            name=f"optax / PyTorch: ε = {eps_optax:g} outside √v̂",
            line=dict(color=_BLUE, width=2.5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=g_values,
            y=keras_ratio,
            mode="lines",
            name=f"Keras ε-hat: ε = {eps_keras:g} on the raw √v",
            line=dict(color=_ORANGE, width=2.5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[g_mark, g_mark],
            y=[optax_mark, keras_mark],
            mode="markers+text",
            text=[f"{optax_mark:.2f}α", f"{keras_mark:.2f}α"],
            textposition=["top left", "bottom right"],
            showlegend=False,
            marker=dict(color=[_BLUE, _ORANGE], size=11, line=dict(color="#222222", width=1)),
        )
    )
    fig.add_vline(x=g_mark, line=dict(color="#555555", dash="dot", width=1))
    fig.update_xaxes(
        title_text="size of the first gradient |g₁| (log scale)", type="log", exponentformat="power"
    )
    fig.update_yaxes(title_text="first step |Δθ₁| / α", range=[-0.05, 1.1])
    return _layout(fig, "Adam's very first step: where ε goes matters on a plateau")


def eps_plateau_figure(optax: StreamSeries, keras: StreamSeries, g: float) -> go.Figure:
    t = _steps(len(optax.grads))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=t,
            y=optax.relative_step,
            mode="lines",
            name="optax / PyTorch",
            line=dict(color=_BLUE, width=2.5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=keras.relative_step, mode="lines", name="Keras ε-hat", line=dict(color=_ORANGE, width=2.5)
        )
    )
    fig.update_xaxes(title_text="step t (log scale)", type="log", dtick=1)
    fig.update_yaxes(title_text="step |Δθₜ| / α", range=[0, 1.1])
    return _layout(fig, f"On a long plateau with g = {g:.0e} at every step", height=300)


def beta2_figure(small: StreamSeries, usual: StreamSeries, b2: float) -> go.Figure:
    t = _steps(len(small.grads))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.3, 0.7])
    fig.add_trace(go.Bar(x=t, y=small.grads, name="gradient gₜ", marker_color=GRAD_COLOR), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            x=t, y=usual.relative_step, mode="lines", name="β₂ = 0.999", line=dict(color=_BLUE, width=2)
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=small.relative_step, mode="lines", name=f"β₂ = {b2:g}", line=dict(color=_ORANGE, width=2.5)
        ),
        row=2,
        col=1,
    )
    fig.add_hline(
        y=1.0,
        line=dict(color="#333333", dash="dot", width=1),
        row=2,
        col=1,
        annotation_text="α",
        annotation_position="top left",
    )
    fig.update_yaxes(title_text="g", row=1, col=1)
    fig.update_yaxes(
        title_text="step |Δθₜ| / α (log)", type="log", dtick=1, exponentformat="power", row=2, col=1
    )
    fig.update_xaxes(title_text="step t", row=2, col=1)
    return _layout(fig, "Step size when β₂ is too small: jumps far above α", height=460)
