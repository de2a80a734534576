"""Colours: one colour-blind-friendly palette, so each optimizer keeps its colour in every figure.

The palette is Okabe & Ito's (2008) without its yellow, which vanishes on the pale contour
background, plus Paul Tol's wine for an eighth optimizer. The first four are the most distinct
under deuteranopia and protanopia, so a typical 4-optimizer comparison uses them.
"""

from __future__ import annotations

from collections.abc import Sequence

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
