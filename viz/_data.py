"""Array helpers shared by the figure builders: surface grids, colour scaling, path subsampling."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

Domain = tuple[tuple[float, float], tuple[float, float]]

# Drawing budgets. The browser gets at most this many points per path / per curve; the figure
# JSON of a typical playground stays small (see figure_json_size).
MAX_PATH_POINTS = 600
MAX_CURVE_POINTS = 800


# ---------------------------------------------------------------------------------------------
# Surface grids
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """f sampled on a regular grid: `z[i, j] = f(x[j], y[i])`, non-finite values as NaN."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def _params_key(params: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(k), float(v)) for k, v in (params or {}).items()))


@lru_cache(maxsize=64)
def _grid_cached(surface: Surface, params_key: tuple[tuple[str, float], ...], n: int, domain: Domain) -> Grid:
    return evaluate_grid(surface, params_key, n, domain)


def evaluate_grid(
    surface: Surface, params_key: tuple[tuple[str, float], ...], n: int, domain: Domain
) -> Grid:
    """f on an n x n grid over `domain`, not cached (large grids drawn once, e.g. rasters)."""
    (x0, x1), (y0, y1) = domain
    x = np.linspace(x0, x1, n)
    y = np.linspace(y0, y1, n)
    xx, yy = np.meshgrid(x, y)
    with np.errstate(all="ignore"):
        z = np.asarray(surface.value(jnp.asarray(xx), jnp.asarray(yy), dict(params_key)), dtype=np.float64)
    z = np.where(np.isfinite(z), z, np.nan)
    for arr in (x, y, z):
        arr.flags.writeable = False  # shared through the cache: nobody may edit it
    return Grid(x, y, z)


def surface_grid(
    surface: Surface,
    params: Mapping[str, float] | None = None,
    n: int = 120,
    domain: Domain | None = None,
) -> Grid:
    """f on an n x n grid over `domain` (default: the surface's). Cached: reruns are free."""
    dom = domain if domain is not None else surface.domain
    dom = ((float(dom[0][0]), float(dom[0][1])), (float(dom[1][0]), float(dom[1][1])))
    return _grid_cached(surface, _params_key(params), int(n), dom)


def minima_values(surface: Surface, params: Mapping[str, float] | None = None) -> np.ndarray:
    """f at the surface's known minima (empty when it has none)."""
    if not surface.minima:
        return np.zeros(0)
    pts = np.asarray(surface.minima, dtype=np.float64)
    with np.errstate(all="ignore"):
        vals = np.asarray(
            surface.value(jnp.asarray(pts[:, 0]), jnp.asarray(pts[:, 1]), params), dtype=np.float64
        )
    return vals[np.isfinite(vals)]


# ---------------------------------------------------------------------------------------------
# Colour scaling
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColorScaling:
    """How loss values become colour values, and the colour bar that explains it."""

    log: bool
    f_min: float
    offset: float  # log colours: c = log10(f - f_min + offset)
    title: str
    tickvals: list[float] | None = None
    ticktext: list[str] | None = None

    def apply(self, f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        if not self.log:
            return f
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(f - self.f_min, 0.0) + self.offset)


