"""Live scrub: one optimizer's paths for every stop of one hyperparameter's slider, in one call.

The Playground ships these paths once with the map; the browser then shows the path of the
value under the slider's thumb while it moves, with no round trip to the server. Releasing the
thumb sets the real slider (and the link) to that value.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

import numpy as np

from optim_core import OPTIMIZERS
from optim_core.engine import RunConfig
from optim_core.trajectory import Trajectory
from playground.cache import BoundedCache
from playground.compute import entry_label, run_configs
from playground.setup import Setup, linear_step, log_stops

MIN_SCRUB_VALUES = 41  # the floor: at least this many values across the slider
MAX_CACHED_SCRUBS = 16


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


def run_scrub(setup: Setup, entry_index: int, hparam: str) -> ScrubRun:
    """Entry `entry_index` of a validated setup run at every scrub value of `hparam`, as one
    batched engine call (one vmapped scan over the values). Cached by the setup with the
    scrubbed value left out: releasing the thumb on a stop reuses the same runs."""
    entry = setup.optimizers[entry_index]
    if hparam not in scrubbable(entry.name):
        raise ValueError(f"{entry.name} has no scrubbable hyperparameter {hparam!r}")
    current = float(entry.hparams[hparam])
    values, index = scrub_values(entry.name, hparam, current)
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
    configs = [
        RunConfig(entry.name, {**dict(entry.hparams), hparam: v}, entry.preset, start, label) for v in values
    ]
    return tuple(run_configs(setup, configs, internals=False))
