"""The Compare page's logic: small multiples, sensitivity heatmaps and basin maps (no Streamlit).

State flows one way, as on the Playground: widgets or a share link -> one validated
`CompareState` -> one batched engine call per figure (cached) -> figure builders. The state's
common part (surface, noise, seed, steps, start, the panel optimizers) is a `playground.setup.Setup`
and uses the Playground's URL keys, so a link carries over between the two pages; the rest lives
under `cmp.*` keys. Every value read from a link is untrusted: bad values fall back to defaults
with a warning, and every size (panels, grid resolution) is capped.

Each figure is ONE engine call: the panels one `run_batch`, a heatmap one `run_grid` over a list
of hyperparameter sets, a basin map one `run_grid` over a grid of start points. Grid sizes are
padded up to a few buckets, because the batch size is static under `jit` and each new size would
otherwise compile anew.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go

from optim_core import OPTIMIZERS, GridResult, RunConfig, Trajectory, resolve_hparams, run_batch, run_grid
from optim_core.metrics import minimum_loss
from playground.cache import BoundedCache
from playground.numbers import TITLE_DIGITS, format_number
from playground.safe_text import shown
from playground.setup import (
    MAX_OPTIMIZERS,
    MAX_QUERY_VALUE_CHARS,
    OptimizerEntry,
    Reader,
    Setup,
    encode_optimizer,
    first_value,
    parse_number,
    parse_optimizer_text,
    raw_text,
)
from playground.setup import from_query as setup_from_query
from playground.setup import to_query as setup_to_query
from surfaces import Surface
from viz import basin_figure, heatmap_figure, small_multiples_figure
from viz.colors import color_for

# --- caps and choices -------------------------------------------------------------------------

MAX_PANELS = MAX_OPTIMIZERS  # panels per small-multiples figure
MAX_SWEEP_VALUES = MAX_PANELS
MIN_HEATMAP_RES, MAX_HEATMAP_RES = 3, 40  # cells per heatmap axis
MIN_BASIN_RES, MAX_BASIN_RES = 8, 128  # start points per basin-map axis
# Batch sizes are padded up to one of these (static under jit: one compile per bucket).
GRID_BUCKETS: tuple[int, ...] = (64, 256, 1024, 1600, 4096, 9216, 16384)
# The tolerance slider's stops (one per decade); a link's value is read to the nearest one.
TOL_OPTIONS: tuple[float, ...] = tuple(10.0 ** -k for k in range(6, -1, -1))
TOL_RANGE = (TOL_OPTIONS[0], TOL_OPTIONS[-1])
DEFAULT_TOL = 1e-3
# A start "reaches" a minimum when it ends within this fraction of the domain's larger side.
REACH_FRACTION = 0.03
MAX_END_POINTS = 8  # end-point clusters named in a basin map of a surface without known minima

PANEL_MODES: dict[str, str] = {"optimizers": "one panel per optimizer",
                               "sweep": "one optimizer, one hyperparameter swept"}
HEATMAP_METRICS: dict[str, str] = {"loss": "final loss", "steps": "steps to tolerance"}
BASIN_METRICS: dict[str, str] = {"minimum": "which minimum it reaches",
                                 "steps": "steps to tolerance", "loss": "final loss"}

DEFAULT_SURFACE = "himmelblau"  # four minima: the basin map has something to show
# Grid ranges that show something on most surfaces (the sliders' full ranges are too wide).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "learning_rate": (1e-3, 1.0), "b1": (0.0, 0.99), "b2": (0.9, 0.9999), "eps": (1e-10, 1.0),
    "momentum": (0.0, 0.99), "decay": (0.5, 0.999), "rho": (0.5, 0.999),
}
DEFAULT_SWEEPS: dict[str, tuple[float, ...]] = {
    "b1": (0.0, 0.5, 0.9, 0.99), "b2": (0.5, 0.9, 0.99, 0.999), "eps": (1e-8, 1e-4, 1e-2, 1.0),
    "learning_rate": (0.003, 0.01, 0.03, 0.1), "momentum": (0.0, 0.5, 0.9, 0.99),
}
_SYMBOLS = {r"\alpha": "α", r"\beta_1": "β₁", r"\beta_2": "β₂", r"\epsilon": "ε", r"\mu": "μ",
            r"\rho": "ρ", r"\lambda": "λ", r"\bar\epsilon": "ε̄", r"\hat\epsilon": "ε̂"}


# --- hyperparameter helpers -------------------------------------------------------------------

def hp_symbol(optimizer: str, name: str) -> str:
    """A plain-text symbol for a hyperparameter (plot titles cannot use LaTeX offline)."""
    return _SYMBOLS.get(OPTIMIZERS[optimizer].hyperparam(name).symbol, name)


def sweepable_hparams(optimizer: str) -> list[str]:
    """Hyperparameters a sweep can vary: all of them (switches take the values 0 and 1)."""
    return [h.name for h in OPTIMIZERS[optimizer].hyperparams]


def grid_hparams(optimizer: str) -> list[str]:
    """Continuous hyperparameters, the ones a heatmap axis can span."""
    return [h.name for h in OPTIMIZERS[optimizer].hyperparams if h.kind == "float"]


def heatmap_optimizers() -> list[str]:
    """Optimizers with at least two continuous hyperparameters (a heatmap needs two axes)."""
    return [name for name in OPTIMIZERS if len(grid_hparams(name)) >= 2]


def is_log(optimizer: str, name: str) -> bool:
    return OPTIMIZERS[optimizer].hyperparam(name).log


def default_range(optimizer: str, name: str) -> tuple[float, float]:
    h = OPTIMIZERS[optimizer].hyperparam(name)
    lo, hi = DEFAULT_RANGES.get(name, (h.low, h.high))
    vlo, vhi = h.valid_range
    lo, hi = max(lo, vlo), min(hi, vhi)
    if h.log and lo <= 0:
        lo = h.low
    return (lo, hi)


def default_sweep_values(optimizer: str, name: str) -> tuple[float, ...]:
    h = OPTIMIZERS[optimizer].hyperparam(name)
    if h.kind == "bool":
        return (0.0, 1.0)
    if name in DEFAULT_SWEEPS:
        lo, hi = h.valid_range
        values = tuple(v for v in DEFAULT_SWEEPS[name] if lo <= v <= hi)
        if values:
            return values
    grid = np.geomspace(h.low, h.high, 4) if h.log else np.linspace(h.low, h.high, 4)
    return tuple(float(f"{v:.3g}") for v in grid)


def axis_values(low: float, high: float, n: int, log: bool) -> np.ndarray:
    """n grid values from low to high, log-spaced for α and ε."""
    values = np.geomspace(low, high, n) if log else np.linspace(low, high, n)
    return values.astype(np.float64)


def format_values(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


def parse_values(text: str, optimizer: str, name: str) -> tuple[tuple[float, ...], list[str]]:
    """Typed sweep values ("0, 0.5, 0.9") -> valid values in order, and one error per bad one."""
    h = OPTIMIZERS[optimizer].hyperparam(name)
    low, high = h.valid_range
    values: list[float] = []
    errors: list[str] = []
    parts = [p.strip() for p in str(text)[:MAX_QUERY_VALUE_CHARS].replace(";", ",").split(",")]
    for part in (p for p in parts if p):
        value = parse_number(part)
        if value is None:
            errors.append(f"{shown(part, 20)} is not a number")
            continue
        if not math.isfinite(value) or not low <= value <= high:
            errors.append(f"{shown(part, 20)} is outside [{low:g}, {high:g}]")
            continue
        if h.kind == "bool" and value not in (0.0, 1.0):
            errors.append(f"{shown(part, 20)} is not 0 or 1 (a switch)")
            continue
        value += 0.0  # -0 -> 0
        if value not in values:
            values.append(value)
    if len(values) > MAX_SWEEP_VALUES:
        errors.append(f"at most {MAX_SWEEP_VALUES} values; kept the first {MAX_SWEEP_VALUES}")
        values = values[:MAX_SWEEP_VALUES]
    return tuple(values), errors


# --- the page state ---------------------------------------------------------------------------

def _adam(**hparams: float) -> OptimizerEntry:
    return OptimizerEntry("adam", resolve_hparams("adam", hparams))


@dataclass(frozen=True)
class SweepSpec:
    """One optimizer with one hyperparameter varied across the panels."""

    entry: OptimizerEntry = field(default_factory=lambda: _adam(learning_rate=0.1))
    hparam: str = "b1"
    values: tuple[float, ...] = DEFAULT_SWEEPS["b1"]


@dataclass(frozen=True)
class HeatmapSpec:
    """A grid of two hyperparameters of one optimizer; the others keep `entry`'s values."""

    entry: OptimizerEntry = field(default_factory=_adam)
    x: str = "learning_rate"
    y: str = "b1"
    x_range: tuple[float, float] = DEFAULT_RANGES["learning_rate"]
    y_range: tuple[float, float] = DEFAULT_RANGES["b1"]
    resolution: int = 20
    metric: str = "loss"


