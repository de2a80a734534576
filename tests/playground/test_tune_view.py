"""playground.tune_view: the tuned-vs-default table, the criterion and the tuned Setup, checked
against optim_core.tuning.tune and against independent runs of the tuned setup."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_core.metrics import minimum_loss
from optim_core.tuning import CRITERION, MIN_ALPHAS, scores, tune
from playground.compute import run_setup
from playground.setup import OptimizerEntry, Setup, validate
from playground.tune_view import display_rows, tune_setup

STEPS = 300


@pytest.fixture(scope="module")
def rosenbrock() -> Setup:
    setup, warnings = validate(Setup(surface="rosenbrock", steps=STEPS))
    assert not warnings
    return setup


def settled_step(loss: np.ndarray, f_star: float, tol: float) -> int | None:
    """First step from which loss − f* ≤ tol holds to the end (None: never), by hand."""
    within = np.isfinite(loss) & (loss - f_star <= tol)
    if not within[-1]:
        return None
    k = len(loss) - 1
    while k > 0 and within[k - 1]:
        k -= 1
    return k


def test_rows_agree_with_tune(rosenbrock: Setup) -> None:
    view = tune_setup(rosenbrock)
    direct = tune(
        "rosenbrock",
        list(rosenbrock.optimizers),
        steps=STEPS,
        start=rosenbrock.resolved_start(),
        seed=rosenbrock.seed,
        noise=rosenbrock.noise,
        schedule=rosenbrock.schedule,
        tol=1e-3,
    )
    assert [r.name for r in view.rows] == [e.name for e in rosenbrock.optimizers]
    assert view.runs == direct.runs and view.runs >= len(rosenbrock.optimizers) * MIN_ALPHAS
    # The scores shown are those of the Playground's own runs of the untuned and the tuned setup
    # (what Apply shows); the tuned α is the grid's, unless that run measures worse than the
    # default's, and then the default stays.
    surface = rosenbrock.resolved_surface()
    f_star = minimum_loss(surface)
    before = scores(surface, run_setup(rosenbrock).trajectories, f_star, 1e-3)
    after = scores(surface, run_setup(view.tuned_setup).trajectories, f_star, 1e-3)
    for row, t, d, a in zip(view.rows, direct.optimizers, before, after, strict=True):
        assert row.alpha_default == t.default.resolved()["learning_rate"]
        assert row.default_score == d and row.tuned_score == a
        assert a.key() <= d.key()
        if row.alpha_tuned != t.tuned.resolved()["learning_rate"]:
            assert row.alpha_tuned == row.alpha_default and row.chosen_from == "default"
        assert row.second is None and row.second_tuned is None
    table = display_rows(view)
    assert [r["Optimizer"] for r in table] == ["SGD", "Momentum (heavy ball)", "RMSprop", "Adam"]
    for shown, row in zip(table, view.rows, strict=True):
        assert shown["α tuned"] == f"{row.alpha_tuned:.3g}"
        if row.measure == "steps to tolerance":
            assert shown["Tuned"] == f"settles at step {row.tuned_score.steps_to_tol}"


def test_criterion_sentence(rosenbrock: Setup) -> None:
    view = tune_setup(rosenbrock, tol=1e-4)
    assert CRITERION in view.criterion
    assert "loss − f* ≤ 0.0001" in view.criterion
    assert f"{STEPS} steps" in view.criterion and f"{MIN_ALPHAS} log-spaced" in view.criterion


def test_tuned_setup_applies_exactly_the_tuned_values(rosenbrock: Setup) -> None:
    for second in (False, True):
        view = tune_setup(rosenbrock, second=second)
        tuned = view.tuned_setup
        assert tuned.with_changes(optimizers=rosenbrock.optimizers) == rosenbrock
        assert validate(tuned) == (tuned, [])  # the widgets can show every tuned value
        for before, after, t in zip(rosenbrock.optimizers, tuned.optimizers, view.tunings, strict=True):
            assert after == t.tuned
            assert (after.name, after.preset) == (before.name, before.preset)
            allowed = {"learning_rate"} | ({t.second} if second and t.second else set())
            changed = {k for k in after.hparams if after.hparams[k] != before.hparams[k]}
            assert changed <= allowed
            if t.chosen_from == "grid":
                assert after.hparams["learning_rate"] in t.alphas


def test_tuned_beats_or_equals_default_on_rosenbrock(rosenbrock: Setup) -> None:
    """Re-run both setups through the Playground's own run path and score them by hand."""
    view = tune_setup(rosenbrock)
    f_star = minimum_loss(rosenbrock.resolved_surface())
    before, after = run_setup(rosenbrock), run_setup(view.tuned_setup)
    improved = 0
    for row, d, t in zip(view.rows, before.trajectories, after.trajectories, strict=True):
        d_loss, t_loss = np.asarray(d.loss, float), np.asarray(t.loss, float)
        assert t.diverged_at is None
        d_steps, t_steps = settled_step(d_loss, f_star, 1e-3), settled_step(t_loss, f_star, 1e-3)
        assert t_steps == row.tuned_score.steps_to_tol
        if d_steps is not None:
            assert t_steps is not None and t_steps <= d_steps, row.label
        elif t_steps is None:
            assert t_loss[-1] <= d_loss[-1] + 1e-12, row.label
        improved += (
            (d_steps is None and t_steps is not None)
            or (d_steps is not None and t_steps is not None and t_steps < d_steps)
            or (d_steps is None and t_steps is None and t_loss[-1] < 0.5 * d_loss[-1])
        )
    assert improved >= 3  # on Rosenbrock the defaults are far from the best α for most


def test_repeated_optimizer_and_cache() -> None:
    setup, _ = validate(
        Setup(
            surface="himmelblau",
            steps=100,
            optimizers=(
                OptimizerEntry.default("adam"),
                OptimizerEntry.default("adam").with_hparams(b1=0.5),
                OptimizerEntry.default("sgd"),
            ),
        )
    )
    view = tune_setup(setup)
    assert view.labels == ("Adam", "Adam β₁=0.5", "SGD")
    assert len(view.results) == 2  # tune() takes each name once per call
    assert view.tuned_setup.optimizers[1].hparams["b1"] == 0.5
    assert tune_setup(setup) is view  # cached by the setup
    assert tune_setup(setup.with_changes(focus=2)).tuned_setup.focus == 2
    assert math.isfinite(view.seconds)


def test_empty_setup_is_refused() -> None:
    with pytest.raises(ValueError):
        tune_setup(Setup(optimizers=()))
