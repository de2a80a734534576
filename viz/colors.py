"""Colours and line styles: one colour-blind-friendly palette, so each optimizer keeps its colour in
every figure, and a dash pattern, width and end-marker shape per slot, so that colour is never
the only difference between two paths (`path_style`).

The palette is Okabe & Ito's (2008) without its yellow, which vanishes on the pale contour
background, plus Paul Tol's wine for an eighth optimizer. The first four are the most distinct
under deuteranopia and protanopia, so a typical 4-optimizer comparison uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#882255",  # wine
    "#000000",  # black
)

# Colours that mean something other than "an optimizer".
START_COLOR = "#ffffff"  # start marker fill (black outline)
MINIMUM_COLOR = "#FFD700"  # known minima: gold stars with a black outline
MINIMUM_FILL_ALPHA = 0.4  # the star's fill: ends of runs that reach the minimum show through it
DIVERGED_COLOR = "#7f7f7f"  # "none / diverged" cells in heatmaps and basin maps
OUTLINE_COLOR = "#1a1a1a"

# Basin maps colour minima, not optimizers: Tol's "light" scheme keeps them apart from the paths.
BASIN_PALETTE: tuple[str, ...] = (
    "#77AADD",
    "#EE8866",
    "#BBCC33",
    "#EEDD88",
    "#FFAABB",
    "#99DDFF",
    "#44BB99",
    "#AAAA00",
)

# Pale sequential scale for loss surfaces: low loss light, high loss darker and bluer. Pale so the
# saturated path colours stay readable on top of it.
SURFACE_COLORSCALE: list[list[float | str]] = [
    [0.0, "#fffdf0"],
    [0.15, "#f4f1d8"],
    [0.35, "#dfe6cf"],
    [0.55, "#c2d6d3"],
    [0.75, "#9fbdd0"],
    [1.0, "#7598b6"],
]


def color_for(index: int) -> str:
    """The colour of the optimizer in slot `index` (wraps around after eight)."""
    return PALETTE[index % len(PALETTE)]


def resolve_colors(count: int, colors: Sequence[str] | None = None) -> list[str]:
    """`colors` if given (must cover every trajectory), else the palette in slot order."""
    if colors is None:
        return [color_for(i) for i in range(count)]
    if len(colors) < count:
        raise ValueError(f"{count} trajectories but only {len(colors)} colours")
    return list(colors[:count])


def with_alpha(hex_color: str, alpha: float) -> str:
    """'#rrggbb' -> 'rgba(r, g, b, alpha)'."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


# ---------------------------------------------------------------------------------------------
# Line styles: colour is never the only difference between two paths
# ---------------------------------------------------------------------------------------------

# Per slot, beside its colour: a dash pattern and a width. Paths are drawn in slot order, so a
# later path lies on an earlier one: the earlier one is wider (a rim of it shows on both sides)
# and the later one dashed (its gaps show what lies under it). Plotly scales its named dashes
# ("dot") with the width; the px patterns are fixed, short enough to follow a zig-zag.
DASHES: tuple[str, ...] = (
    "solid",
    "10px,4px",  # dash
    "dot",  # round-ish dots as wide as the line
    "10px,3px,3px,3px",  # dash-dot
    "18px,4px",  # long dash
    "18px,4px,3px,4px",  # long dash-dot
    "9px,3px,2px,3px,2px,3px",  # dash-dot-dot
    "5px,2px,5px,6px",  # double dash
)
# 3D scenes (WebGL) know only Plotly's named dashes.
DASHES_3D: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
WIDTHS: tuple[float, ...] = (4.5, 3.8, 3.2, 2.7, 2.3, 2.0, 1.8, 1.6)

# End markers: a shape per slot and sizes shrinking with the slot. Markers are drawn in slot
# order, so a later (smaller) one can sit on an earlier one at the same point, and the earlier
# one's corners or tips still stick out around it: two runs that end together both stay visible.
END_SYMBOLS: tuple[str, ...] = (
    "square",
    "diamond",
    "circle",
    "triangle-up",
    "pentagon",
    "hexagon",
    "triangle-down",
    "star-square",
)
END_SYMBOLS_3D: tuple[str, ...] = ("square", "diamond", "circle")  # what scatter3d draws
END_SIZE_MAX = 16.5
END_SIZE_STEP = 1.3


@dataclass(frozen=True)
class PathStyle:
    """How the optimizer in one slot is drawn, beside its colour."""

    dash: str  # line dash (2D figures)
    width: float  # line width, px
    end_symbol: str  # marker symbol of its end (and of its head in the animation)
    end_size: float  # marker size of its end
    dash_3d: str  # line dash in a 3D scene
    end_symbol_3d: str  # end marker in a 3D scene


def path_style(index: int) -> PathStyle:
    """The line style of the optimizer in slot `index` (wraps around after eight, as colours do)."""
    i = index % len(DASHES)
    return PathStyle(
        dash=DASHES[i],
        width=WIDTHS[i],
        end_symbol=END_SYMBOLS[i],
        end_size=round(END_SIZE_MAX - END_SIZE_STEP * i, 2),
        dash_3d=DASHES_3D[i % len(DASHES_3D)],
        end_symbol_3d=END_SYMBOLS_3D[i % len(END_SYMBOLS_3D)],
    )
