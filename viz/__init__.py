"""Figure builders (data in, go.Figure out) and exports. No Streamlit here: pages show figures.

    from viz import contour_figure, to_png, color_for

Everything public is re-exported here from viz.figures, viz.export and viz.colors.
CSV/JSON data files are not figures: they are written by playground.writers.
"""

from viz.colors import PALETTE, color_for, resolve_colors
from viz.export import (
    ExportUnavailable,
    animation_gif,
    close_export_session,
    export_available,
    export_unavailable_reason,
    to_html,
    to_pdf,
    to_png,
    to_svg,
)
from viz.figures import (
    CLICK_GRID_NAME,
    MINIMA_NAME,
    START_NAME,
    animated_contour_figure,
    basin_figure,
    clicked_point,
    contour_figure,
    display_label,
    distance_figure,
    effective_step_figure,
    figure_json_size,
    heatmap_figure,
    internals_arrows_figure,
    last_valid_step,
    loss_figure,
    moments_figure,
    small_multiples_figure,
    step_length_figure,
    surface3d_figure,
)

__all__ = [
    "CLICK_GRID_NAME",
    "MINIMA_NAME",
    "PALETTE",
    "START_NAME",
    "ExportUnavailable",
    "animated_contour_figure",
    "animation_gif",
    "basin_figure",
    "clicked_point",
    "close_export_session",
    "color_for",
    "contour_figure",
    "display_label",
    "distance_figure",
    "effective_step_figure",
    "export_available",
    "export_unavailable_reason",
    "figure_json_size",
    "heatmap_figure",
    "internals_arrows_figure",
    "last_valid_step",
    "loss_figure",
    "moments_figure",
    "resolve_colors",
    "small_multiples_figure",
    "step_length_figure",
    "surface3d_figure",
    "to_html",
    "to_pdf",
    "to_png",
    "to_svg",
]
