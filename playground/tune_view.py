"""The "tune each optimizer" action of the Playground and Compare pages, without Streamlit.

From a validated Setup: every optimizer entry is tuned (`optim_core.tuning.tune`: ≥ 32
log-spaced learning rates, optionally β₁ / μ) on the setup's surface, start, steps, noise, seed
and schedule; the result is a tuned-vs-default table, the sentence stating the criterion, and
the Setup with the tuned values applied. Results are cached by the setup itself.

    view = tune_setup(setup)            # one batched engine call (two if an optimizer repeats)
    view.rows                           # TuneRow per entry, in entry order
    view.criterion                      # the criterion, as one sentence for the page
    view.tuned_setup                    # the setup with every entry's tuned α (and β₁ / μ)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from optim_core import OPTIMIZERS
from optim_core.metrics import minimum_loss
from optim_core.tuning import CRITERION, OptimizerTuning, Score, TuningResult, scores, tune
from playground.cache import BoundedCache
from playground.compute import entry_label, run_setup
from playground.setup import Setup

__all__ = [
    "DEFAULT_TOL",
    "TuneRow",
    "TuneView",
    "criterion_sentence",
    "display_rows",
    "tune_setup",
]

DEFAULT_TOL = 1e-3  # the Compare page's default "steps to tolerance" tolerance
MAX_CACHED_TUNINGS = 16


@dataclass(frozen=True)
class TuneRow:
    """One optimizer entry: default vs tuned settings and outcomes, as the criterion reads them."""

    label: str  # the entry's label on the page ("Adam", "Adam #2")
    name: str  # registry name
    alpha_default: float
    alpha_tuned: float
    second: str | None  # "b1" / "momentum" when that axis was tuned, else None
    second_default: float | None
    second_tuned: float | None
    measure: str  # "steps to tolerance" (some run settled) or "final loss" (none did)
    default_score: Score
    tuned_score: Score
    chosen_from: str  # "grid", or "default" when no grid point beat the untuned settings

    @property
    def default_outcome(self) -> str:
        return outcome(self.default_score)

    @property
    def tuned_outcome(self) -> str:
        return outcome(self.tuned_score)

    @property
    def gain(self) -> str:
        """How much better the tuned run is, in the row's measure ("4.2× fewer steps")."""
        d, t = self.default_score, self.tuned_score
        if self.chosen_from == "default":
            return "default kept (already best)"
        if d.diverged and not t.diverged:
            return "default diverged"
        if self.measure == "steps to tolerance":
            if d.steps_to_tol is None:
                return "default never settles"
            if t.steps_to_tol is not None and t.steps_to_tol > 0:
                ratio = d.steps_to_tol / t.steps_to_tol
                return "same" if ratio == 1 else f"{ratio:.3g}× fewer steps"
            return "same"
        if math.isfinite(d.final_loss) and math.isfinite(t.final_loss) and d.final_loss != t.final_loss:
            return f"final loss {d.final_loss - t.final_loss:.3g} lower"
        return "same"


@dataclass(frozen=True, eq=False)
class TuneView:
    """Everything the tuning panel shows, for one setup."""

    setup: Setup  # the setup that was tuned (as passed)
    tuned_setup: Setup  # the same setup with each entry's tuned values
    rows: tuple[TuneRow, ...]
    tunings: tuple[OptimizerTuning, ...]  # per entry, in entry order (the curves)
    labels: tuple[str, ...]
    results: tuple[TuningResult, ...]  # the engine calls (one unless an optimizer repeats)
    criterion: str
    tol: float
    f_star: float  # the surface's lowest known minimum (NaN if none)
    runs: int  # configurations run in total
    second: bool  # β₁ / μ were tuned too
    seconds: float = math.nan  # wall time of the engine call(s) when first computed

    @property
    def changed(self) -> bool:
        """True when applying would change anything."""
        return self.tuned_setup.optimizers != self.setup.optimizers


def outcome(score: Score) -> str:
    """A short cell: "settles at step 87", "never settles (loss 0.0123)", "diverged at step 4"."""
    if score.diverged:
        return f"diverged at step {score.diverged_at}"
    if score.steps_to_tol is not None:
        return f"settles at step {score.steps_to_tol}"
    return f"never settles (loss {score.final_loss:.3g})"


def criterion_sentence(tol: float, steps: int, alphas: int, second: bool) -> str:
    """What was run and how the winner was picked, as one paragraph for the page."""
    also = " (each with β₁ / μ ∈ {0, 0.5, 0.8, 0.9, 0.95, 0.99})" if second else ""
    return (
        f"Each optimizer ran from the same start for {steps} steps with {alphas} log-spaced "
        f"learning rates α{also}. How the best is picked: {CRITERION} "
        f"Tolerance: loss − f* ≤ {tol:g}."
    )


def _rounds(names: Sequence[str]) -> list[list[int]]:
    """Entry indices split into rounds with distinct optimizer names (tune() tunes each name
    once per call): the first Adam in round 0, a second Adam in round 1, ..."""
    rounds: list[list[int]] = []
    for i, name in enumerate(names):
        for r in rounds:
            if all(names[j] != name for j in r):
                r.append(i)
                break
        else:
            rounds.append([i])
    return rounds


def _key(setup: Setup) -> Setup:
    return setup.with_changes(focus=0, scrub=0, classroom=False, hidden=())


_CACHE: BoundedCache[tuple[Setup, bool, float], TuneView] = BoundedCache(MAX_CACHED_TUNINGS)


