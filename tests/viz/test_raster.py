"""The surface picture: its colours follow the colour scale, iso-lines where the band changes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from viz.raster import LEVELS, band_levels, colorscale_rgb, palette, raster_indices, surface_raster


def test_bands_split_the_colour_range_evenly_and_mark_non_finite() -> None:
    c = np.array([[0.0, 0.49, 0.5, 1.0, np.nan]])
    band = band_levels(c, (0.0, 1.0), levels=2)
    assert band.tolist() == [[0, 0, 1, 1, -1]]


def test_lines_where_the_band_changes_and_fills_elsewhere() -> None:
    band = np.array([[0, 0, 1], [0, 0, 1], [-1, 0, 1]], dtype=np.int16)
    idx = raster_indices(band, levels=2)
    # Right or below neighbour in another band -> that pixel is drawn in its band's line colour.
    assert idx[0, 0] == 0 and idx[0, 1] == 0 + 2 and idx[0, 2] == 1
    assert idx[2, 0] == 2 * 2  # not finite: the NaN colour


def test_palette_fills_are_the_colour_scale_and_lines_darker() -> None:
    pal = palette().astype(float)
    fills, lines = pal[:LEVELS], pal[LEVELS : 2 * LEVELS]
    expected = colorscale_rgb((np.arange(LEVELS) + 0.5) / LEVELS)
    assert np.abs(fills - expected).max() <= 0.5
    assert np.all(lines.sum(axis=1) < fills.sum(axis=1))


def test_the_png_is_the_surface_top_row_first(rosenbrock) -> None:
    raster = surface_raster(rosenbrock, {}, pixels=50)
    image = Image.open(io.BytesIO(raster.png))
    assert image.size == (50, 50) and image.mode == "P"
    band = np.asarray(image).astype(int) % LEVELS  # a fill or its line colour: the same band
    rows, cols = np.linspace(3, -1, 50), np.linspace(-2, 2, 50)
    at_minimum = band[np.abs(rows - 1.0).argmin(), np.abs(cols - 1.0).argmin()]
    corner = band[-1, 0]  # (-2, -1): f = 909, far up the log scale
    assert at_minimum <= 2 and corner >= LEVELS - 4
