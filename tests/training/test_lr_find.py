"""The learning-rate range test (fast.ai's lr_find) on the MLP with the shipped sample."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_core import OptimizerSettings
from training import lr_find as lr_find_mod
from training.lr_find import SUGGESTION_RULE, _blowup_index, lr_find, smooth, steepest
from training.train import TrainConfig, train

SIZE, BATCH = 3200, 32  # 100 steps: a short epoch, enough for a clear curve


@pytest.fixture(scope="module")
def sgd_sweep(sample):
    return lr_find(
        "sgd", model="mlp", data=sample, train_size=SIZE, batch_size=BATCH, alpha_min=1e-5, alpha_max=10.0
    )


def test_alpha_grows_exponentially_over_one_epoch(sgd_sweep):
    r = sgd_sweep
    assert r.planned_steps == SIZE // BATCH
    assert r.alphas[0] == pytest.approx(1e-5)
    assert np.all(np.diff(r.alphas) > 0)
    ratios = r.alphas[1:] / r.alphas[:-1]
    np.testing.assert_allclose(ratios, (10.0 / 1e-5) ** (1 / (r.planned_steps - 1)), rtol=1e-9)
    assert len(r.losses) == len(r.smoothed) == len(r.alphas)
    np.testing.assert_allclose(r.smoothed, smooth(r.losses))


def test_sgd_loss_goes_down_then_blows_up(sgd_sweep):
    r = sgd_sweep
    best = r.best_index
    assert 0 < best < len(r.alphas) - 1
    assert r.smoothed[best] < 0.95 * r.smoothed[0]  # it learned something
    assert r.stopped_early and len(r.alphas) < r.planned_steps
    last = r.smoothed[-1]
    assert not math.isfinite(last) or last > 4 * np.min(r.smoothed[:-1])
    assert r.alphas[-1] > 0.1  # plain SGD on this MLP blows up only at large α


def test_the_suggestion_lies_where_the_loss_decreases(sgd_sweep):
    r = sgd_sweep
    assert r.suggestion is not None and r.rule == SUGGESTION_RULE
    i = r.suggestion_index
    assert r.suggestion == r.alphas[i]
    assert r.alpha_min < r.suggestion < r.alphas[r.best_index]
    slope = np.gradient(r.smoothed[: r.best_index + 1], np.log(r.alphas[: r.best_index + 1]))
    assert slope[i] < 0
    assert r.smoothed[i + 1] < r.smoothed[i - 1]
    assert "steepest" in r.summary() or "suggested" in r.summary()


def test_running_past_the_blowup_does_not_move_the_suggestion(sgd_sweep, sample):
    full = lr_find(
        "sgd",
        model="mlp",
        data=sample,
        train_size=SIZE,
        batch_size=BATCH,
        alpha_min=1e-5,
        alpha_max=10.0,
        stop_early=False,
    )
    assert len(full.alphas) == full.planned_steps and not full.stopped_early
    assert full.blowup_index == sgd_sweep.blowup_index == len(sgd_sweep.alphas) - 1
    np.testing.assert_allclose(full.losses[: len(sgd_sweep.losses)], sgd_sweep.losses, rtol=1e-6)
    assert full.suggestion == sgd_sweep.suggestion


def test_a_short_epoch_at_the_suggested_alpha_beats_alpha_min(sgd_sweep, sample):
    runs = train(
        [
            OptimizerSettings("sgd", {"learning_rate": sgd_sweep.suggestion}, "keras"),
            OptimizerSettings("sgd", {"learning_rate": sgd_sweep.alpha_min}, "keras"),
        ],
        TrainConfig(
            model="mlp",
            epochs=1,
            batch_size=BATCH,
            train_size=SIZE,
            val_size=500,
            keep_snapshots=False,
            parallel="sequential",
        ),
        sample,
        labels=["suggested", "alpha_min"],
    )
    suggested, slow = runs.run("suggested"), runs.run("alpha_min")
    drop_suggested = suggested.initial_val_loss - suggested.epochs[0].val_loss
    drop_slow = slow.initial_val_loss - slow.epochs[0].val_loss
    assert drop_suggested > drop_slow
    assert drop_suggested > 0.1


def test_new_ranges_and_seeds_do_not_recompile(sgd_sweep, sample):
    before = lr_find_mod.trace_count()
    r = lr_find(
        "sgd",
        data=sample,
        train_size=SIZE,
        batch_size=BATCH,
        alpha_min=1e-4,
        alpha_max=1.0,
        num_batches=40,
        seed=3,
        stop_early=False,
    )
    assert lr_find_mod.trace_count() == before
    assert len(r.alphas) == 40 and not r.stopped_early
    assert r.alphas[-1] == pytest.approx(1.0)


def test_smoothing_is_bias_corrected():
    np.testing.assert_allclose(smooth(np.full(50, 2.5)), 2.5)
    s = smooth(np.r_[np.ones(10), np.zeros(10)], beta=0.5)
    assert s[9] == pytest.approx(1.0) and s[19] < 0.01


def test_steepest_finds_the_fastest_drop_of_a_known_curve():
    alphas = np.geomspace(1e-5, 10, 200)
    la = np.log10(alphas)
    curve = 2.0 - 1.5 / (1 + np.exp(-3 * (la + 2)))  # steepest fall at α = 1e-2
    i = steepest(alphas, curve)
    assert alphas[i] == pytest.approx(1e-2, rel=0.1)
    assert steepest(alphas[:3], curve[:3]) is None  # too few points to tell


def test_blowup_is_four_times_the_best_so_far():
    assert _blowup_index(np.array([2.0, 1.0, 0.5, 1.9, 2.1])) == 4
    assert _blowup_index(np.array([2.0, 1.0, 3.9])) is None
    assert _blowup_index(np.array([2.0, 1.0, np.nan])) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha_min": 1.0, "alpha_max": 0.1},
        {"alpha_min": 0.0},
        {"alpha_max": 1e3},
        {"batch_size": 0},
        {"num_batches": 1},
        {"optimizer": "nope"},
        {"model": "nope"},
    ],
)
def test_bad_arguments_are_rejected(kwargs, sample):
    with pytest.raises(ValueError):
        lr_find(data=sample, **kwargs)
