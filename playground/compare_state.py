"""The Compare page's state and its codec: caps and choices, the hyperparameter helpers, the
specs of each figure and `CompareState`, read from a link (`from_query`, every value untrusted:
bad values fall back with a warning, every size capped) and written back (`to_query`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optim_core import OPTIMIZERS, resolve_hparams
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

# --- caps and choices -------------------------------------------------------------------------

MAX_PANELS = MAX_OPTIMIZERS  # panels per small-multiples figure
MAX_SWEEP_VALUES = MAX_PANELS
MIN_HEATMAP_RES, MAX_HEATMAP_RES = 3, 40  # cells per heatmap axis
MIN_BASIN_RES, MAX_BASIN_RES = 8, 128  # start points per basin-map axis
# Batch sizes are padded up to one of these (static under jit: one compile per bucket).
GRID_BUCKETS: tuple[int, ...] = (64, 256, 1024, 1600, 4096, 9216, 16384)
# The tolerance slider's stops (one per decade); a link's value is read to the nearest one.
TOL_OPTIONS: tuple[float, ...] = tuple(10.0**-k for k in range(6, -1, -1))
TOL_RANGE = (TOL_OPTIONS[0], TOL_OPTIONS[-1])
DEFAULT_TOL = 1e-3
# A start "reaches" a minimum when it ends within this fraction of the domain's larger side.
REACH_FRACTION = 0.03
MAX_END_POINTS = 8  # end-point clusters named in a basin map of a surface without known minima

PANEL_MODES: dict[str, str] = {
    "optimizers": "one panel per optimizer",
    "sweep": "one optimizer, one hyperparameter swept",
}
HEATMAP_METRICS: dict[str, str] = {"loss": "final loss", "steps": "steps to tolerance"}
BASIN_METRICS: dict[str, str] = {
    "minimum": "which minimum it reaches",
    "steps": "steps to tolerance",
    "loss": "final loss",
}

DEFAULT_SURFACE = "himmelblau"  # four minima: the basin map has something to show
# Grid ranges that show something on most surfaces (the sliders' full ranges are too wide).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "learning_rate": (1e-3, 1.0),
    "b1": (0.0, 0.99),
    "b2": (0.9, 0.9999),
    "eps": (1e-10, 1.0),
    "momentum": (0.0, 0.99),
    "decay": (0.5, 0.999),
    "rho": (0.5, 0.999),
}
DEFAULT_SWEEPS: dict[str, tuple[float, ...]] = {
    "b1": (0.0, 0.5, 0.9, 0.99),
    "b2": (0.5, 0.9, 0.99, 0.999),
    "eps": (1e-8, 1e-4, 1e-2, 1.0),
    "learning_rate": (0.003, 0.01, 0.03, 0.1),
    "momentum": (0.0, 0.5, 0.9, 0.99),
}


# --- hyperparameter helpers -------------------------------------------------------------------


def hp_symbol(optimizer: str, name: str) -> str:
    """A plain-text symbol for a hyperparameter (plot titles cannot use LaTeX offline)."""
    return OPTIMIZERS[optimizer].hyperparam(name).text_symbol


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


def _read_entry(
    raw: str | None, what: str, default: OptimizerEntry, reader: Reader, allowed: Sequence[str] | None = None
) -> OptimizerEntry:
    if raw is None:
        return default
    before = len(reader.warnings)
    entry = _parse_entry(raw, reader, allowed, default)
    reader.warnings[before:] = [f"{what}: {w}" for w in reader.warnings[before:]]
    return entry if entry is not None else default


def _parse_entry(
    raw: str, reader: Reader, allowed: Sequence[str] | None, default: OptimizerEntry
) -> OptimizerEntry | None:
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


def _read_range(raw: str | None, what: str, optimizer: str, name: str, reader: Reader) -> tuple[float, float]:
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
        reader.warn(
            f"the same optimizer appears twice; kept the first of each, dropped "
            f"{len(names) - len(set(names))} (use the sweep mode to compare settings of "
            "one optimizer)."
        )
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
        sw_hp = reader.choice(
            get("cmp.sw.hp"), "swept hyperparameter", sw_hp, sweepable_hparams(sw_entry.name)
        )
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
    hm_entry = _read_entry(
        get("cmp.hm"), "heatmap optimizer", base.heatmap.entry, reader, allowed=heatmap_optimizers()
    )
    axes = grid_hparams(hm_entry.name)
    hm_x = reader.choice(get_or("cmp.hm.x", "learning_rate"), "heatmap x axis", "learning_rate", axes)
    y_default = _default_y(hm_entry.name, hm_x)
    hm_y = reader.choice(get_or("cmp.hm.y", y_default), "heatmap y axis", y_default, axes)
    if hm_y == hm_x:
        reader.warn("the heatmap needs two different hyperparameters; changed the y axis.")
        hm_y = next(a for a in axes if a != hm_x)
    heatmap = HeatmapSpec(
        entry=hm_entry,
        x=hm_x,
        y=hm_y,
        x_range=_read_range(get("cmp.hm.xr"), "heatmap x", hm_entry.name, hm_x, reader),
        y_range=_read_range(get("cmp.hm.yr"), "heatmap y", hm_entry.name, hm_y, reader),
        resolution=reader.integer(
            get_or("cmp.hm.n", str(base.heatmap.resolution)),
            "heatmap resolution",
            base.heatmap.resolution,
            MIN_HEATMAP_RES,
            MAX_HEATMAP_RES,
        ),
        metric=reader.choice(
            get_or("cmp.hm.z", base.heatmap.metric),
            "heatmap value",
            base.heatmap.metric,
            tuple(HEATMAP_METRICS),
        ),
    )

    bm_entry = _read_entry(get("cmp.bm"), "basin optimizer", base.basin.entry, reader)
    basin = BasinSpec(
        entry=bm_entry,
        resolution=reader.integer(
            get_or("cmp.bm.n", str(base.basin.resolution)),
            "basin resolution",
            base.basin.resolution,
            MIN_BASIN_RES,
            MAX_BASIN_RES,
        ),
        metric=reader.choice(
            get_or("cmp.bm.z", base.basin.metric), "basin value", base.basin.metric, tuple(BASIN_METRICS)
        ),
    )
    tol = base.tol
    if get("cmp.tol") is not None:
        tol = reader.number(get("cmp.tol"), "tolerance", base.tol, *TOL_RANGE)
        stop = nearest_tol(tol)
        if stop != tol:
            reader.warn(f"tolerance: {tol:g} is not one of the slider's stops; using {stop:g}.")
            tol = stop
    known = {
        "cmp.panels",
        "cmp.sw",
        "cmp.sw.hp",
        "cmp.sw.vals",
        "cmp.hm",
        "cmp.hm.x",
        "cmp.hm.y",
        "cmp.hm.xr",
        "cmp.hm.yr",
        "cmp.hm.n",
        "cmp.hm.z",
        "cmp.bm",
        "cmp.bm.n",
        "cmp.bm.z",
        "cmp.tol",
        "cmp.tab",
    }
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
        ("cmp.sw.vals", values_text(sw.values), values_text(default_sweep_values(sw.entry.name, sw.hparam))),
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


def playground_query(setup: Setup, entries: Sequence[OptimizerEntry]) -> dict[str, str | list[str]]:
    """A Playground link for these optimizers on this page's surface and run settings."""
    return setup_to_query(
        setup.with_changes(
            optimizers=tuple(entries)[:MAX_OPTIMIZERS], focus=0, scrub=0, classroom=False, hidden=()
        )
    )