@dataclass(frozen=True)
class BasinSpec:
    """One optimizer started from every point of an n×n grid over the surface's domain."""

    entry: OptimizerEntry = field(default_factory=lambda: _adam(learning_rate=0.05))
    resolution: int = 64
    metric: str = "minimum"


def default_setup() -> Setup:
    return Setup(surface=DEFAULT_SURFACE)


@dataclass(frozen=True)
class CompareState:
    setup: Setup = field(default_factory=default_setup)
    panels: str = "optimizers"
    sweep: SweepSpec = field(default_factory=SweepSpec)
    heatmap: HeatmapSpec = field(default_factory=HeatmapSpec)
    basin: BasinSpec = field(default_factory=BasinSpec)
    tol: float = DEFAULT_TOL

    def with_changes(self, **changes: Any) -> CompareState:
        return replace(self, **changes)


def _read_entry(raw: str | None, what: str, default: OptimizerEntry, reader: Reader,
                allowed: Sequence[str] | None = None) -> OptimizerEntry:
    if raw is None:
        return default
    before = len(reader.warnings)
    entry = _parse_entry(raw, reader, allowed, default)
    reader.warnings[before:] = [f"{what}: {w}" for w in reader.warnings[before:]]
    return entry if entry is not None else default


def _parse_entry(raw: str, reader: Reader, allowed: Sequence[str] | None,
                 default: OptimizerEntry) -> OptimizerEntry | None:
    parsed = parse_optimizer_text(raw, reader)
    if parsed is None:
        return None
    if allowed is not None and parsed["name"] not in allowed:
        reader.warn(f"{raw_text(parsed['name'])} cannot be used here; using {default.name}.")
        return None
    return reader.optimizer(parsed["name"], parsed["preset"], parsed["hparams"])


