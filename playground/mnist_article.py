"""The seed article's experiment on the MNIST page, and Adadelta before and after its fix.

* `article_setup(seed)`: the article's setting in one `MnistSetup` (its CNN, its six optimizers
  at Keras's defaults, batch 64, 10 epochs on the full set); `article_quick_setup(seed)` the
  same network, optimizers and batch on the offline sample, short enough for a lecture.
* The Adadelta fix trains *beside* a finished run: `adadelta_companion(setup)` is the setup
  that trains only its slow Adadelta entries, at α = ADADELTA_FIXED_LR, with the same network,
  data, batch size, epochs and seed (hence the same initial weights, batches and dropout
  masks: training does not depend on which other optimizers train beside). `merge_fix` puts
  the companion's runs after the original's, relabelled "before" and "after", and
  `fix_sentence` states what the numbers show.

No Streamlit, no threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from playground.mnist_setup import (
    ADADELTA_FIXED_LR,
    MAX_TRAIN,
    PAGE_PRESET,
    MnistSetup,
    default_entry,
    needs_adadelta_fix,
)
from playground.setup import OptimizerEntry
from training import RunResult, TrainResult
from training.optimizers import NETWORK_OPTIMIZERS, resolve_network_hparams

PRESET_NAMES = {"keras": "Keras", "pytorch": "PyTorch", "optax": "optax"}

# --- the article's setting -----------------------------------------------------------------------
# The article trains a small Keras CNN on the full MNIST set (60,000 images, validated on the
# 10,000 test images), batch 64, 10 epochs, each optimizer at Keras's defaults.

ARTICLE_MODEL = "cnn"
ARTICLE_OPTIMIZERS = ("adadelta", "adagrad", "adam", "rmsprop", "sgd", "momentum")
ARTICLE_PRESET = PAGE_PRESET  # Keras
ARTICLE_BATCH_SIZE = 64
ARTICLE_EPOCHS = 10
ARTICLE_DATA = "full"
ARTICLE_TRAIN_SIZE = MAX_TRAIN[ARTICLE_DATA]
# The quick version: the same network, optimizers, defaults and batch on the offline sample.
QUICK_TRAIN_SIZE = 4000
QUICK_EPOCHS = 3


def article_setup(seed: int = 0) -> MnistSetup:
    """The article's experiment (the seed is the page's: the article fixes none)."""
    return MnistSetup(
        model=ARTICLE_MODEL,
        optimizers=tuple(default_entry(name, ARTICLE_PRESET) for name in ARTICLE_OPTIMIZERS),
        epochs=ARTICLE_EPOCHS,
        batch_size=ARTICLE_BATCH_SIZE,
        data=ARTICLE_DATA,
        train_size=ARTICLE_TRAIN_SIZE,
        seed=seed,
    )


def article_quick_setup(seed: int = 0) -> MnistSetup:
    """The article's network, optimizers and batch size on QUICK_TRAIN_SIZE sample images."""
    return article_setup(seed).with_changes(data="sample", train_size=QUICK_TRAIN_SIZE, epochs=QUICK_EPOCHS)


def is_article_setting(setup: MnistSetup) -> bool:
    """The setup is the article's (any seed), or its quick version."""
    return setup in (article_setup(setup.seed), article_quick_setup(setup.seed))


# --- Adadelta before and after the fix -----------------------------------------------------------


def _slow_adadelta(entry: OptimizerEntry) -> bool:
    return needs_adadelta_fix(MnistSetup(optimizers=(entry,)))


def adadelta_companion(setup: MnistSetup) -> MnistSetup | None:
    """The setup that trains each slow Adadelta of `setup` (in order) at α = ADADELTA_FIXED_LR,
    everything else as `setup`; None when `setup` has no slow Adadelta."""
    fixed = tuple(
        OptimizerEntry(e.name, {**e.hparams, "learning_rate": ADADELTA_FIXED_LR}, e.preset)
        for e in setup.optimizers
        if _slow_adadelta(e)
    )
    return setup.with_changes(optimizers=fixed) if fixed else None


@dataclass(frozen=True)
class FixPair:
    """One slow Adadelta run and the same Adadelta at the fixed α, both as shown."""

    label: str  # the run's own label (without "before"/"after")
    before: RunResult
    after: RunResult
    before_lr: float
    after_lr: float
    keras_default: bool  # the slow α is Keras's default (the article's)


def _alpha(lr: float) -> str:
    return f"{lr:g}"


def before_label(label: str, lr: float, keras_default: bool) -> str:
    return f"{label}, α = {_alpha(lr)}" + (" (Keras default)" if keras_default else "") + ": before"


def after_label(label: str, lr: float) -> str:
    return f"{label}, α = {_alpha(lr)}: after the fix"


