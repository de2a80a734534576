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
from playground.numbers import format_number
from playground.setup import Setup
from surfaces import Surface

MAX_CACHED_RUNS = 64


@dataclass(frozen=True)
class PlaygroundRun:
    surface: Surface
    trajectories: tuple[Trajectory, ...]
    metrics: tuple[Metrics, ...]


MAX_LABEL_CHARS = 40

# How a switch reads in a label, (on, off); other switches read "name" / "no name".
_SWITCH_WORDS: dict[str, tuple[str, str]] = {
    "bias_correction": ("bias correction", "no bias correction"),
    "nesterov": ("Nesterov", "no Nesterov"),
    "centered": ("centered", "not centered"),
    "eps_inside": ("ε inside √", "ε outside √"),
    "eps_outside": ("ε outside √", "ε inside √"),
    "eps_hat": ("ε-hat", "no ε-hat"),
    "max_raw": ("max of raw v", "max of v̂"),
}
_PRESET_WORDS = {"optax": "optax", "keras": "Keras", "pytorch": "PyTorch"}


def _setting_text(optimizer: str, name: str, value: float) -> str:
    from optim_core import OPTIMIZERS

    h = OPTIMIZERS[optimizer].hyperparam(name)
    if h.kind == "bool":
        on, off = _SWITCH_WORDS.get(name, (name.replace("_", " "), "no " + name.replace("_", " ")))
        return on if value else off
    return f"{h.text_symbol}={format_number(value, 3)}"


def _differences(setup: Setup, index: int) -> list[str]:
    """The settings that set entry `index` apart from the other entries of the same optimizer:
    each one whose values differ, beyond what their presets make differ (shown on the entries off
    their preset's default when some entry keeps the default, on every entry otherwise)."""
    from optim_core import OPTIMIZERS, resolve_hparams

    entry = setup.optimizers[index]
    same = [e for e in setup.optimizers if e.name == entry.name]
    parts: list[str] = []
    defaults = [resolve_hparams(e.name, None, e.preset) for e in same]
    own_default = resolve_hparams(entry.name, None, entry.preset)
    for h in OPTIMIZERS[entry.name].hyperparams:
        values = [e.hparams.get(h.name, d.get(h.name)) for e, d in zip(same, defaults, strict=True)]
        off_default = [v != d.get(h.name) for v, d in zip(values, defaults, strict=True)]
        if len(set(values)) < 2 or not any(off_default):
            continue  # the same everywhere, or differing only as the presets differ
        value = entry.hparams.get(h.name, own_default.get(h.name))
        if value is None or (not all(off_default) and value == own_default.get(h.name)):
            continue
        parts.append(_setting_text(entry.name, h.name, float(value)))
    return parts


def _with_parts(base: str, preset: str | None, parts: list[str]) -> str:
    """`base` with the preset in its brackets and `parts` after it, cut to MAX_LABEL_CHARS."""
    label = base
    if preset is not None:
        label = f"{base[:-1]}, {preset})" if base.endswith(")") else f"{base} ({preset})"
    for k, part in enumerate(parts):
        switch = not any(c in part for c in "=")
        sep = ", " if k or switch else " "
        room = MAX_LABEL_CHARS - (0 if k == len(parts) - 1 else len(", …"))
        if len(label) + len(sep) + len(part) > room:
            return label + (", …" if k else " …")
        label += sep + part
    return label


def entry_label(setup: Setup, index: int) -> str:
    """A display label, unique in the setup: the optimizer's name, and when the same optimizer
    appears more than once, what sets this entry apart ("Adam α=0.02", "Adam (Keras)",
    "Adam α=0.001, no bias correction"); "#2" only for an exact copy of an earlier entry.
    At most about MAX_LABEL_CHARS characters (the last settings give way to "…")."""
    from optim_core import OPTIMIZERS

    entry = setup.optimizers[index]
    base = OPTIMIZERS[entry.name].label
    same = [i for i, e in enumerate(setup.optimizers) if e.name == entry.name]
    if len(same) < 2:
        return base
    presets = len({setup.optimizers[i].preset for i in same}) > 1

    def raw(i: int) -> str:
        preset = setup.optimizers[i].preset
        return _with_parts(
            base, _PRESET_WORDS.get(preset, preset) if presets else None, _differences(setup, i)
        )

    label = raw(index)
    copies = sum(raw(i) == label for i in same if i < index)
    return label if not copies else f"{label} #{copies + 1}"


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