def nearest_tol(value: float) -> float:
    """The tolerance slider's stop nearest to `value` (on a log scale)."""
    return min(TOL_OPTIONS, key=lambda o: abs(math.log10(o) - math.log10(max(value, 1e-300))))


def _read_range(raw: str | None, what: str, optimizer: str, name: str,
                reader: Reader) -> tuple[float, float]:
    default = default_range(optimizer, name)
    if raw is None:
        return default
    parts = raw.split(",")
    if len(parts) != 2:
        reader.warn(f"{what} range must be two numbers 'low,high'; using {format_values(default)}.")
        return default
    h = OPTIMIZERS[optimizer].hyperparam(name)
    low, high = h.valid_range
    if h.log:
        low = max(low, 1e-12)
    lo = reader.number(parts[0], f"{what} low", default[0], low, high)
    hi = reader.number(parts[1], f"{what} high", default[1], low, high)
    if not lo < hi:
        reader.warn(f"{what} range: low must be below high; using {format_values(default)}.")
        return default
    return (lo, hi)


def check_range(optimizer: str, name: str, lo: float, hi: float) -> str | None:
    """Why a typed grid range cannot be used, or None when it is fine."""
    h = OPTIMIZERS[optimizer].hyperparam(name)
    low, high = h.valid_range
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "both ends must be numbers"
    if not lo < hi:
        return "the low end must be below the high end"
    if lo < low or hi > high:
        return f"{name} must stay within [{low:g}, {high:g}]"
    if h.log and lo <= 0:
        return f"{name} is on a log axis: the low end must be above 0"
    return None


