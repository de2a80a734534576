"""The MNIST page's article setting and Adadelta's fix beside the original run
(playground.mnist_article): the setting agrees with the CLI's `--preset article` and the presets,
the fix trains only Adadelta from the same start on the same batches, and every sentence the page
shows about it says what the numbers and the update rule say. Trainings are tiny (MLP, 500
images, 1 epoch)."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

from optim_core import OPTIMIZERS
from playground import mnist_page as mp
from playground import training_cli
from playground.mnist_jobs import dataset
from playground.setup import OptimizerEntry
from training import EpochRecord, RunResult, TrainResult, train
from training.optimizers import NETWORK_OPTIMIZERS, resolve_network_hparams
from viz.training import curves_figure, run_colors

TINY_IMAGES, TINY_EPOCHS = 500, 1


def cli_article() -> Any:
    """What `python -m training --preset article` resolves to (the CLI's own defaults)."""
    parser = training_cli.build_parser()
    args = parser.parse_args(["--preset", "article"])
    training_cli._resolve_args(parser, args)
    return args


# --- the article's setting -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 12345])
def test_article_setup_is_the_clis_article_preset(seed: int) -> None:
    a, s = cli_article(), mp.article_setup(seed)
    assert (s.model, s.epochs, s.batch_size, s.data) == (a.model, a.epochs, a.batch_size, a.data)
    assert [e.name for e in s.optimizers] == list(a.names)
    assert len(s.optimizers) == 6 and len(set(a.names)) == 6
    for e in s.optimizers:  # each at Keras's defaults: the framework the CLI's article uses
        assert e.preset == a.framework
        assert dict(e.hparams) == resolve_network_hparams(e.name, None, a.framework)
    assert s.train_size == mp.MAX_TRAIN["full"] == max(mp.train_sizes("full"))  # the whole set
    assert s.seed == seed
    assert all(not c.hparams for c in s.optimizer_configs())  # nothing differs from the preset


def test_article_setup_round_trips_through_the_link() -> None:
    s = mp.article_setup(3)
    again, warnings = mp.from_query(mp.to_query(s))
    assert (again, warnings) == (s, [])
    assert mp.to_query(s)["o"] == [f"{n}@keras" for n in cli_article().names]


def test_quick_version_keeps_network_optimizers_and_batch_and_is_short() -> None:
    full, quick = mp.article_setup(5), mp.article_quick_setup(5)
    assert (quick.model, quick.optimizers, quick.batch_size, quick.seed) == (
        full.model,
        full.optimizers,
        full.batch_size,
        full.seed,
    )
    assert quick.data == "sample" and quick.train_size in mp.train_sizes("sample")
    assert quick.epochs < full.epochs
    assert mp.estimate_seconds(quick) <= 300 < mp.estimate_seconds(full)  # the page's "long"
    assert mp.is_article_setting(full) and mp.is_article_setting(quick)
    assert not mp.is_article_setting(full.with_changes(epochs=2))


@pytest.mark.parametrize("quick", [False, True])
def test_article_note_says_what_was_set(quick: bool) -> None:
    s = mp.article_quick_setup(1) if quick else mp.article_setup(1)
    note = mp.article_note(s)
    for e in s.optimizers:
        assert NETWORK_OPTIMIZERS[e.name].label in note
    assert "CNN" in note and "Keras's defaults" in note
    assert f"batch {s.batch_size};" in note and f"{s.epochs} epochs" in note
    assert f"{s.train_size:,}" in note
    assert ("full MNIST set" in note) is (s.data == "full")
    with pytest.raises(ValueError):
        mp.article_note(mp.MnistSetup())


# --- the Adadelta fix beside the original --------------------------------------------------------


def test_companion_trains_only_the_slow_adadeltas_at_the_fixed_rate() -> None:
    slow, other = mp.default_entry("adadelta"), mp.default_entry("adadelta", "pytorch")
    s = mp.MnistSetup(optimizers=(mp.default_entry("sgd"), slow, other, mp.default_entry("adam")), seed=4)
    c = mp.adadelta_companion(s)
    assert c is not None
    assert c.optimizers == (OptimizerEntry("adadelta", {**slow.hparams, "learning_rate": 1.0}, "keras"),)
    assert c.with_changes(optimizers=s.optimizers) == s  # everything else as the original
    assert mp.adadelta_companion(mp.MnistSetup(optimizers=(other,))) is None
    assert mp.adadelta_companion(mp.article_setup()) is not None  # the article needs it


@pytest.fixture(scope="module")
def trained() -> tuple[mp.MnistSetup, TrainResult, TrainResult]:
    setup = mp.MnistSetup(
        optimizers=(mp.default_entry("sgd"), mp.default_entry("adadelta")),
        train_size=TINY_IMAGES,
        epochs=TINY_EPOCHS,
    )
    companion = mp.adadelta_companion(setup)
    assert companion is not None
    data = dataset("sample")
    run = train(setup.optimizer_configs(), setup.train_config(), data)
    fixed = train(companion.optimizer_configs(), companion.train_config(), data)
    return setup, run, fixed


def test_adadelta_trained_alone_is_the_adadelta_trained_beside_others(
    trained: tuple[mp.MnistSetup, TrainResult, TrainResult],
) -> None:
    """'Same start, same batches': which optimizers train beside changes nothing of a run."""
    setup, run, _ = trained
    alone_setup = setup.with_changes(optimizers=(mp.default_entry("adadelta"),))
    alone = train(alone_setup.optimizer_configs(), alone_setup.train_config(), dataset("sample")).runs[0]
    beside = run.runs[1]
    assert alone.initial_val_loss == beside.initial_val_loss
    for key in ("train_loss", "val_loss", "val_acc"):
        np.testing.assert_array_equal(alone.curve(key), beside.curve(key))


def test_merge_keeps_the_original_and_adds_the_fix_after_it(
    trained: tuple[mp.MnistSetup, TrainResult, TrainResult],
) -> None:
    setup, run, fixed = trained
    merged, twins, (pair,) = mp.merge_fix(setup, run, fixed)
    labels = [r.label for r in merged.runs]
    assert labels == ["SGD", "Adadelta, α = 0.001 (Keras default): before", "Adadelta, α = 1: after the fix"]
    assert twins == {labels[2]: labels[1]}
    assert merged.runs[1].epochs == run.runs[1].epochs  # the original curve, unchanged
    assert merged.runs[2].epochs == fixed.runs[0].epochs
    assert [r.label for r in run.runs] == ["SGD", "Adadelta"]  # the cached result is not touched
    assert (pair.before_lr, pair.after_lr, pair.keras_default) == (0.001, 1.0, True)
    with pytest.raises(ValueError):
        mp.merge_fix(setup, run, run)


def test_fix_sentence_states_the_runs_numbers(
    trained: tuple[mp.MnistSetup, TrainResult, TrainResult],
) -> None:
    setup, run, fixed = trained
    _, _, (pair,) = mp.merge_fix(setup, run, fixed)
    before, after = pair.before.epochs[-1].val_acc, pair.after.epochs[-1].val_acc
    # The fix learns: one epoch at α = 1 beats one at α = 0.001 by far (on 500 images).
    assert after > before + 0.2, (before, after)
    assert pair.before.initial_val_acc == pair.after.initial_val_acc
    text = mp.fix_sentence(pair)
    assert text.startswith(f"From the same start ({pair.before.initial_val_acc:.1%}) and the same batches")
    assert f"after 1 epoch, Adadelta reaches {before:.1%} validation accuracy at α = 0.001" in text
    assert f"and {after:.1%} at α = 1" in text
    assert text.endswith(f": {(after - before) * 100:.1f} percentage points more.")


def record(epoch: int, acc: float) -> EpochRecord:
    return EpochRecord(epoch, 1.0, acc, 1.0, acc, 0.1, 0.1, 10)


def run_with(accs: list[float], start: float = 0.1, label: str = "Adadelta") -> RunResult:
    r = RunResult("adadelta", label, {}, "keras", 2.3, start)
    r.epochs = [record(i + 1, a) for i, a in enumerate(accs)]
    return r


@pytest.mark.parametrize(
    ("before", "after", "start_after", "ending"),
    [
        ([0.1, 0.2], [0.5, 0.9], 0.1, ": 70.0 percentage points more."),
        ([0.5, 0.6], [0.2, 0.3], 0.1, ": 30.0 percentage points less."),
        ([0.5, 0.6], [0.5, 0.6001], 0.1, ": no difference."),
        ([0.1, 0.2, 0.3], [0.4], 0.1, ": 30.0 percentage points more."),  # a stopped fix: epoch 1
    ],
)
def test_fix_sentence_branches(
    before: list[float], after: list[float], start_after: float, ending: str
) -> None:
    pair = mp.FixPair("Adadelta", run_with(before), run_with(after, start_after), 0.001, 1.0, True)
    text = mp.fix_sentence(pair)
    assert text.endswith(ending)
    n = min(len(before), len(after))
    assert f"after {n} epoch{'s' * (n != 1)}," in text
    assert f"{before[n - 1]:.1%}" in text and f"{after[n - 1]:.1%}" in text


def test_fix_sentence_does_not_claim_a_shared_start_it_does_not_have() -> None:
    pair = mp.FixPair("Adadelta", run_with([0.2]), run_with([0.5], start=0.3), 0.01, 1.0, False)
    text = mp.fix_sentence(pair)
    assert "same start" not in text and text.startswith("From starts at 10.0% and 30.0%")
    assert "α = 0.01 (as set)" in text
    empty = mp.FixPair("Adadelta", run_with([]), run_with([0.5]), 0.001, 1.0, True)
    assert "no finished epoch" in mp.fix_sentence(empty)


# --- the explanation: each claim checked against the update rule ---------------------------------


def adadelta_steps(lr: float, grads: list[np.ndarray]) -> list[np.ndarray]:
    """optim_core's Adadelta (Keras's defaults but α) fed these gradients: the updates."""
    opt = OPTIMIZERS["adadelta"].optimizer
    values = resolve_network_hparams("adadelta", {"learning_rate": lr}, "keras")
    hp = {k: jnp.float32(v) for k, v in values.items()}
    params = jnp.zeros(grads[0].shape, jnp.float32)
    state = opt.init(params)
    out = []
    for g in grads:
        update, state, _ = opt.update(jnp.asarray(g, jnp.float32), state, params, hp)
        out.append(np.asarray(update))
    return out


def test_note_numbers_are_the_presets() -> None:
    note = mp.adadelta_note()
    keras = resolve_network_hparams("adadelta", None, "keras")
    torch = resolve_network_hparams("adadelta", None, "pytorch")
    assert (keras["learning_rate"], torch["learning_rate"]) == (0.001, 1.0)
    assert "its default is α = 0.001; PyTorch's is α = 1" in note
    assert f"ε = {keras['eps']:g}, ρ = {keras['rho']:g}" in note


def test_note_alpha_does_not_feed_back() -> None:
    """'on the same gradients, every step at α = 0.001 is exactly 0.001 × the step at α = 1'."""
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=50) * 10.0 ** rng.uniform(-4, 2) for _ in range(30)]
    slow, published = adadelta_steps(0.001, grads), adadelta_steps(1.0, grads)
    assert "exactly 0.001 × the step at α = 1" in mp.adadelta_note()
    for a, b in zip(slow, published, strict=True):
        np.testing.assert_allclose(a, 0.001 * b, rtol=1e-5)