def fmt_num(v: float, digits: int = 3) -> str:
    """Short human number: 0.001 -> '0.001', 1000 -> '1000', 1e-5 -> '1e-5', 0 -> '0'."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    a = abs(v)
    if 1e-3 <= a < 1e5:
        text = f"{v:.{digits}g}"
        return str(round(v)) if "e" in text else text
    mantissa, exponent = f"{v:.{max(digits - 1, 1)}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def color_scaling(z: np.ndarray, log: bool, floor: float | None = None) -> ColorScaling:
    """Linear colours, or log10(f - f_min + offset) with a colour bar labelled in loss values.

    The offset is 1e-4 of the value range, so the log scale always spans about four decades and
    the valley floor keeps its detail whatever the surface's units.
    """
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return ColorScaling(False, 0.0, 1.0, "loss")
    f_min = float(finite.min()) if floor is None else min(float(finite.min()), floor)
    if not log:
        return ColorScaling(False, f_min, 1.0, "loss")
    f_range = float(finite.max()) - f_min
    offset = max(f_range * 1e-4, 1e-12)
    top = math.floor(math.log10(f_range + offset)) if f_range > 0 else 0
    bottom = math.ceil(math.log10(offset))
    shift_label = abs(f_min) > 1e-9 * max(f_range, 1e-300)
    # Ticks at f - f_min = 0, 10^bottom .. 10^top, labelled in loss units.
    gaps = [0.0] + [10.0**k for k in range(bottom, top + 1)]
    if len(gaps) > 7:  # keep the bar readable: every other decade
        gaps = [0.0] + gaps[1:][::-1][::2][::-1]
    tickvals = [math.log10(g + offset) for g in gaps]
    ticktext = [fmt_num(g) for g in gaps]
    title = "loss − min<br>(log colours)" if shift_label else "loss<br>(log colours)"
    if shift_label:
        title = f"loss − min<br>min = {fmt_num(f_min)}<br>(log colours)"
    return ColorScaling(True, f_min, offset, title, tickvals, ticktext)


# ---------------------------------------------------------------------------------------------
# Paths and curves
# ---------------------------------------------------------------------------------------------


def finite_length(traj: Trajectory) -> int:
    """How many leading points of the path are finite (all of them for a run that stayed finite)."""
    path = np.asarray(traj.path, dtype=np.float64)
    ok = np.all(np.isfinite(path), axis=1)
    if traj.diverged_at is not None:
        ok[int(traj.diverged_at) :] = False
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else int(path.shape[0])


def decimate_indices(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ~`max_points` samples of a sequence that keep its visual shape.

    Keeps the first and last sample and, per bucket of consecutive samples, the extreme ones in
    every column (the M4 idea): a zig-zag keeps both of its sides. A plain stride would alias a
    period-2 oscillation (SGD in a ravine) into a smooth line, which is exactly what must not
    disappear in a teaching app.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n, d = values.shape
    if n <= max_points:
        return np.arange(n)
    per_bucket = 2 * d
    n_buckets = max((max_points - 2) // per_bucket, 1)
    edges = np.linspace(1, n - 1, n_buckets + 1).astype(int)
    size = int(np.max(np.diff(edges)))
    # Pad buckets to equal size with NaN so the extremes come out in one vectorized pass.
    idx = edges[:-1, None] + np.arange(size)[None, :]
    valid = idx < edges[1:, None]
    idx_c = np.where(valid, idx, edges[:-1, None])
    keep = [np.array([0, n - 1])]
    for col in range(d):
        vals = np.where(valid, values[idx_c, col], np.nan)
        all_nan = np.all(np.isnan(vals), axis=1)
        vals_lo = np.where(np.isnan(vals), np.inf, vals)
        vals_hi = np.where(np.isnan(vals), -np.inf, vals)
        lo = idx_c[np.arange(len(idx_c)), np.argmin(vals_lo, axis=1)]
        hi = idx_c[np.arange(len(idx_c)), np.argmax(vals_hi, axis=1)]
        keep += [lo[~all_nan], hi[~all_nan], edges[:-1][all_nan]]
    return np.unique(np.concatenate(keep))


def drawable_path(traj: Trajectory, max_points: int = MAX_PATH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(steps, points) of the finite part of a path, subsampled for drawing (first, last kept)."""
    n = finite_length(traj)
    path = np.asarray(traj.path, dtype=np.float64)[:n]
    idx = decimate_indices(path, max_points) if n else np.zeros(0, dtype=int)
    return idx, path[idx]


def drawable_curve(
    steps: np.ndarray, values: np.ndarray, max_points: int = MAX_CURVE_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """A finite (step, value) series subsampled for drawing; NaN/inf points dropped."""
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    steps, values = steps[ok], values[ok]
    if values.size == 0:
        return steps, values
    idx = decimate_indices(values, max_points)
    return steps[idx], values[idx]


def nearest_minimum_distance(points: np.ndarray, minima: Sequence[Sequence[float]]) -> np.ndarray:
    """Euclidean distance from each point (n, 2) to the nearest of `minima` (k, 2)."""
    pts = np.asarray(points, dtype=np.float64)
    mins = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
    diff = pts[:, None, :] - mins[None, :, :]
    return np.sqrt(np.min(np.sum(diff * diff, axis=-1), axis=1))


def f32(a: np.ndarray | Sequence[float]) -> np.ndarray:
    """float32 copy: Plotly serializes NumPy arrays as base64 typed arrays, f4 is half of f8."""
    return np.asarray(a, dtype=np.float32)
