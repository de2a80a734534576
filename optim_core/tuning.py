"""Fair comparison: tune each optimizer's learning rate (and, optionally, β₁ or μ) before comparing.

Comparing optimizers at their default hyperparameters mostly compares the defaults (jettify's
"Unfair comparison in Visualizations"). `tune` gives every optimizer the same budget: a
log-spaced grid of learning rates (≥ 32 points, over the learning-rate slider's range unless
given), optionally crossed with a grid over its momentum-like parameter (β₁ for the Adam family
and Lion, μ for momentum, Nesterov and RMSprop), every run with the same start, step count,
seed and noise. Every run of every optimizer, and each optimizer's untuned settings for the
side-by-side comparison, go through ONE batched engine call (`optim_core.engine.run_batch`):
grid values are traced, so changing them never recompiles.

    >>> result = tune("rosenbrock", ["sgd", "momentum", "adam", "rmsprop"], steps=500)
    >>> t = result["adam"]
    >>> t.tuned.hparams["learning_rate"], t.tuned_score.steps_to_tol, t.default_score.steps_to_tol

The criterion (`CRITERION`, also `TuningResult.criterion`):
1. a run that diverged (left the engine's bound, or a non-finite loss) never wins;
2. among runs that settle within the tolerance (loss − f* ≤ tol from some step to the end of
   the run; passing through it on the way elsewhere does not count), the fewest steps wins;
3. if none settles, the lowest final loss wins;
ties go to the lower final loss, then the smaller α. The untuned settings are candidates too,
so the tuned settings are never worse than them by this criterion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from optim_core import engine
from optim_core.engine import RunConfig
from optim_core.metrics import minimum_loss
from optim_core.registry import OPTIMIZERS
from optim_core.schedules import Schedule
from optim_core.settings import DEFAULT_PRESET, OptimizerSettings
from optim_core.trajectory import Trajectory
from surfaces import Surface, get_surface

__all__ = [
    "CRITERION",
    "DEFAULT_SECOND_VALUES",
    "MIN_ALPHAS",
    "OptimizerTuning",
    "Score",
    "TuningResult",
    "alpha_grid",
    "second_axis",
    "tune",
]

MIN_ALPHAS = 32
# β₁ / μ values tried when the second axis is switched on without explicit values.
DEFAULT_SECOND_VALUES: tuple[float, ...] = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)

CRITERION = (
    "Best = the run that settles within the tolerance (loss − f* ≤ tol from that step to the "
    "end of the run) in the fewest steps; if no run settles, the one with the lowest final "
    "loss. Diverged runs never win; ties go to the "
    "lower final loss, then the smaller learning rate. The untuned settings compete too, so "
    "the tuned ones are never worse."
)


@dataclass(frozen=True)
class Score:
    """One run's outcome, as the criterion reads it."""

    # the step from which loss − f* ≤ tol holds to the end of the run (it settled there; a
    # run that only passes through the tolerance does not count); None: never, or no known f*
    steps_to_tol: int | None
    final_loss: float  # the loss at the last finite position
    diverged_at: int | None  # first diverged path index; None: stayed finite and in bounds

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def reached(self) -> bool:
        return self.steps_to_tol is not None

    def key(self, alpha: float = 0.0) -> tuple[float, float, float, float]:
        """Sort key: smaller is better (see CRITERION)."""
        if self.diverged or not math.isfinite(self.final_loss):
            return (2.0, math.inf, math.inf, alpha)
        if self.steps_to_tol is not None:
            return (0.0, float(self.steps_to_tol), self.final_loss, alpha)
        return (1.0, self.final_loss, self.final_loss, alpha)

    def describe(self) -> str:
        """E.g. "within tol from step 87 (final loss 1e-06)", "final loss 0.0123 (tol not
        reached)", "diverged at step 4"."""
        if self.diverged:
            return f"diverged at step {self.diverged_at}"
        if self.steps_to_tol is not None:
            return f"within tol from step {self.steps_to_tol} (final loss {self.final_loss:.3g})"
        return f"final loss {self.final_loss:.3g} (tol not reached)"


