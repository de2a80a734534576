"""Every figure builder in one place: data in, plotly.graph_objects.Figure out.

The builders live in small modules by kind (contour maps, curves, internals, maps); pages import
them from here. Colours: viz.colors.color_for(slot) for the optimizer in each slot, the same in
every figure. Sizes: figure_json_size(fig) reports what Streamlit would send.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from viz.contour import (
    CLICK_GRID_NAME,
    MINIMA_NAME,
    START_NAME,
    animated_contour_figure,
    clicked_point,
    contour_figure,
    display_label,
    small_multiples_figure,
    surface3d_figure,
)
from viz.curves import distance_figure, loss_figure, step_length_figure
from viz.internals import (
    effective_step_figure,
    internals_arrows_figure,
    last_valid_step,
    moments_figure,
)
from viz.maps import basin_figure, heatmap_figure


def figure_json_size(fig: go.Figure) -> int:
    """Bytes of the figure's JSON as st.plotly_chart serializes it (plotly.io.to_json)."""
    return len(pio.to_json(fig, validate=False).encode("utf-8"))


__all__ = [
    "CLICK_GRID_NAME",
    "MINIMA_NAME",
    "START_NAME",
    "animated_contour_figure",
    "basin_figure",
    "clicked_point",
    "contour_figure",
    "display_label",
    "distance_figure",
    "effective_step_figure",
    "figure_json_size",
    "heatmap_figure",
    "internals_arrows_figure",
    "last_valid_step",
    "loss_figure",
    "moments_figure",
    "small_multiples_figure",
    "step_length_figure",
    "surface3d_figure",
]
