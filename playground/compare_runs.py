"""The Compare page's computations: each figure is ONE engine call (the panels one `run_batch`,
a heatmap one `run_grid` over hyperparameter sets, a basin map one `run_grid` over start points),
cached in playground.cache.BoundedCache by hashable keys (the Setup among them). Grid sizes are
padded up to a few buckets, since each new batch size would compile anew."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optim_core import OPTIMIZERS, GridResult, RunConfig, Trajectory, run_batch, run_grid
from optim_core.metrics import minimum_loss
from playground.cache import BoundedCache
from playground.compare_state import (
    GRID_BUCKETS,
    MAX_END_POINTS,
    MAX_PANELS,
    MAX_SWEEP_VALUES,
    REACH_FRACTION,
    CompareState,
    HeatmapSpec,
    axis_values,
    hp_symbol,
    is_log,
)
from playground.numbers import TITLE_DIGITS, format_number
from playground.setup import (
    Setup,
)
from surfaces import Surface
from viz.colors import color_for

# --- runs (each one batched engine call, memoized) -------------------------------------------

# Keys are tuples of hashable values (the Setup itself among them), never a serialisation.
_PANELS: BoundedCache[tuple[Any, ...], PanelRun] = BoundedCache(32)
_GRIDS: BoundedCache[tuple[Any, ...], Any] = BoundedCache(16)  # grids hold <= 16k runs each: a few MB


def _common(setup: Setup) -> dict[str, Any]:
    """Engine keyword arguments shared by every figure of the page."""
    return dict(
        steps=setup.steps,
        seed=setup.seed,
        noise=setup.noise,
        schedule=setup.schedule,
        surface_params=dict(setup.surface_params),
    )


def _bucket(n: int) -> int:
    for size in GRID_BUCKETS:
        if n <= size:
            return size
    return n


def _pad(items: list[Any], n: int) -> list[Any]:
    """Repeat the first item up to the bucket size (the padding runs are thrown away)."""
    return items + [items[0]] * (n - len(items))


@dataclass(frozen=True)
class PanelRun:
    surface: Surface
    trajectories: tuple[Trajectory, ...]
    titles: tuple[str, ...]
    colors: tuple[str, ...]


def panel_configs(state: CompareState) -> tuple[list[RunConfig], list[str], list[str]]:
    """The runs of the small-multiples figure: configs, panel titles, colours."""
    from playground.compute import entry_label

    setup = state.setup
    start = setup.resolved_start()
    configs: list[RunConfig] = []
    titles: list[str] = []
    if state.panels == "sweep":
        sw = state.sweep
        label, symbol = OPTIMIZERS[sw.entry.name].label, hp_symbol(sw.entry.name, sw.hparam)
        for value in sw.values[:MAX_SWEEP_VALUES]:
            title = f"{label}, {symbol} = {format_number(value, TITLE_DIGITS)}"
            configs.append(
                RunConfig(sw.entry.name, {**sw.entry.hparams, sw.hparam: value}, None, start, title)
            )
            titles.append(title)
    else:
        for i, entry in enumerate(setup.optimizers[:MAX_PANELS]):
            label = entry_label(setup, i)
            configs.append(RunConfig(entry.name, dict(entry.hparams), None, start, label))
            titles.append(f"{label}, α = {format_number(entry.hparams['learning_rate'], TITLE_DIGITS)}")
    return configs, titles, [color_for(i) for i in range(len(configs))]


def run_panels(state: CompareState) -> PanelRun:
    """Every panel's trajectory in one `run_batch` call (memoized)."""
    setup = state.setup
    sweep = state.sweep if state.panels == "sweep" else None
    key = (setup.with_changes(focus=0, scrub=0, classroom=False, hidden=()), state.panels, sweep)

    def compute() -> PanelRun:
        surface = setup.resolved_surface()
        configs, titles, colors = panel_configs(state)
        trajectories = run_batch(surface, configs, **_common(setup))
        return PanelRun(surface, tuple(trajectories), tuple(titles), tuple(colors))

    return _PANELS.get_or_compute(key, compute)