@dataclass(frozen=True, eq=False)
class OptimizerTuning:
    """One optimizer's grid, its outcome per grid point, and the tuned vs the untuned settings.

    Grid arrays are (rows, len(alphas)): one row per value of the second axis (a single row
    when there is none). `steps_to_tol` and `diverged_at` use -1 for "never".
    """

    name: str
    label: str
    alphas: np.ndarray  # (n_alpha,), log-spaced, increasing
    second: str | None  # "b1", "momentum" or None
    second_values: np.ndarray  # (rows,) values of `second`; empty when second is None
    final_loss: np.ndarray  # (rows, n_alpha)
    steps_to_tol: np.ndarray  # (rows, n_alpha), -1: never
    diverged_at: np.ndarray  # (rows, n_alpha), -1: never
    default: OptimizerSettings  # the settings passed in (a bare name: the preset's defaults)
    default_score: Score  # measured in the same engine call
    tuned: OptimizerSettings  # `default` with the chosen α (and β₁ / μ)
    tuned_score: Score
    chosen_from: str  # "grid", or "default" when no grid point beat the untuned settings

    @property
    def best_row(self) -> int:
        """The row (second-axis value) holding the tuned run; 0 when there is one row."""
        if self.second is None or self.chosen_from != "grid":
            return self._row_with_best_run()
        value = self.tuned.hparams[self.second]
        return int(np.argmin(np.abs(self.second_values - value)))

    def _row_with_best_run(self) -> int:
        keys = [
            min(self._score(r, i).key(float(a)) for i, a in enumerate(self.alphas))
            for r in range(self.final_loss.shape[0])
        ]
        return int(min(range(len(keys)), key=keys.__getitem__))

    def _score(self, row: int, i: int) -> Score:
        return _score(self.steps_to_tol[row, i], self.final_loss[row, i], self.diverged_at[row, i])

    def curve(self, row: int | None = None) -> dict[str, np.ndarray]:
        """The loss-vs-α curve of one row (default: the tuned run's row): α, final loss (NaN
        where the run diverged), steps to tolerance (NaN where never reached), diverged mask."""
        row = self.best_row if row is None else row
        diverged = self.diverged_at[row] >= 0
        return {
            "alpha": self.alphas,
            "final_loss": np.where(diverged, np.nan, self.final_loss[row]),
            "steps_to_tol": np.where(self.steps_to_tol[row] >= 0, self.steps_to_tol[row], np.nan).astype(
                np.float64
            ),
            "diverged": diverged,
        }

    def changes(self) -> dict[str, tuple[float, float]]:
        """{hyperparameter: (untuned value, tuned value)} for what tuning changed."""
        before, after = self.default.resolved(), self.tuned.resolved()
        return {k: (before[k], after[k]) for k in after if after[k] != before[k]}

    def summary(self) -> str:
        """One sentence: what was chosen and how it compares with the untuned settings."""
        if self.chosen_from == "default":
            return (
                f"{self.label}: no grid point beat the untuned settings "
                f"({self.default_score.describe()}); they are kept."
            )
        parts = ", ".join(f"{k} {a:.3g} → {b:.3g}" for k, (a, b) in self.changes().items())
        return (
            f"{self.label}: {parts}: {self.tuned_score.describe()}, vs "
            f"{self.default_score.describe()} untuned."
        )


