"""One look for every figure: a lean template (the stock ones add ~8 KB of JSON per figure)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

FONT_FAMILY = "Inter, 'Helvetica Neue', Arial, sans-serif"
FONT_SIZE = 14
AXIS_GRID = "#e6e6e6"

TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(family=FONT_FAMILY, size=FONT_SIZE, color="#222222"),
        title=dict(font=dict(size=17), x=0.01, xanchor="left"),
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        hoverlabel=dict(font=dict(size=13)),
        xaxis=dict(
            gridcolor=AXIS_GRID, zerolinecolor="#cccccc", linecolor="#888888",
            ticks="outside", tickcolor="#888888", showline=True, mirror=True,
        ),
        yaxis=dict(
            gridcolor=AXIS_GRID, zerolinecolor="#cccccc", linecolor="#888888",
            ticks="outside", tickcolor="#888888", showline=True, mirror=True,
        ),
        legend=dict(bgcolor="rgba(255,255,255,0.85)", font=dict(size=13)),
    )
)

# Legend under the plot, horizontal: long labels like "Adam (α=0.02)" would eat the plot's
# width on the right, where the colour bar already sits.
LEGEND_BELOW: dict[str, Any] = dict(
    orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0.0, itemsizing="constant"
)


def base_layout(fig: go.Figure, title: str | None, **layout: Any) -> go.Figure:
    """Apply the shared template, title and margins."""
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title) if title else None,
        margin=dict(l=60, r=20, t=60 if title else 25, b=50),
        **layout,
    )
    return fig


def message_annotation(fig: go.Figure, text: str, **kwargs: Any) -> go.Figure:
    """A plain sentence in the middle of the plot: the graceful answer to 'nothing to draw'."""
    fig.add_annotation(
        text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
        font=dict(size=15, color="#555555"), bgcolor="rgba(255,255,255,0.9)",
        bordercolor="#bbbbbb", borderwidth=1, borderpad=8, **kwargs,
    )
    return fig