@dataclass(frozen=True)
class HeatmapResult:
    """One summary per grid cell; arrays are (len(y_values), len(x_values))."""

    optimizer: str
    fixed: Mapping[str, float]  # the other hyperparameters
    x: str
    y: str
    x_values: np.ndarray
    y_values: np.ndarray
    final_loss: np.ndarray
    steps_to_tol: np.ndarray  # -1: never within tolerance
    diverged_at: np.ndarray  # -1: did not diverge
    f_star: float  # NaN when the surface has no known minimum
    tol: float
    runs: int  # the number of engine runs in the one batched call (with padding)
    steps: int

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def default_point(self) -> tuple[float, float] | None:
        """The optimizer's default (x, y), or None when it lies outside the grid."""
        defaults = OPTIMIZERS[self.optimizer].defaults
        dx, dy = defaults[self.x], defaults[self.y]
        inside = (
            self.x_values.min() <= dx <= self.x_values.max()
            and self.y_values.min() <= dy <= self.y_values.max()
        )
        return (dx, dy) if inside else None


def heatmap_hparams(spec: HeatmapSpec) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """The grid axes and one hyperparameter set per cell, row by row (y outer, x inner)."""
    name = spec.entry.name
    xs = axis_values(*spec.x_range, spec.resolution, is_log(name, spec.x))
    ys = axis_values(*spec.y_range, spec.resolution, is_log(name, spec.y))
    cells = [{**spec.entry.hparams, spec.x: float(x), spec.y: float(y)} for y in ys for x in xs]
    return xs, ys, cells


def run_heatmap(state: CompareState) -> HeatmapResult:
    """The whole grid in ONE `run_grid` call over a list of hyperparameter sets (memoized)."""
    setup, spec = state.setup, state.heatmap
    key = (
        "heatmap",
        setup.with_changes(optimizers=(), focus=0, scrub=0),
        spec.entry,
        spec.x,
        spec.y,
        spec.x_range,
        spec.y_range,
        spec.resolution,
        state.tol,
    )

    def compute() -> HeatmapResult:
        surface = setup.resolved_surface()
        xs, ys, cells = heatmap_hparams(spec)
        n = len(cells)
        padded = _pad(cells, _bucket(n))
        grid = run_grid(
            surface,
            spec.entry.name,
            padded,
            np.asarray([setup.resolved_start()]),
            tol=state.tol,
            **_common(setup),
        )
        shape = (len(ys), len(xs))
        return HeatmapResult(
            optimizer=spec.entry.name,
            fixed={k: v for k, v in spec.entry.hparams.items() if k not in (spec.x, spec.y)},
            x=spec.x,
            y=spec.y,
            x_values=xs,
            y_values=ys,
            final_loss=np.asarray(grid.final_loss[:n], np.float64).reshape(shape),
            steps_to_tol=np.asarray(grid.steps_to_tol[:n]).reshape(shape),
            diverged_at=np.asarray(grid.diverged_at[:n]).reshape(shape),
            f_star=minimum_loss(surface, dict(setup.surface_params)),
            tol=state.tol,
            runs=len(padded),
            steps=setup.steps,
        )

    return _GRIDS.get_or_compute(key, compute)


@dataclass(frozen=True)
class BasinResult:
    """Where each start point of an n×n grid ends; arrays are (n, n), row = y, column = x."""

    optimizer: str
    xs: np.ndarray
    ys: np.ndarray
    final_position: np.ndarray  # (n, n, 2)
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged_at: np.ndarray
    labels: np.ndarray  # index into `centers`, -1: reached none / diverged
    centers: np.ndarray  # (k, 2): the known minima, or end-point clusters when none are known
    known_minima: bool
    f_star: float
    tol: float
    runs: int


def basin_starts(surface: Surface, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = surface.domain
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)  # row = y, column = x
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


def reach_radius(surface: Surface) -> float:
    (x0, x1), (y0, y1) = surface.domain
    return REACH_FRACTION * max(x1 - x0, y1 - y0)


def label_by_minima(final: np.ndarray, ok: np.ndarray, minima: np.ndarray, radius: float) -> np.ndarray:
    """Index of the known minimum each run ended within `radius` of, else -1."""
    dists = np.linalg.norm(final[:, None, :] - minima[None, :, :], axis=-1)
    nearest = np.argmin(dists, axis=1)
    reached = ok & (dists[np.arange(len(final)), nearest] <= radius)
    return np.where(reached, nearest, -1)


