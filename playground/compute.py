"""Setup -> trajectories and metrics, cached so a rerun with the same setup costs nothing.

The validated, hashable Setup is the cache key (playground.cache.BoundedCache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from optim_core import setting_warnings
from optim_core.engine import RunConfig, run_batch
from optim_core.metrics import Metrics, compute_metrics
from optim_core.trajectory import Trajectory
from playground.cache import BoundedCache
from playground.setup import Setup
from surfaces import Surface

MAX_CACHED_RUNS = 64


@dataclass(frozen=True)
class PlaygroundRun:
    surface: Surface
    trajectories: tuple[Trajectory, ...]
    metrics: tuple[Metrics, ...]


def entry_label(setup: Setup, index: int) -> str:
    """A display label; numbered when the same optimizer appears twice."""
    from optim_core import OPTIMIZERS

    entry = setup.optimizers[index]
    label = OPTIMIZERS[entry.name].label
    if sum(e.name == entry.name for e in setup.optimizers) > 1:
        label += f" #{sum(e.name == entry.name for e in setup.optimizers[: index + 1])}"
    return label


def run_setup(setup: Setup) -> PlaygroundRun:
    """Every optimizer of the setup in one batched call, cached by the setup itself.

    `setup` should come out of `validate` (every page and the CLI validate before running).
    The fields that only steer the display (focus, scrub, classroom, hidden) are not part of
    the key.
    """
    key = setup.with_changes(focus=0, scrub=0, classroom=False, hidden=())
    return RUNS.get_or_compute(key, lambda: _run(key))


RUNS: BoundedCache[Setup, PlaygroundRun] = BoundedCache(MAX_CACHED_RUNS)


def _run(setup: Setup) -> PlaygroundRun:
    surface = setup.resolved_surface()
    start = setup.resolved_start()
    configs = [
        RunConfig(e.name, dict(e.hparams), e.preset, start, entry_label(setup, i))
        for i, e in enumerate(setup.optimizers)
    ]
    trajectories = run_configs(setup, configs)
    metrics = tuple(
        compute_metrics(t, surface, surface_params=dict(setup.surface_params)) for t in trajectories
    )
    return PlaygroundRun(surface, tuple(trajectories), metrics)


def run_configs(setup: Setup, configs: Sequence[RunConfig], internals: bool = True) -> list[Trajectory]:
    """`configs` as one batched engine call on the setup's surface, with its steps, seed, noise,
    schedule and surface parameters (what every run of a setup shares)."""
    return run_batch(
        setup.resolved_surface(),
        configs,
        steps=setup.steps,
        seed=setup.seed,
        noise=setup.noise,
        schedule=setup.schedule,
        surface_params=dict(setup.surface_params),
        internals=internals,
    )


class Runs(Protocol):
    """Runs on one surface: a PlaygroundRun, Compare's panels."""

    @property
    def surface(self) -> Surface: ...

    @property
    def trajectories(self) -> Sequence[Trajectory]: ...


def divergence_messages(run: Runs) -> list[str]:
    """Plain sentences for runs that blew up, with the usual remedy (the one explanation of a
    divergence: the Playground, Compare and the CLI all say this)."""
    messages = []
    for traj in run.trajectories:
        if traj.diverged_at is None:
            continue
        if traj.diverged_at == 0:
            messages.append(f"{traj.label} cannot start here: the loss is not finite at the start.")
        elif not run.surface.minima:
            # No minimum to reach: running off downhill is escaping, not a failure.
            messages.append(
                f"{traj.label} escaped downhill and left the picture at step "
                f"{traj.diverged_at}: this surface falls forever."
            )
        elif causes := setting_warnings(traj.optimizer, traj.hparams):
            messages.append(f"{traj.label} diverged at step {traj.diverged_at}: {causes[0]}")
        else:
            messages.append(f"{traj.label} diverged at step {traj.diverged_at}: try a smaller α.")
    return messages