def tune_setup(setup: Setup, second: bool = False, tol: float = DEFAULT_TOL) -> TuneView:
    """Tune every optimizer entry of a validated `setup` (cached by the setup, `second`, `tol`).

    `second`: also tune β₁ (Adam family, Lion) or μ (momentum, Nesterov, RMSprop) over
    `optim_core.tuning.DEFAULT_SECOND_VALUES`.
    """
    if not setup.optimizers:
        raise ValueError("the setup has no optimizer to tune")
    key = (_key(setup), bool(second), float(tol))
    view = _CACHE.get_or_compute(key, lambda: _tune(key[0], bool(second), float(tol)))
    if view.setup != setup:  # same key, display fields differ: keep them in the tuned setup
        view = _rebased(view, setup)
    return view


def _rebased(view: TuneView, setup: Setup) -> TuneView:
    return TuneView(
        setup=setup,
        tuned_setup=setup.with_changes(optimizers=view.tuned_setup.optimizers),
        rows=view.rows,
        tunings=view.tunings,
        labels=view.labels,
        results=view.results,
        criterion=view.criterion,
        tol=view.tol,
        f_star=view.f_star,
        runs=view.runs,
        second=view.second,
        seconds=view.seconds,
    )


def _tune(setup: Setup, second: bool, tol: float) -> TuneView:
    surface = setup.resolved_surface()
    params: Mapping[str, float] = dict(setup.surface_params)
    entries = setup.optimizers
    tunings: list[OptimizerTuning | None] = [None] * len(entries)
    results = []
    started = time.perf_counter()
    for indices in _rounds([e.name for e in entries]):
        result = tune(
            surface,
            [entries[i] for i in indices],
            steps=setup.steps,
            start=setup.resolved_start(),
            second=second,
            seed=setup.seed,
            noise=setup.noise,
            schedule=setup.schedule,
            surface_params=params,
            tol=tol,
        )
        results.append(result)
        for i, t in zip(indices, result.optimizers, strict=True):
            tunings[i] = t
    seconds = time.perf_counter() - started
    done = [t for t in tunings if t is not None]
    assert len(done) == len(entries)
    done = _confirmed(setup, done, tol)
    labels = tuple(entry_label(setup, i) for i in range(len(entries)))
    rows = tuple(_row(label, t) for label, t in zip(labels, done, strict=True))
    tuned_setup = setup.with_changes(optimizers=tuple(t.tuned for t in done))
    alphas = max(len(t.alphas) for t in done)
    return TuneView(
        setup=setup,
        tuned_setup=tuned_setup,
        rows=rows,
        tunings=tuple(done),
        labels=labels,
        results=tuple(results),
        criterion=criterion_sentence(tol, setup.steps, alphas, second),
        tol=tol,
        f_star=minimum_loss(surface, dict(params)),
        runs=sum(r.runs for r in results),
        second=second,
        seconds=seconds,
    )


def _confirmed(setup: Setup, done: list[OptimizerTuning], tol: float) -> list[OptimizerTuning]:
    """The tunings as Apply will show them: both scores measured on the Playground's own runs of
    the untuned and the tuned setup. A grid point where float32 rounding decides between a calm
    and a chaotic path (the grid and the Playground batch their runs differently) can measure
    worse there than the default: that optimizer then keeps its default."""
    surface = setup.resolved_surface()
    f_star = minimum_loss(surface, dict(setup.surface_params))
    tuned_setup = setup.with_changes(optimizers=tuple(t.tuned for t in done))
    before = scores(surface, run_setup(setup).trajectories, f_star, tol)
    after = scores(surface, run_setup(tuned_setup).trajectories, f_star, tol)
    out = []
    for t, d, b in zip(done, before, after, strict=True):
        if t.chosen_from == "grid" and b.key() > d.key():
            out.append(replace(t, tuned=t.default, tuned_score=d, default_score=d, chosen_from="default"))
        else:
            out.append(replace(t, default_score=d, tuned_score=d if t.chosen_from == "default" else b))
    return out


def _row(label: str, t: OptimizerTuning) -> TuneRow:
    d, b = t.default.resolved(), t.tuned.resolved()
    reached = t.tuned_score.reached or t.default_score.reached
    return TuneRow(
        label=label,
        name=t.name,
        alpha_default=float(d["learning_rate"]),
        alpha_tuned=float(b["learning_rate"]),
        second=t.second,
        second_default=None if t.second is None else float(d[t.second]),
        second_tuned=None if t.second is None else float(b[t.second]),
        measure="steps to tolerance" if reached else "final loss",
        default_score=t.default_score,
        tuned_score=t.tuned_score,
        chosen_from=t.chosen_from,
    )


def display_rows(view: TuneView) -> list[dict[str, object]]:
    """The tuned-vs-default table as the page shows it: one dict per optimizer, text cells."""
    show_second = any(r.second is not None for r in view.rows)
    out = []
    for r in view.rows:
        row: dict[str, object] = {
            "Optimizer": r.label,
            "α default": f"{r.alpha_default:.3g}",
            "α tuned": f"{r.alpha_tuned:.3g}",
        }
        if show_second:
            symbol = "" if r.second is None else OPTIMIZERS[r.name].hyperparam(r.second).text_symbol
            row["β₁ / μ default"] = "—" if r.second is None else f"{symbol} = {r.second_default:.3g}"
            row["β₁ / μ tuned"] = "—" if r.second is None else f"{symbol} = {r.second_tuned:.3g}"
        row["Default"] = r.default_outcome
        row["Tuned"] = r.tuned_outcome
        row["Gain"] = r.gain
        out.append(row)
    return out