def cluster_end_points(
    final: np.ndarray, ok: np.ndarray, radius: float, max_clusters: int = MAX_END_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Group end points that lie within `radius` of each other (greedy, largest groups first).

    For surfaces without known minima: the places the runs settle are the local minima the
    optimizer found. Returns labels (-1 for diverged runs and for groups past `max_clusters`)
    and the groups' mean positions.
    """
    labels = np.full(len(final), -1)
    remaining = np.nonzero(ok)[0]
    groups: list[np.ndarray] = []
    while remaining.size and len(groups) < 64:
        seed = final[remaining[0]]
        close = np.linalg.norm(final[remaining] - seed, axis=1) <= radius
        groups.append(remaining[close])
        remaining = remaining[~close]
    groups.sort(key=len, reverse=True)
    centers = []
    for k, members in enumerate(groups[:max_clusters]):
        labels[members] = k
        centers.append(final[members].mean(axis=0))
    return labels, np.asarray(centers, np.float64).reshape(-1, 2)


def run_basin(state: CompareState) -> BasinResult:
    """Every start point of the grid in ONE `run_grid` call (memoized)."""
    setup, spec = state.setup, state.basin
    key = (
        "basin",
        setup.with_changes(optimizers=(), start=None, focus=0, scrub=0),
        spec.entry,
        spec.resolution,
        state.tol,
    )

    def compute() -> BasinResult:
        surface = setup.resolved_surface()
        xs, ys, starts = basin_starts(surface, spec.resolution)
        n = len(starts)
        padded = np.concatenate([starts, np.repeat(starts[:1], _bucket(n) - n, axis=0)])
        grid: GridResult = run_grid(
            surface, spec.entry.name, dict(spec.entry.hparams), padded, tol=state.tol, **_common(setup)
        )
        final = np.asarray(grid.final_position[:n], np.float64)
        diverged_at = np.asarray(grid.diverged_at[:n])
        ok = diverged_at < 0
        radius = reach_radius(surface)
        if surface.minima:
            centers = np.asarray(surface.minima, np.float64)
            labels = label_by_minima(final, ok, centers, radius)
        else:
            labels, centers = cluster_end_points(final, ok, radius)
        shape = (len(ys), len(xs))
        return BasinResult(
            optimizer=spec.entry.name,
            xs=xs,
            ys=ys,
            final_position=final.reshape(*shape, 2),
            final_loss=np.asarray(grid.final_loss[:n], np.float64).reshape(shape),
            steps_to_tol=np.asarray(grid.steps_to_tol[:n]).reshape(shape),
            diverged_at=diverged_at.reshape(shape),
            labels=labels.reshape(shape),
            centers=centers,
            known_minima=bool(surface.minima),
            f_star=minimum_loss(surface, dict(setup.surface_params)),
            tol=state.tol,
            runs=len(padded),
        )

    return _GRIDS.get_or_compute(key, compute)


def heatmap_values(result: HeatmapResult, metric: str) -> tuple[np.ndarray, str, bool, str]:
    """What the heatmap colours: z (NaN cells greyed out), its label, log colours, NaN label."""
    if metric == "steps":
        z = np.where(result.steps_to_tol >= 0, result.steps_to_tol, np.nan).astype(np.float64)
        return z, f"steps until loss − f* ≤ {result.tol:g}", False, "never within tolerance"
    z = np.where(result.diverged, np.nan, result.final_loss)
    if math.isfinite(result.f_star):
        return z - result.f_star, "final loss − f*", True, "diverged"
    finite = z[np.isfinite(z)]
    return z, "final loss", bool(finite.size and np.all(finite > 0)), "diverged"


def best_cell(result: HeatmapResult) -> tuple[float, float] | None:
    """(x, y) of the fastest cell (fewest steps to tolerance) among those that also end within
    the tolerance; if none does, the one with the lowest final loss. None when every run
    diverged.

    Speed, not the lowest loss, picks the winner: many cells end at the minimum to float32
    precision, and the smallest of those numbers is noise. A run that passed through the
    tolerance and left it again (a bounce) is not a fast one.
    """
    steps = heatmap_values(result, "steps")[0]
    if math.isfinite(result.f_star):
        with np.errstate(invalid="ignore"):
            ends_within = (result.final_loss - result.f_star <= result.tol) & ~result.diverged
        steps = np.where(ends_within, steps, np.nan)
    z = steps if np.isfinite(steps).any() else heatmap_values(result, "loss")[0]
    if not np.isfinite(z).any():
        return None
    i, j = np.unravel_index(int(np.nanargmin(z)), z.shape)
    return float(result.x_values[j]), float(result.y_values[i])