def merge_fix(
    setup: MnistSetup, result: TrainResult, fixed: TrainResult
) -> tuple[TrainResult, dict[str, str], list[FixPair]]:
    """`result` (trained from `setup`) with the runs of its companion's result `fixed` added
    after its own: the slow Adadelta runs and their fixed twins relabelled "before" and
    "after". Also returns {after label: before label} (for drawing each pair in one colour)
    and the pairs. ValueError when `fixed` is not the companion's result."""
    slow = [i for i, e in enumerate(setup.optimizers) if _slow_adadelta(e)]
    if len(slow) != len(fixed.runs) or len(result.runs) != len(setup.optimizers):
        raise ValueError("the fixed runs do not belong to this result")
    keras_lr = resolve_network_hparams("adadelta", None, "keras")["learning_rate"]
    runs = list(result.runs)
    after_runs, pairs, twins = [], [], {}
    for i, run in zip(slow, fixed.runs, strict=True):
        entry = setup.optimizers[i]
        lr, new_lr = entry.hparams["learning_rate"], run.hparams["learning_rate"]
        keras = entry.preset == "keras" and math.isclose(lr, keras_lr)
        runs_label = runs[i].label
        before = replace(runs[i], label=before_label(runs_label, lr, keras))
        after = replace(run, label=after_label(runs_label, new_lr))
        runs[i] = before
        after_runs.append(after)
        twins[after.label] = before.label
        pairs.append(FixPair(runs_label, before, after, lr, new_lr, keras))
    return replace(result, runs=[*runs, *after_runs]), twins, pairs


def fix_sentence(pair: FixPair) -> str:
    """What the before and after runs show, from their numbers: validation accuracy at the
    last epoch both have (a stopped run may have fewer), and the start they share."""
    n = min(len(pair.before.epochs), len(pair.after.epochs))
    if n == 0:
        return "The runs have no finished epoch to compare yet."
    acc0, acc1 = pair.before.epochs[n - 1].val_acc, pair.after.epochs[n - 1].val_acc
    b, a = pair.before, pair.after
    who = "Keras's default" if pair.keras_default else "as set"
    same_start = (b.initial_val_acc, b.initial_val_loss) == (a.initial_val_acc, a.initial_val_loss)
    start = (
        f"From the same start ({b.initial_val_acc:.1%}) and the same batches"
        if same_start
        else f"From starts at {b.initial_val_acc:.1%} and {a.initial_val_acc:.1%}"
    )
    text = (
        f"{start}, after {n} epoch{'s' * (n != 1)}, "
        f"{pair.label} reaches {acc0:.1%} validation accuracy at α = {_alpha(pair.before_lr)} ({who}) "
        f"and {acc1:.1%} at α = {_alpha(pair.after_lr)}"
    )
    if not (math.isfinite(acc0) and math.isfinite(acc1)):
        return text + "."
    gap = (acc1 - acc0) * 100
    if abs(gap) < 0.05:
        return text + ": no difference."
    return text + f": {abs(gap):.1f} percentage points {'more' if gap > 0 else 'less'}."


# --- why: the explanation beside the fix ---------------------------------------------------------


def first_step_bound(rho: float, eps: float) -> float:
    """Adadelta's first step at α = 1 is √ε/√((1−ρ)g² + ε)·|g| < √(ε/(1−ρ)) for any g."""
    return math.sqrt(eps / (1.0 - rho))


def adadelta_note() -> str:
    """Why Adadelta barely learns at Keras's defaults; every number from the presets (each
    claim is checked in tests/playground/test_mnist_article.py)."""
    keras = resolve_network_hparams("adadelta", None, "keras")
    torch_lr = resolve_network_hparams("adadelta", None, "pytorch")["learning_rate"]
    lr, rho, eps = keras["learning_rate"], keras["rho"], keras["eps"]
    return (
        "**Why Adadelta barely learns here.** Zeiler's Adadelta has no learning rate: each "
        "step is the gradient times RMS(past steps) ÷ RMS(past gradients), so the step carries "
        f"its own size. Keras still multiplies that step by α, and its default is α = {lr:g}; "
        f"PyTorch's is α = {torch_lr:g}, the method as published. The running average of past "
        "steps keeps each step *before* α scales it, so α does not feed back: on the same "
        f"gradients, every step at α = {lr:g} is exactly {lr / torch_lr:g} × the step at "
        f"α = {torch_lr:g}. And Adadelta starts small even at α = {torch_lr:g}: its first step "
        f"moves each weight by less than √(ε/(1−ρ)) = {first_step_bound(rho, eps):.2g} "
        f"(Keras: ε = {eps:g}, ρ = {rho:g})."
    )


def article_note(setup: MnistSetup) -> str:
    """What the article buttons set, in words, from `setup` itself (its quick version or the
    full one); ValueError for any other setup."""
    if not is_article_setting(setup):
        raise ValueError("not the article's setting")
    names = [NETWORK_OPTIMIZERS[e.name].label for e in setup.optimizers]
    optimizers = ", ".join(names[:-1]) + f" and {names[-1]}"
    common = (
        f"its CNN; {optimizers} at {PRESET_NAMES[setup.optimizers[0].preset]}'s defaults; "
        f"batch {setup.batch_size}; {setup.epochs} epochs"
    )
    if setup.data == ARTICLE_DATA:
        return (
            f"**The article's setting:** {common}, on the full MNIST set ({setup.train_size:,} "
            "training images). Press **▶ Run** to train it."
        )
    return (
        f"**The article's setting, quick version:** {common}, on {setup.train_size:,} images of "
        "the offline sample (the article: the full set, "
        f"{ARTICLE_TRAIN_SIZE:,} images, {ARTICLE_EPOCHS} epochs). Press **▶ Run** to train it."
    )
