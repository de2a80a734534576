"""Live scrub: one optimizer's paths for every stop of one hyperparameter's slider, in one call.

Two uses on the Playground, both with no round trip to the server while the thumb moves:
- the map's own "Scrub live" slider (≥ 41 values; frames shipped with the map): releasing its
  thumb sets the real slider (and the link) to that value;
- the open card's own sliders (`every_stop`: each value the card's slider can take): the map
  redraws that optimizer's path for the value under the thumb at once, and the rerun that the
  release starts confirms it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, replace

import numpy as np

from optim_core import OPTIMIZERS
from optim_core.engine import RunConfig
from optim_core.trajectory import Trajectory
from playground.cache import BoundedCache
from playground.compute import entry_label, run_configs
from playground.setup import Setup, linear_step, linear_stops, log_slider_options, log_stops, widget_range
from viz.scrub import preview_json

MIN_SCRUB_VALUES = 41  # the floor: at least this many values across the slider
MAX_CACHED_SCRUBS = 16
MAX_PREVIEW_BYTES = 96 * 2**20  # the card sliders' stops kept for every session of the process
# The batch is padded to one of these sizes (the engine compiles once per batch size): moving a
# slider never compiles, whatever number of stops it has.
BATCH_SIZES = (16, 32, 64, 128, 256)


@dataclass(frozen=True)
class ScrubRun:
    """The scrubbed optimizer's run at every value, in slider order."""

    entry_index: int
    hparam: str
    values: tuple[float, ...]
    current: int  # index of the value in use
    trajectories: tuple[Trajectory, ...]
    key: Hashable  # equal keys, equal runs (the setup with the scrubbed value left out)


def scrubbable(name: str) -> list[str]:
    """The hyperparameters of an optimizer that a live scrub can move (every number; not switches)."""
    return [h.name for h in OPTIMIZERS[name].hyperparams if h.kind != "bool"]


def scrub_values(name: str, hparam: str, current: float) -> tuple[tuple[float, ...], int]:
    """The values a scrub runs: the slider's own stops (log sliders) or every 5th step of a
    linear slider — at least MIN_SCRUB_VALUES across its range — and the value in use, so that
    the scrub starts exactly where the page is. Returns (values, index of `current`)."""
    h = OPTIMIZERS[name].hyperparam(hparam)
    if h.log:
        stops = log_stops(h.low, h.high)
        if len(stops) < MIN_SCRUB_VALUES:
            stops = sorted({float(f"{v:.3g}") for v in np.geomspace(h.low, h.high, MIN_SCRUB_VALUES)})
    else:
        step = linear_step(h)
        n = max(MIN_SCRUB_VALUES, 2)
        stops = [float(f"{v:.6g}") for v in np.linspace(h.low, h.high, n)]
        # On the real slider's steps, never past its ends (0.999 must not round up to 1).
        stops = sorted(
            {min(max(round(v / step) * step, h.low), h.high) for v in stops} | {float(h.low), float(h.high)}
        )
        stops = [float(f"{v:.6g}") for v in stops]
    values = sorted(set(stops) | {float(current)})
    return tuple(values), values.index(float(current))


def slider_stops(name: str, hparam: str, current: float) -> tuple[tuple[float, ...], int]:
    """Every value the card's own slider for `hparam` can take, in slider order, and the
    index the slider shows for `current`: a log slider's options (its stops and the value in
    use), or each step of a linear slider (and the value in use, if it is not on a step)."""
    h = OPTIMIZERS[name].hyperparam(hparam)
    if h.log:
        values = log_slider_options(h.low, h.high, current)
        index = min(
            range(len(values)), key=lambda i: abs(math.log10(values[i]) - math.log10(max(current, 1e-300)))
        )
        return tuple(values), index
    values = sorted(set(linear_stops(h)) | ({current} if h.low <= current <= h.high else set()))
    index = min(range(len(values)), key=lambda i: abs(values[i] - current))
    return tuple(values), index


def run_scrub(setup: Setup, entry_index: int, hparam: str, every_stop: bool = False) -> ScrubRun:
    """Entry `entry_index` of a validated setup run at every scrub value of `hparam` (with
    `every_stop`: at every value its card's slider can take), as one batched engine call (one
    vmapped scan over the values). Cached by the setup with the scrubbed value left out:
    releasing the thumb on a stop reuses the same runs."""
    entry = setup.optimizers[entry_index]
    if hparam not in scrubbable(entry.name):
        raise ValueError(f"{entry.name} has no scrubbable hyperparameter {hparam!r}")
    current = float(entry.hparams[hparam])
    values, index = (slider_stops if every_stop else scrub_values)(entry.name, hparam, current)
    h = OPTIMIZERS[entry.name].hyperparam(hparam)
    neutral = setup.with_changes(
        optimizers=tuple(
            e if i != entry_index else replace(e, hparams={**dict(e.hparams), hparam: float(h.low)})
            for i, e in enumerate(setup.optimizers)
        ),
        focus=0,
        scrub=0,
        classroom=False,
        hidden=(),
    )
    key = (neutral, entry_index, hparam, values)
    runs = SCRUBS.get_or_compute(key, lambda: _run(neutral, entry_index, hparam, values))
    return ScrubRun(entry_index, hparam, values, index, runs, key)


SCRUBS: BoundedCache[tuple[Setup, int, str, tuple[float, ...]], tuple[Trajectory, ...]] = BoundedCache(
    MAX_CACHED_SCRUBS
)


def _run(setup: Setup, entry_index: int, hparam: str, values: tuple[float, ...]) -> tuple[Trajectory, ...]:
    entry = setup.optimizers[entry_index]
    start = setup.resolved_start()
    label = entry_label(setup, entry_index)
    low, high = widget_range(OPTIMIZERS[entry.name].hyperparam(hparam))
    configs = [
        RunConfig(
            entry.name, {**dict(entry.hparams), hparam: min(max(v, low), high)}, entry.preset, start, label
        )
        for v in values
    ]
    size = next((n for n in BATCH_SIZES if n >= len(configs)), len(configs))
    padded = [*configs, *[configs[-1]] * (size - len(configs))]
    return tuple(run_configs(setup, padded, internals=False)[: len(configs)])


def card_preview(setup: Setup, entry_index: int, hparam: str, color: str) -> bytes:
    """What the map needs to follow the open card's slider for `hparam` in the browser: entry
    `entry_index`'s path at every stop of that slider (`viz.scrub.preview_json`), cached with
    the runs."""
    run = run_scrub(setup, entry_index, hparam, every_stop=True)
    domain = setup.resolved_surface().domain
    return PREVIEWS.get_or_compute(
        (run.key, color), lambda: preview_json(run.values, run.trajectories, color, entry_index, domain)
    )


PREVIEWS: BoundedCache[tuple[Hashable, str], bytes] = BoundedCache(
    4 * MAX_CACHED_SCRUBS, max_bytes=MAX_PREVIEW_BYTES, size_of=len
)