def _default_sweep_hparam(optimizer: str) -> str:
    base = SweepSpec().hparam
    return base if base in sweepable_hparams(optimizer) else "learning_rate"


def _default_y(optimizer: str, x: str) -> str:
    axes = grid_hparams(optimizer)
    base = HeatmapSpec().y
    return base if base in axes and base != x else next(a for a in axes if a != x)


def from_query(query: Mapping[str, str | list[str]]) -> tuple[CompareState, list[str]]:
    """A CompareState from URL query parameters; never raises, warns for every fallback."""
    common = dict(query)
    common.setdefault("s", DEFAULT_SURFACE)
    setup, warnings = setup_from_query(common)
    reader = Reader()
    reader.warnings = list(warnings)
    base = CompareState()
    if len(setup.optimizers) > MAX_PANELS:  # already capped by the Setup reader; kept explicit
        setup = setup.with_changes(optimizers=setup.optimizers[:MAX_PANELS])
    names = [e.name for e in setup.optimizers]
    if len(set(names)) < len(names):
        # One panel per optimizer: a second entry of the same optimizer is a sweep's job.
        reader.warn(f"the same optimizer appears twice; kept the first of each, dropped "
                    f"{len(names) - len(set(names))} (use the sweep mode to compare settings of "
                    "one optimizer).")
        unique = tuple(e for i, e in enumerate(setup.optimizers) if e.name not in names[:i])
        setup = setup.with_changes(optimizers=unique)

    def get(key: str) -> str | None:
        return first_value(query, key, reader)

    def get_or(key: str, default: str) -> str:
        value = get(key)
        return default if value is None else value

    panels = base.panels
    if get("cmp.panels") is not None:
        panels = reader.choice(get("cmp.panels"), "panels", base.panels, tuple(PANEL_MODES))

    # Sweep: one optimizer, one hyperparameter, typed values.
    sw_entry = _read_entry(get("cmp.sw"), "sweep optimizer", base.sweep.entry, reader)
    sw_hp = _default_sweep_hparam(sw_entry.name)
    if get("cmp.sw.hp") is not None:
        sw_hp = reader.choice(get("cmp.sw.hp"), "swept hyperparameter", sw_hp,
                              sweepable_hparams(sw_entry.name))
    sw_values = default_sweep_values(sw_entry.name, sw_hp)
    if get("cmp.sw.vals") is not None:
        values, errors = parse_values(get("cmp.sw.vals") or "", sw_entry.name, sw_hp)
        for error in errors:
            reader.warn(f"sweep values: {error}.")
        if values:
            sw_values = values
        else:
            reader.warn(f"no usable sweep values; using {format_values(sw_values)}.")
    sweep = SweepSpec(sw_entry, sw_hp, sw_values)

    # Heatmap: two continuous hyperparameters of an optimizer that has two.
    hm_entry = _read_entry(get("cmp.hm"), "heatmap optimizer", base.heatmap.entry, reader,
                           allowed=heatmap_optimizers())
    axes = grid_hparams(hm_entry.name)
    hm_x = reader.choice(get_or("cmp.hm.x", "learning_rate"), "heatmap x axis", "learning_rate",
                         axes)
    y_default = _default_y(hm_entry.name, hm_x)
    hm_y = reader.choice(get_or("cmp.hm.y", y_default), "heatmap y axis", y_default, axes)
    if hm_y == hm_x:
        reader.warn("the heatmap needs two different hyperparameters; changed the y axis.")
        hm_y = next(a for a in axes if a != hm_x)
    heatmap = HeatmapSpec(
        entry=hm_entry, x=hm_x, y=hm_y,
        x_range=_read_range(get("cmp.hm.xr"), "heatmap x", hm_entry.name, hm_x, reader),
        y_range=_read_range(get("cmp.hm.yr"), "heatmap y", hm_entry.name, hm_y, reader),
        resolution=reader.integer(get_or("cmp.hm.n", str(base.heatmap.resolution)),
                                  "heatmap resolution", base.heatmap.resolution, MIN_HEATMAP_RES,
                                  MAX_HEATMAP_RES),
        metric=reader.choice(get_or("cmp.hm.z", base.heatmap.metric), "heatmap value",
                             base.heatmap.metric, tuple(HEATMAP_METRICS)),
    )

    bm_entry = _read_entry(get("cmp.bm"), "basin optimizer", base.basin.entry, reader)
    basin = BasinSpec(
        entry=bm_entry,
        resolution=reader.integer(get_or("cmp.bm.n", str(base.basin.resolution)),
                                  "basin resolution", base.basin.resolution, MIN_BASIN_RES,
                                  MAX_BASIN_RES),
        metric=reader.choice(get_or("cmp.bm.z", base.basin.metric), "basin value",
                             base.basin.metric, tuple(BASIN_METRICS)),
    )
    tol = base.tol
    if get("cmp.tol") is not None:
        tol = reader.number(get("cmp.tol"), "tolerance", base.tol, *TOL_RANGE)
        stop = nearest_tol(tol)
        if stop != tol:
            reader.warn(f"tolerance: {tol:g} is not one of the slider's stops; using {stop:g}.")
            tol = stop
    known = {"cmp.panels", "cmp.sw", "cmp.sw.hp", "cmp.sw.vals", "cmp.hm", "cmp.hm.x", "cmp.hm.y",
             "cmp.hm.xr", "cmp.hm.yr", "cmp.hm.n", "cmp.hm.z", "cmp.bm", "cmp.bm.n", "cmp.bm.z",
             "cmp.tol", "cmp.tab"}
    unknown = [k for k in query if k.startswith("cmp.") and k not in known]
    if unknown:
        listed = ", ".join(raw_text(k) for k in unknown[:5])
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        reader.warn(f"unknown link parameters ignored: {listed}{more}.")
    state = CompareState(setup, panels, sweep, heatmap, basin, tol)
    return state, reader.warnings