@dataclass(frozen=True, eq=False)
class TuningResult:
    """Every optimizer's tuning, and the shared conditions of the runs."""

    surface: str
    steps: int
    tol: float
    start: tuple[float, float]
    seed: int
    noise: float | None
    criterion: str
    optimizers: tuple[OptimizerTuning, ...]
    runs: int  # configurations run in the one engine call
    surface_params: Mapping[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> OptimizerTuning:
        for t in self.optimizers:
            if name in (t.name, t.label):
                return t
        raise KeyError(name)

    def __iter__(self):
        return iter(self.optimizers)

    def __len__(self) -> int:
        return len(self.optimizers)

    def tuned_settings(self) -> list[OptimizerSettings]:
        """The tuned settings, in the order given ("apply tuned values")."""
        return [t.tuned for t in self.optimizers]

    def table(self) -> list[dict[str, object]]:
        """Tuned vs untuned, one row per optimizer (for a side-by-side table)."""
        rows = []
        for t in self.optimizers:
            d, b = t.default.resolved(), t.tuned.resolved()
            row: dict[str, object] = {
                "optimizer": t.label,
                "α untuned": d["learning_rate"],
                "α tuned": b["learning_rate"],
            }
            if t.second is not None:
                row[f"{t.second} untuned"] = d[t.second]
                row[f"{t.second} tuned"] = b[t.second]
            row.update(
                {
                    "steps to tol untuned": t.default_score.steps_to_tol,
                    "steps to tol tuned": t.tuned_score.steps_to_tol,
                    "final loss untuned": t.default_score.final_loss,
                    "final loss tuned": t.tuned_score.final_loss,
                    "untuned diverged": t.default_score.diverged,
                }
            )
            rows.append(row)
        return rows


def alpha_grid(low: float, high: float, n: int = MIN_ALPHAS) -> np.ndarray:
    """`n` (≥ MIN_ALPHAS) log-spaced learning rates from `low` to `high`, both included."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_ALPHAS:
        raise ValueError(f"the learning-rate grid needs at least {MIN_ALPHAS} points, got {n!r}")
    lo_valid, hi_valid = OPTIMIZERS["sgd"].hyperparam("learning_rate").valid_range
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"the learning-rate range must be 0 < low < high, got ({low}, {high})")
    if low < lo_valid or high > hi_valid:
        raise ValueError(
            f"the learning-rate range ({low:g}, {high:g}) leaves the valid range ({lo_valid:g}, {hi_valid:g})"
        )
    return np.geomspace(low, high, int(n))


def second_axis(name: str) -> str | None:
    """The momentum-like hyperparameter tuned on the second axis: β₁ (b1), else μ (momentum)."""
    spec = OPTIMIZERS[name]
    names = {h.name for h in spec.hyperparams}
    for candidate in ("b1", "momentum"):
        if candidate in names:
            return candidate
    return None


def _score(steps_to_tol: int, final_loss: float, diverged_at: int) -> Score:
    return Score(
        None if steps_to_tol < 0 else int(steps_to_tol),
        float(final_loss),
        None if diverged_at < 0 else int(diverged_at),
    )


def scores(surface: Surface, trajectories: Sequence[Trajectory], f_star: float, tol: float) -> list[Score]:
    """Each run's Score under the criterion (what `tune` measures for its grid points)."""
    final, steps, diverged = _summaries(surface, trajectories, f_star, tol)
    return [_score(int(s), float(f), int(d)) for f, s, d in zip(final, steps, diverged, strict=True)]


def _as_settings(item: OptimizerSettings | str, preset: str | None) -> OptimizerSettings:
    if isinstance(item, OptimizerSettings):
        return item
    if isinstance(item, str):
        if item not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {item!r}; choose one of {', '.join(OPTIMIZERS)}")
        return OptimizerSettings.default(item, preset or DEFAULT_PRESET)
    raise ValueError(f"an optimizer is a registry name or OptimizerSettings, got {item!r}")


def _range_for(
    name: str, alpha_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None
) -> tuple[float, float]:
    if isinstance(alpha_range, Mapping):
        alpha_range = alpha_range.get(name)
    if alpha_range is None:
        spec = OPTIMIZERS[name].hyperparam("learning_rate")
        return (float(spec.low), float(spec.high))
    low, high = alpha_range
    return (float(low), float(high))


def _second_values(values: bool | Sequence[float] | None) -> tuple[float, ...]:
    if values is None or values is False:
        return ()
    if values is True:
        return DEFAULT_SECOND_VALUES
    out = tuple(float(v) for v in values)
    if not out:
        raise ValueError("the second axis needs at least one value")
    for v in out:
        if not (math.isfinite(v) and 0.0 <= v <= 0.9999):
            raise ValueError(f"β₁ / μ values must be in [0, 0.9999], got {v}")
    return out


def _summaries(
    surface: Surface, trajectories, f_star: float, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """final loss, steps to tol (-1: never), diverged index (-1: never), per trajectory."""
    losses = np.stack([t.loss for t in trajectories]).astype(np.float64)  # (n, steps + 1)
    n, length = losses.shape
    diverged = np.asarray([-1 if t.diverged_at is None else t.diverged_at for t in trajectories])
    # The last finite point: index diverged_at - 1 (the start when it diverged at once).
    last = np.where(diverged >= 0, np.maximum(diverged - 1, 0), length - 1)
    final = losses[np.arange(n), last]
    final = np.where(diverged == 0, np.nan, final)
    if math.isfinite(f_star):
        with np.errstate(invalid="ignore"):
            within = losses - f_star <= tol
        # Settled: within tolerance from that step to the end of the run. A run that only
        # passes through the minimum on its way elsewhere has not reached it.
        outside = ~within | (np.arange(length)[None, :] >= np.where(diverged >= 0, diverged, length)[:, None])
        last_out = np.where(outside.any(axis=1), length - 1 - outside[:, ::-1].argmax(axis=1), -1)
        steps = np.where(last_out < length - 1, last_out + 1, -1)
    else:
        steps = np.full(n, -1)
    return final, steps, diverged


def tune(
    surface: Surface | str,
    optimizers: Sequence[OptimizerSettings | str],
    *,
    steps: int = 500,
    start: Sequence[float] | None = None,
    n_alphas: int = MIN_ALPHAS,
    alpha_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    second: bool | Sequence[float] | None = None,
    preset: str | None = None,
    seed: int = 0,
    noise: float | None = None,
    schedule: Schedule | None = None,
    surface_params: Mapping[str, float] | None = None,
    tol: float = 1e-3,
) -> TuningResult:
    """Tune every optimizer in `optimizers` on `surface`, all runs in one engine call.

    Args:
      surface: a Surface or its registry name.
      optimizers: registry names (tuned from `preset`'s defaults) or OptimizerSettings (tuned
        from those settings: only α and, with `second`, β₁ / μ change). Names must be distinct.
      steps, start, seed, noise, schedule, surface_params: shared by every run, as in
        `run_batch` (start None: the surface's default start).
      n_alphas: learning rates per optimizer, log-spaced (at least MIN_ALPHAS = 32).
      alpha_range: (low, high) for every optimizer, or {name: (low, high)}; default: each
        optimizer's learning-rate slider range from the registry.
      second: None/False: α only; True: also β₁ or μ over DEFAULT_SECOND_VALUES; a sequence:
        those values. Optimizers without such a parameter (SGD, Adagrad, Adadelta) get α only.
      tol: the tolerance on loss − f* that "steps to tolerance" uses.

    Returns a TuningResult; see CRITERION for how the best run is picked.
    """
    surface = get_surface(surface)
    if not optimizers:
        raise ValueError("choose at least one optimizer to tune")
    settings = [_as_settings(o, preset) for o in optimizers]
    names = [s.name for s in settings]
    if len(set(names)) != len(names):
        raise ValueError(f"each optimizer can be tuned once, got {names}")
    seconds = _second_values(second)
    start_xy = engine._resolve_start(surface, start)  # noqa: SLF001 - same validation as runs

    plans = []  # (settings, alphas, second name, second values, first config index)
    configs: list[RunConfig] = []
    for s in settings:
        s.resolved()  # fail early, naming the bad value
        alphas = alpha_grid(*_range_for(s.name, alpha_range), n=n_alphas)
        axis = second_axis(s.name) if seconds else None
        values = np.asarray(seconds if axis else (), np.float64)
        first = len(configs)
        configs.append(RunConfig.of(s, start_xy, "untuned"))
        for value in values.tolist() if axis else [math.nan]:
            for a in alphas:
                change = {"learning_rate": float(a)}
                if axis is not None:
                    change[axis] = float(value)
                configs.append(RunConfig.of(s.with_hparams(**change), start_xy))
        plans.append((s, alphas, axis, values, first))

    trajectories = engine.run_batch(
        surface,
        configs,
        steps=steps,
        seed=seed,
        noise=noise,
        schedule=schedule,
        surface_params=surface_params,
        tol=tol,
        record="path",
    )
    f_star = minimum_loss(surface, surface.resolve_params(surface_params))
    final, steps_tol, diverged = _summaries(surface, trajectories, f_star, tol)

    tunings = []
    for s, alphas, axis, values, first in plans:
        rows = max(len(values), 1)
        sl = slice(first + 1, first + 1 + rows * len(alphas))
        shape = (rows, len(alphas))
        grid_final = final[sl].reshape(shape)
        grid_steps = steps_tol[sl].reshape(shape)
        grid_div = diverged[sl].reshape(shape)
        default_score = _score(steps_tol[first], final[first], diverged[first])
        best_key, best = default_score.key(float(s.resolved()["learning_rate"])), None
        for r in range(rows):
            for i, a in enumerate(alphas):
                key = _score(grid_steps[r, i], grid_final[r, i], grid_div[r, i]).key(float(a))
                if key < best_key:
                    best_key, best = key, (r, i)
        if best is None:
            tuned, tuned_score, chosen = s, default_score, "default"
        else:
            r, i = best
            change = {"learning_rate": float(alphas[i])}
            if axis is not None:
                change[axis] = float(values[r])
            tuned = s.with_hparams(**change)
            tuned_score = _score(grid_steps[r, i], grid_final[r, i], grid_div[r, i])
            chosen = "grid"
        for arr in (grid_final, grid_steps, grid_div):
            arr.flags.writeable = False
        tunings.append(
            OptimizerTuning(
                name=s.name,
                label=OPTIMIZERS[s.name].label,
                alphas=alphas,
                second=axis,
                second_values=values,
                final_loss=grid_final,
                steps_to_tol=grid_steps,
                diverged_at=grid_div,
                default=s,
                default_score=default_score,
                tuned=tuned,
                tuned_score=tuned_score,
                chosen_from=chosen,
            )
        )

    return TuningResult(
        surface=surface.key,
        steps=int(steps),
        tol=float(tol),
        start=start_xy,
        seed=int(seed),
        noise=noise,
        criterion=CRITERION,
        optimizers=tuple(tunings),
        runs=len(configs),
        surface_params=dict(surface.resolve_params(surface_params)),
    )