def test_note_first_step_bound() -> None:
    """'its first step moves each weight by less than √(ε/(1−ρ)) = 0.0014'."""
    keras = resolve_network_hparams("adadelta", None, "keras")
    bound = mp.first_step_bound(keras["rho"], keras["eps"])
    assert f"√(ε/(1−ρ)) = {bound:.2g}" in mp.adadelta_note() and f"{bound:.2g}" == "0.0014"
    g = np.array([1e-6, 1e-3, 1.0, -1.0, 1e3, 1e6])
    (first,) = adadelta_steps(1.0, [g])
    assert np.all(np.abs(first) < bound)
    assert abs(first[-1]) == pytest.approx(bound, rel=1e-3)  # a large gradient nearly reaches it
    assert math.isclose(bound, math.sqrt(keras["eps"] / (1 - keras["rho"])))


# --- the chart -----------------------------------------------------------------------------------


def test_chart_draws_the_fix_dashed_in_the_originals_colour(
    trained: tuple[mp.MnistSetup, TrainResult, TrainResult],
) -> None:
    setup, run, fixed = trained
    merged, twins, _ = mp.merge_fix(setup, run, fixed)
    fig = curves_figure(merged, twins=twins)
    by_name: dict[str, list[Any]] = {}
    for t in fig.data:
        by_name.setdefault(t.name, []).append(t)
    before, after = merged.runs[1].label, merged.runs[2].label
    assert set(by_name) == {"SGD", before, after}
    assert all(len(ts) == 4 for ts in by_name.values())  # four panels each
    assert {t.line.color for t in by_name[after]} == {t.line.color for t in by_name[before]}
    assert {t.line.color for t in by_name["SGD"]} != {t.line.color for t in by_name[before]}
    assert {t.line.dash for t in by_name[after]} == {"dash"}
    assert {t.line.dash for t in by_name[before]} == {"solid"}
    assert sum(t.showlegend for t in fig.data) == 3  # one legend entry each
    colors = run_colors(merged, twins)
    assert colors[2] == colors[1] != colors[0]
    assert run_colors(run) == colors[:2]  # without the fix: the page's usual colours