def _range_text(r: tuple[float, float]) -> str:
    return f"{r[0]:.6g},{r[1]:.6g}"


def to_query(state: CompareState) -> dict[str, str | list[str]]:
    """The URL query of a state: the Playground's keys for the setup, `cmp.*` for the rest.

    A `cmp.*` value is left out when `from_query` would infer the same value without it (the
    defaults depend on the chosen optimizer and axis), so links stay short and still exact.
    """
    q = setup_to_query(state.setup)
    base = CompareState()
    sw, hm, bm = state.sweep, state.heatmap, state.basin
    values_text = lambda vs: ",".join(f"{v:.6g}" for v in vs)  # noqa: E731
    candidates: list[tuple[str, str, str]] = [
        ("cmp.panels", state.panels, base.panels),
        ("cmp.sw", encode_optimizer(sw.entry), encode_optimizer(base.sweep.entry)),
        ("cmp.sw.hp", sw.hparam, _default_sweep_hparam(sw.entry.name)),
        ("cmp.sw.vals", values_text(sw.values),
         values_text(default_sweep_values(sw.entry.name, sw.hparam))),
        ("cmp.hm", encode_optimizer(hm.entry), encode_optimizer(base.heatmap.entry)),
        ("cmp.hm.x", hm.x, "learning_rate"),
        ("cmp.hm.y", hm.y, _default_y(hm.entry.name, hm.x)),
        ("cmp.hm.xr", _range_text(hm.x_range), _range_text(default_range(hm.entry.name, hm.x))),
        ("cmp.hm.yr", _range_text(hm.y_range), _range_text(default_range(hm.entry.name, hm.y))),
        ("cmp.hm.n", str(hm.resolution), str(base.heatmap.resolution)),
        ("cmp.hm.z", hm.metric, base.heatmap.metric),
        ("cmp.bm", encode_optimizer(bm.entry), encode_optimizer(base.basin.entry)),
        ("cmp.bm.n", str(bm.resolution), str(base.basin.resolution)),
        ("cmp.bm.z", bm.metric, base.basin.metric),
        ("cmp.tol", f"{state.tol:.6g}", f"{base.tol:.6g}"),
    ]
    q.update({key: value for key, value, default in candidates if value != default})
    return q


