"""The surface as one picture: filled contours rendered once on the server into a PNG.

The live Playground draws its map as a Plotly layout image under the paths instead of a contour
trace. The browser then neither receives the surface grid nor re-contours it when a slider
moves: a slider move sends the paths only, and the picture (the same URL) stays where it is.
Exports keep the vector contour of `viz.contour.contour_figure`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from viz._data import ColorScaling, Domain, _params_key, color_scaling, evaluate_grid, minima_values
from viz.colors import SURFACE_COLORSCALE

if TYPE_CHECKING:
    from surfaces._base import Surface

RASTER_PIXELS = 600  # per side; stretched over the domain (the chart is ~600-900 px wide)
LEVELS = 24  # filled bands, as many as the vector contour's ncontours
LINE_RGB = (60, 60, 60)
LINE_ALPHA = 0.35  # contour lines: the band's colour mixed with dark grey, as on the vector map
NAN_RGB = (255, 255, 255)  # where f is not finite


@dataclass(frozen=True)
class SurfaceRaster:
    """A rendered surface: the PNG, the domain it covers and its colour scale."""

    png: bytes
    domain: Domain
    scaling: ColorScaling
    c_range: tuple[float, float]  # colour values (after scaling) at the scale's two ends

    @property
    def key(self) -> str:
        """A short content hash (used to name the picture)."""
        import hashlib

        return hashlib.sha256(self.png).hexdigest()[:16]


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def colorscale_rgb(t: np.ndarray) -> np.ndarray:
    """RGB (…, 3) floats of SURFACE_COLORSCALE at positions t in [0, 1]."""
    stops = np.array([float(s) for s, _ in SURFACE_COLORSCALE])
    rgb = np.array([_hex_rgb(str(c)) for _, c in SURFACE_COLORSCALE], dtype=np.float64)
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    return np.stack([np.interp(t, stops, rgb[:, k]) for k in range(3)], axis=-1)


def band_levels(c: np.ndarray, c_range: tuple[float, float], levels: int = LEVELS) -> np.ndarray:
    """Band index (0 … levels-1) of every colour value; -1 where it is not finite."""
    lo, hi = c_range
    span = hi - lo if hi > lo else 1.0
    with np.errstate(all="ignore"):
        band = np.floor((np.asarray(c, dtype=np.float64) - lo) / span * levels)
    band = np.clip(np.nan_to_num(band, nan=-1.0), -1, levels - 1).astype(np.int16)
    band[~np.isfinite(c)] = -1
    return band


def palette(levels: int = LEVELS) -> np.ndarray:
    """(2·levels + 1, 3) uint8: the band fills, then the band line colours, then NaN."""
    fills = colorscale_rgb((np.arange(levels) + 0.5) / levels)
    lines = fills * (1 - LINE_ALPHA) + np.array(LINE_RGB) * LINE_ALPHA
    return np.vstack([fills, lines, np.array([NAN_RGB])]).round().astype(np.uint8)


def raster_indices(band: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """Palette index per pixel: the band's fill, its line colour where the band changes to the
    right or below (an iso-line), the NaN colour where f is not finite."""
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    idx = np.where(edge, band + levels, band).astype(np.int16)
    idx[band < 0] = 2 * levels
    return idx.astype(np.uint8)


@lru_cache(maxsize=48)
def _raster_cached(
    surface: Surface, params_key: tuple[tuple[str, float], ...], pixels: int, domain: Domain
) -> SurfaceRaster:
    params = dict(params_key)
    grid = evaluate_grid(surface, params_key, pixels, domain)
    floor = minima_values(surface, params)
    scaling = color_scaling(grid.z, surface.log_colors, float(floor.min()) if floor.size else None)
    c = scaling.apply(grid.z)
    finite = c[np.isfinite(c)]
    c_range = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    idx = raster_indices(band_levels(c, c_range))
    image = Image.fromarray(idx[::-1], mode="P")  # row 0 of the picture is the top: y max
    image.putpalette(palette().ravel().tolist())
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=6)
    return SurfaceRaster(buf.getvalue(), domain, scaling, c_range)


def surface_raster(
    surface: Surface,
    params: Mapping[str, float] | None = None,
    pixels: int = RASTER_PIXELS,
    domain: Domain | None = None,
) -> SurfaceRaster:
    """The surface's filled contour map as a PNG (cached per surface, parameters and size)."""
    dom = domain if domain is not None else surface.domain
    dom = ((float(dom[0][0]), float(dom[0][1])), (float(dom[1][0]), float(dom[1][1])))
    return _raster_cached(surface, _params_key(params), int(pixels), dom)


def layout_image(raster: SurfaceRaster, source: str) -> dict[str, Any]:
    """The Plotly layout image that lays the picture at `source` over the raster's domain."""
    (x0, x1), (y0, y1) = raster.domain
    return dict(
        source=source,
        xref="x",
        yref="y",
        x=x0,
        y=y1,
        sizex=x1 - x0,
        sizey=y1 - y0,
        sizing="stretch",
        xanchor="left",
        yanchor="top",
        layer="below",
    )


def colorbar_trace(raster: SurfaceRaster, name: str = "surface") -> dict[str, Any]:
    """A trace with no visible point that draws the picture's colour bar (4 numbers of data)."""
    scaling = raster.scaling
    lo, hi = raster.c_range
    bar: dict[str, Any] = dict(title=dict(text=scaling.title, side="right"), thickness=14, len=0.9)
    if scaling.tickvals is not None:
        bar.update(tickvals=scaling.tickvals, ticktext=scaling.ticktext)
    return dict(
        type="scatter",
        x=[None, None],
        y=[None, None],
        mode="markers",
        name=name,
        marker=dict(
            color=[lo, hi], cmin=lo, cmax=hi, colorscale=SURFACE_COLORSCALE, showscale=True, colorbar=bar
        ),
        hoverinfo="skip",
        showlegend=False,
    )


def data_url(raster: SurfaceRaster) -> str:
    """The picture inlined as a data: URL (for figures shown without a server, e.g. a notebook)."""
    import base64

    return "data:image/png;base64," + base64.b64encode(raster.png).decode("ascii")