# --- runs (each one batched engine call, memoized) -------------------------------------------

# Keys are tuples of hashable values (the Setup itself among them), never a serialisation.
_PANELS: BoundedCache[tuple[Any, ...], PanelRun] = BoundedCache(32)
_GRIDS: BoundedCache[tuple[Any, ...], Any] = BoundedCache(16)  # grids hold <= 16k runs each: a few MB


def _common(setup: Setup) -> dict[str, Any]:
    """Engine keyword arguments shared by every figure of the page."""
    return dict(steps=setup.steps, seed=setup.seed, noise=setup.noise, schedule=setup.schedule,
                surface_params=dict(setup.surface_params))


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
            configs.append(RunConfig(sw.entry.name, {**sw.entry.hparams, sw.hparam: value},
                                     None, start, title))
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
    key = (setup.with_changes(focus=0, scrub=0, classroom=False, hidden=()),
                    state.panels, sweep)

    def compute() -> PanelRun:
        surface = setup.resolved_surface()
        configs, titles, colors = panel_configs(state)
        trajectories = run_batch(surface, configs, **_common(setup))
        return PanelRun(surface, tuple(trajectories), tuple(titles), tuple(colors))

    return _PANELS.get_or_compute(key, compute)


def panels_figure(run: PanelRun, surface_params: Mapping[str, float] | None = None) -> go.Figure:
    return small_multiples_figure(run.surface, list(run.trajectories), titles=list(run.titles),
                                  surface_params=surface_params, colors=list(run.colors),
                                  title=f"{run.surface.label}: same start, same steps")




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
        inside = (self.x_values.min() <= dx <= self.x_values.max()
                  and self.y_values.min() <= dy <= self.y_values.max())
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
    key = ("heatmap", setup.with_changes(optimizers=(), focus=0, scrub=0), spec.entry,
                    spec.x, spec.y, spec.x_range, spec.y_range, spec.resolution, state.tol)

    def compute() -> HeatmapResult:
        surface = setup.resolved_surface()
        xs, ys, cells = heatmap_hparams(spec)
        n = len(cells)
        padded = _pad(cells, _bucket(n))
        grid = run_grid(surface, spec.entry.name, padded, np.asarray([setup.resolved_start()]),
                        tol=state.tol, **_common(setup))
        shape = (len(ys), len(xs))
        return HeatmapResult(
            optimizer=spec.entry.name,
            fixed={k: v for k, v in spec.entry.hparams.items() if k not in (spec.x, spec.y)},
            x=spec.x, y=spec.y, x_values=xs, y_values=ys,
            final_loss=np.asarray(grid.final_loss[:n], np.float64).reshape(shape),
            steps_to_tol=np.asarray(grid.steps_to_tol[:n]).reshape(shape),
            diverged_at=np.asarray(grid.diverged_at[:n]).reshape(shape),
            f_star=minimum_loss(surface, dict(setup.surface_params)),
            tol=state.tol, runs=len(padded), steps=setup.steps,
        )

    return _GRIDS.get_or_compute(key, compute)


DIVERGED_MARKER = "#C00000"


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


def heatmap_fig(result: HeatmapResult, metric: str) -> go.Figure:
    """The sensitivity heatmap: one cell per setting, ★ at the default, diverged cells marked."""
    z, z_label, log_z, nan_label = heatmap_values(result, metric)
    name = result.optimizer
    x_sym, y_sym = hp_symbol(name, result.x), hp_symbol(name, result.y)
    fig = heatmap_figure(
        result.x_values, result.y_values, z, x_label=f"{x_sym} ({result.x})",
        y_label=f"{y_sym} ({result.y})", z_label=z_label, log_x=is_log(name, result.x),
        log_y=is_log(name, result.y), log_z=log_z, default=result.default_point(),
        title=f"{OPTIMIZERS[name].label}: " + (z_label if metric == "steps" else
                                                f"{z_label} after {result.steps} steps"),
        nan_label=nan_label,
    )
    if metric == "steps" and result.diverged.any():
        # Grey cells mean "never got there"; a red x on top says it blew up on the way.
        iy, ix = np.nonzero(result.diverged)
        fig.add_trace(go.Scatter(
            x=ix.astype(float), y=iy.astype(float), mode="markers", name="diverged",
            marker=dict(symbol="x", size=11, color=DIVERGED_MARKER,
                        line=dict(width=1, color="#ffffff")),
            hovertemplate="diverged<extra></extra>",
        ))
    return fig


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


def label_by_minima(final: np.ndarray, ok: np.ndarray, minima: np.ndarray,
                    radius: float) -> np.ndarray:
    """Index of the known minimum each run ended within `radius` of, else -1."""
    dists = np.linalg.norm(final[:, None, :] - minima[None, :, :], axis=-1)
    nearest = np.argmin(dists, axis=1)
    reached = ok & (dists[np.arange(len(final)), nearest] <= radius)
    return np.where(reached, nearest, -1)


def cluster_end_points(final: np.ndarray, ok: np.ndarray, radius: float,
                       max_clusters: int = MAX_END_POINTS) -> tuple[np.ndarray, np.ndarray]:
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
    key = ("basin", setup.with_changes(optimizers=(), start=None, focus=0, scrub=0),
                    spec.entry, spec.resolution, state.tol)

    def compute() -> BasinResult:
        surface = setup.resolved_surface()
        xs, ys, starts = basin_starts(surface, spec.resolution)
        n = len(starts)
        padded = np.concatenate([starts, np.repeat(starts[:1], _bucket(n) - n, axis=0)])
        grid: GridResult = run_grid(surface, spec.entry.name, dict(spec.entry.hparams), padded,
                                    tol=state.tol, **_common(setup))
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
            optimizer=spec.entry.name, xs=xs, ys=ys,
            final_position=final.reshape(*shape, 2),
            final_loss=np.asarray(grid.final_loss[:n], np.float64).reshape(shape),
            steps_to_tol=np.asarray(grid.steps_to_tol[:n]).reshape(shape),
            diverged_at=diverged_at.reshape(shape), labels=labels.reshape(shape),
            centers=centers, known_minima=bool(surface.minima),
            f_star=minimum_loss(surface, dict(setup.surface_params)), tol=state.tol,
            runs=len(padded),
        )

    return _GRIDS.get_or_compute(key, compute)


def basin_metric_note(result: BasinResult, metric: str) -> str | None:
    """Why a basin view falls back to another one, or None."""
    if metric == "steps" and not math.isfinite(result.f_star):
        return ("This surface has no known minimum, so 'steps to tolerance' is undefined; "
                "showing the final loss instead.")
    return None


def basin_fig(result: BasinResult, metric: str, surface: Surface,
              surface_params: Mapping[str, float] | None = None,
              start: tuple[float, float] | None = None) -> go.Figure:
    """The basin map: which minimum each start reaches, how fast, or how low it gets."""
    label = OPTIMIZERS[result.optimizer].label
    if metric == "steps" and not math.isfinite(result.f_star):
        metric = "loss"
    if metric == "minimum":
        # Without known minima the centres are where runs settled: the legend says so.
        known = result.known_minima
        return basin_figure(result.xs, result.ys, labels=result.labels, minima=result.centers,
                            surface=surface, surface_params=surface_params, start=start,
                            title=f"{label}: where each start point ends up",
                            none_label="reaches no minimum / diverged",
                            reaches_label="reaches minimum" if known else "ends near point",
                            minima_name="known minimum" if known else "typical end point")
    if metric == "steps":
        steps = np.where(result.steps_to_tol >= 0, result.steps_to_tol, np.nan).astype(float)
        return basin_figure(result.xs, result.ys, steps=steps, minima=result.centers
                            if result.known_minima else (), surface=surface,
                            surface_params=surface_params, start=start,
                            title=f"{label}: steps until loss − f* ≤ {result.tol:g}")
    # Final loss on log colours, drawn with the steps map's machinery under its own names.
    floor = result.f_star if math.isfinite(result.f_star) else np.nanmin(
        np.where(result.diverged_at >= 0, np.nan, result.final_loss))
    gap = np.where(result.diverged_at >= 0, np.nan, result.final_loss - floor)
    with np.errstate(all="ignore"):
        z = np.log10(np.maximum(gap, 0.0) + 1e-12)
    what = "final loss − f*" if math.isfinite(result.f_star) else "final loss − lowest"
    return basin_figure(result.xs, result.ys, steps=z, minima=result.centers
                        if result.known_minima else (), surface=surface,
                        surface_params=surface_params, start=start,
                        title=f"{label}: how low each start point gets", never_label="diverged",
                        value_title=f"log₁₀({what})", value_hover=f"log₁₀({what}) = %{{z:.2f}}")


def best_cell(result: HeatmapResult) -> tuple[float, float] | None:
    """(x, y) of the fastest cell (fewest steps to tolerance); if none gets there, the one with
    the lowest final loss. None when every run diverged.

    Speed, not the lowest loss, picks the winner: many cells end at the minimum to float32
    precision, and the smallest of those numbers is noise.
    """
    steps = heatmap_values(result, "steps")[0]
    z = steps if np.isfinite(steps).any() else heatmap_values(result, "loss")[0]
    if not np.isfinite(z).any():
        return None
    i, j = np.unravel_index(int(np.nanargmin(z)), z.shape)
    return float(result.x_values[j]), float(result.y_values[i])


def playground_query(setup: Setup, entries: Sequence[OptimizerEntry]) -> dict[str, str | list[str]]:
    """A Playground link for these optimizers on this page's surface and run settings."""
    return setup_to_query(setup.with_changes(optimizers=tuple(entries)[:MAX_OPTIMIZERS], focus=0,
                                             scrub=0, classroom=False, hidden=()))


# --- data downloads ---------------------------------------------------------------------------

def _num(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def _int_or_none(value: int) -> int | None:
    return int(value) if int(value) >= 0 else None


def heatmap_rows(result: HeatmapResult) -> list[dict[str, Any]]:
    rows = []
    for i, y in enumerate(result.y_values):
        for j, x in enumerate(result.x_values):
            rows.append({
                result.x: float(x), result.y: float(y),
                "final_loss": _num(result.final_loss[i, j]),
                "steps_to_tol": _int_or_none(result.steps_to_tol[i, j]),
                "diverged_at": _int_or_none(result.diverged_at[i, j]),
            })
    return rows


def basin_rows(result: BasinResult) -> list[dict[str, Any]]:
    rows = []
    for i, y in enumerate(result.ys):
        for j, x in enumerate(result.xs):
            end = result.final_position[i, j]
            rows.append({
                "start_x": float(x), "start_y": float(y), "end_x": _num(end[0]),
                "end_y": _num(end[1]), "final_loss": _num(result.final_loss[i, j]),
                "steps_to_tol": _int_or_none(result.steps_to_tol[i, j]),
                "diverged_at": _int_or_none(result.diverged_at[i, j]),
                "reaches": _int_or_none(result.labels[i, j]),
            })
    return rows


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header; empty cells for 'none' (never reached, did not diverge, NaN)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def heatmap_json(result: HeatmapResult, state: CompareState) -> str:
    return json.dumps({
        "kind": "sensitivity-heatmap", "surface": state.setup.surface,
        "steps": state.setup.steps, "start": list(state.setup.resolved_start()),
        "optimizer": result.optimizer, "fixed_hparams": dict(result.fixed), "tol": result.tol,
        "x": {"name": result.x, "values": result.x_values.tolist()},
        "y": {"name": result.y, "values": result.y_values.tolist()},
        "cells": heatmap_rows(result),
    }, indent=1)


def basin_json(result: BasinResult, state: CompareState) -> str:
    return json.dumps({
        "kind": "basin-map", "surface": state.setup.surface, "steps": state.setup.steps,
        "optimizer": result.optimizer, "hparams": dict(state.basin.entry.hparams),
        "tol": result.tol, "reach_radius": reach_radius(state.setup.resolved_surface()),
        "targets": result.centers.tolist(), "targets_are_known_minima": result.known_minima,
        "cells": basin_rows(result),
    }, indent=1)

