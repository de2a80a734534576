"""A Playground setup as a standalone script in optax, PyTorch or Keras 3.

`export_script(setup, framework)` writes a runnable Python file that reproduces the setup with
the framework's own optimizers: the surface as a function in that framework's ops, the start,
each optimizer with its hyperparameters under the framework's names, the schedule as the
framework's schedule, the gradient noise, the number of steps and the app's divergence box.
It prints the final point of each optimizer; `main()` also returns them, so a test (or a
student) can import the file with `runpy.run_path` and call it.

Nothing silently differs. An optimizer (or a switch, or a schedule) the framework cannot run
exactly is not exported: the script names it and says why instead of running something else
(`supported` says the same before you download). The rules, each checked against the real
framework by tests/playground/test_code_export.py and tests/optim_core/test_frameworks.py:

- The 2026 optimizers are written as the optax transforms their rules follow (optax.contrib.
  schedule_free_sgd / schedule_free_adamw / prodigy / sam, optax.yogi, optax.adan,
  optax.lookahead around optax.adam, whose params are optax.LookaheadParams: the script's point is
  the fast weights). Schedule-Free and SAM are refused with a schedule (optax counts its steps
  differently). torch.optim and Keras 3 have none of them (Keras's ScheduleFreeAdamW is not
  checked against the app's rule yet): refused by name.
- optax runs every optimizer at optax's own settings (the registry defaults follow optax); the
  switches that only Keras or PyTorch have (Adam's ε-hat form, bias correction off, ε outside
  the root for Adagrad, AMSGrad's max of the raw v, Adamax's ε outside, NAdam's momentum
  schedule, RAdam's threshold ≤ 4) are refused.
- PyTorch and Keras run what their presets reproduce (optim_core.presets.FRAMEWORK_OPTIMIZERS),
  with the switches their optimizers have fixed; other values are refused.
- Schedules become optax.exponential_decay / cosine_decay_schedule / linear_schedule,
  torch.optim.lr_scheduler.StepLR / CosineAnnealingLR / LinearLR and keras.optimizers.schedules.
  ExponentialDecay / CosineDecay / PolynomialDecay. Keras's SGD with momentum and PyTorch's
  RMSprop with momentum put α inside the velocity (resp. outside): under a changing α that is
  another optimizer, so those pairs are refused with a schedule.
- Noise: the app draws it on the host with NumPy, `default_rng(seed).standard_normal((steps,
  2))` in float32 times σ; the scripts draw the very same numbers.
- The scripts compute in float64; the app computes in float32, so the last digits of a long run
  can differ (the tests compare the scripts with the app's update rules run in float64).

Custom formulas are translated from the parsed, whitelisted tree (surfaces.expression), never
pasted as text: only numbers, x, y, + − × ÷ ** and the whitelisted functions reach the file.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optim_core import FRAMEWORK_OPTIMIZERS, OPTIMIZERS, resolve_hparams
from optim_core.engine import divergence_bound
from optim_core.schedules import Schedule
from playground.compute import entry_label
from playground.setup import CUSTOM, Setup
from surfaces import SURFACES
from surfaces.expression import CONSTANTS, FUNCTIONS, parse_expression

__all__ = [
    "EXPORTABLE",
    "FRAMEWORKS",
    "FRAMEWORK_LABELS",
    "ScriptDownload",
    "export_script",
    "formula_code",
    "optimizer_support",
    "script_downloads",
    "script_filename",
    "supported",
]

FRAMEWORKS: tuple[str, ...] = ("optax", "pytorch", "keras")
FRAMEWORK_LABELS: dict[str, str] = {"optax": "optax (JAX)", "pytorch": "PyTorch", "keras": "Keras 3"}
# The optimizers each framework's script can run (at some settings; `optimizer_support` says
# which settings). Others in the registry are refused by name, never replaced.
EXPORTABLE: dict[str, frozenset[str]] = {
    "optax": frozenset(
        {
            "sgd",
            "momentum",
            "nesterov",
            "adagrad",
            "adadelta",
            "rmsprop",
            "adam",
            "adamw",
            "amsgrad",
            "adamax",
            "nadam",
            "radam",
            "adabelief",
            "lion",
            # the 2026 optimizers (optim_core.optimizers_modern), each as the optax transform its
            # rule follows (optax.contrib for Schedule-Free, Prodigy and SAM)
            "schedule_free_sgd",
            "schedule_free_adamw",
            "prodigy",
            "yogi",
            "adan",
            "lookahead_adam",
            "sam",
        }
    ),
    "pytorch": frozenset(
        {
            "sgd",
            "momentum",
            "nesterov",
            "adagrad",
            "adadelta",
            "rmsprop",
            "adam",
            "adamw",
            "amsgrad",
            "adamax",
            "nadam",
            "radam",
        }
    ),
    "keras": frozenset(
        {
            "sgd",
            "momentum",
            "nesterov",
            "adagrad",
            "adadelta",
            "rmsprop",
            "adam",
            "adamw",
            "amsgrad",
            "adamax",
            "nadam",
            "lion",
        }
    ),
}
# The 2026 optimizers: optax has them all; torch.optim and Keras 3 none (Keras's own
# ScheduleFreeAdamW is not checked against the app's rule yet).
_MODERN = frozenset(
    {"schedule_free_sgd", "schedule_free_adamw", "prodigy", "yogi", "adan", "lookahead_adam", "sam"}
)
_REQUIRES = {
    "optax": "numpy, jax, optax",
    "pytorch": "numpy, torch",
    "keras": "numpy, jax, keras (3.x, run with the JAX backend)",
}


def _num(value: float) -> str:
    """A float literal that reads back to exactly the same float."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite number {value!r}")
    return repr(value)


def _on(value: float) -> bool:
    return float(value) > 0.5


# --------------------------------------------------------------------------------------------
# Optimizers: (constructor code, comment) or a refusal
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerCode:
    """How one optimizer is written for one framework: `code` (an expression using `LR`, the
    learning rate or schedule, and, for PyTorch, `params`), or `refusal` saying why not."""

    code: str = ""
    comment: str = ""
    refusal: str = ""

    @property
    def ok(self) -> bool:
        return not self.refusal


def _refuse(reason: str) -> OptimizerCode:
    return OptimizerCode(refusal=reason)


def _needs(hp: Mapping[str, float], rules: list[tuple[str, float, str]]) -> str:
    """The first rule broken, as a sentence; rules are (switch, required value, what it means)."""
    for name, required, meaning in rules:
        if name in hp and float(hp[name]) != required:
            return meaning
    return ""


def _optax_code(name: str, hp: Mapping[str, float], schedule: Schedule) -> OptimizerCode:
    n = {k: _num(v) for k, v in hp.items()}
    if name == "sgd":
        return OptimizerCode("optax.sgd(learning_rate=LR)")
    if name in ("momentum", "nesterov"):
        nesterov = ", nesterov=True" if name == "nesterov" else ""
        return OptimizerCode(
            f"optax.sgd(learning_rate=LR, momentum={n['momentum']}{nesterov})",
            "heavy ball: v = μ·v + g; x −= α·v" if name == "momentum" else "",
        )
    if name == "adagrad":
        why = _needs(
            hp,
            [
                (
                    "eps_inside",
                    1.0,
                    "optax.adagrad adds ε inside the root, √(Σg² + ε); "
                    "this setup has ε outside (PyTorch's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                "optax.adagrad(learning_rate=LR, "
                f"initial_accumulator_value={n['initial_accumulator_value']}, eps={n['eps']})"
            )
        )
    if name == "adadelta":
        return OptimizerCode(
            f"optax.adadelta(learning_rate=LR, rho={n['rho']}, eps={n['eps']}, "
            f"weight_decay={n['weight_decay']})"
        )
    if name == "rmsprop":
        momentum = n["momentum"] if float(hp["momentum"]) > 0 else "None"
        return OptimizerCode(
            f"optax.rmsprop(learning_rate=LR, decay={n['decay']}, eps={n['eps']}, "
            f"initial_scale={n['initial_scale']}, eps_in_sqrt={_on(hp['eps_inside'])}, "
            f"centered={_on(hp['centered'])}, momentum={momentum}, nesterov={_on(hp['nesterov'])}, "
            f"bias_correction={_on(hp['bias_correction'])})"
        )
    if name in ("adam", "adamw"):
        why = _needs(
            hp,
            [
                (
                    "bias_correction",
                    1.0,
                    "optax's Adam always corrects the bias (1 − βᵗ); this setup switches bias correction off",
                ),
                (
                    "eps_hat",
                    0.0,
                    "optax's Adam adds ε to √v̂; this setup uses Keras's ε-hat form (ε on the uncorrected √v)",
                ),
            ],
        )
        if why:
            return _refuse(why)
        wd = f", weight_decay={n['weight_decay']}" if name == "adamw" else ""
        return OptimizerCode(
            f"optax.{name}(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}, "
            f"eps_root={n['eps_root']}{wd})"
        )
    if name == "amsgrad":
        why = _needs(
            hp,
            [
                (
                    "max_raw",
                    0.0,
                    "optax.amsgrad keeps the max of the corrected v̂; this "
                    "setup keeps the max of the raw v (Keras, PyTorch)",
                ),
                ("eps_hat", 0.0, "optax adds ε to √v̂; this setup uses Keras's ε-hat form"),
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"optax.amsgrad(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}, "
                f"eps_root={n['eps_root']})"
            )
        )
    if name == "adamax":
        why = _needs(
            hp,
            [
                (
                    "eps_outside",
                    0.0,
                    "optax.adamax adds ε to |g| inside the max; this setup adds it outside (Keras's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(f"optax.adamax(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']})")
        )
    if name == "nadam":
        why = _needs(
            hp,
            [
                (
                    "momentum_schedule",
                    0.0,
                    "optax.nadam uses a constant β₁; this setup uses "
                    "Dozat's momentum schedule μ_t (Keras, PyTorch)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"optax.nadam(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}, "
                f"eps_root={n['eps_root']})"
            )
        )
    if name == "radam":
        why = _needs(
            hp, [("eps_hat", 0.0, "optax adds ε to √v̂; this setup uses the ε-hat form (PyTorch's RAdam)")]
        )
        if not why and float(hp["threshold"]) <= 4.0:
            why = (
                "optax.radam rectifies whenever ρ_t ≥ threshold, where r_t is undefined for "
                "ρ_t ≤ 4; the app treats a threshold ≤ 4 as 4. Use a threshold above 4"
            )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"optax.radam(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}, "
                f"eps_root={n['eps_root']}, threshold={n['threshold']})"
            )
        )
    if name == "adabelief":
        return OptimizerCode(
            f"optax.adabelief(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}, "
            f"eps_root={n['eps_root']})"
        )
    if name == "lion":
        return OptimizerCode(
            f"optax.lion(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, weight_decay={n['weight_decay']})"
        )
    return _optax_modern_code(name, hp, schedule)


def _optax_modern_code(name: str, hp: Mapping[str, float], schedule: Schedule) -> OptimizerCode:
    """The 2026 optimizers as optax writes them (the transforms optim_core.optimizers_modern
    follows step for step; tests/optim_core/test_optimizers_modern.py checks each)."""
    n = {k: _num(v) for k, v in hp.items()}
    scheduled = schedule.kind != "constant"
    if name in ("schedule_free_sgd", "schedule_free_adamw", "sam") and scheduled:
        when = (
            "optax's Schedule-Free evaluates a schedule one step later (at count + 1)"
            if name != "sam"
            else "optax's SAM advances its inner SGD's schedule on descent steps only"
        )
        return _refuse(f"{OPTIMIZERS[name].label} with a learning-rate schedule: {when} than the app")
    if name == "schedule_free_sgd":
        return OptimizerCode(
            f"optax.contrib.schedule_free_sgd(learning_rate=LR, b1={n['b1']}, "
            f"weight_decay={n['weight_decay']}, weight_lr_power={n['weight_lr_power']})",
            "the point is y, where the gradient is taken (optax.contrib.schedule_free_eval_params gives x)",
        )
    if name == "schedule_free_adamw":
        return OptimizerCode(
            f"optax.contrib.schedule_free_adamw(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, "
            f"eps={n['eps']}, weight_decay={n['weight_decay']}, weight_lr_power={n['weight_lr_power']})",
            "the point is y, where the gradient is taken (optax.contrib.schedule_free_eval_params gives x)",
        )
    if name == "prodigy":
        return OptimizerCode(
            f"optax.contrib.prodigy(learning_rate=LR, betas=({n['b1']}, {n['b2']}), eps={n['eps']}, "
            f"estim_lr0={n['estim_lr0']}, weight_decay={n['weight_decay']})"
        )
    if name == "yogi":
        return OptimizerCode(f"optax.yogi(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']})")
    if name == "adan":
        return OptimizerCode(
            f"optax.adan(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, b3={n['b3']}, eps={n['eps']}, "
            f"eps_root={n['eps_root']}, weight_decay={n['weight_decay']})"
        )
    if name == "lookahead_adam":
        period = max(1, round(float(hp["sync_period"])))  # the app rounds k the same way
        return OptimizerCode(
            f"(optax.lookahead(optax.adam(learning_rate=LR, b1={n['b1']}, b2={n['b2']}, eps={n['eps']}), "
            f"sync_period={period}, slow_step_size={n['slow_step_size']}), "
            "optax.LookaheadParams.init_synced)",
            "fast and slow weights (optax.LookaheadParams); the point is the fast weights",
        )
    if name == "sam":
        return OptimizerCode(
            f"optax.contrib.sam(optax.sgd(learning_rate=LR), optax.chain(optax.contrib.normalize(), "
            f"optax.sgd(learning_rate={n['rho']})), sync_period=2)",
            "one gradient per step, alternating: ascent to the probe θ + ρ·g/‖g‖, then descent from θ",
        )
    return _refuse(f"the export does not know {OPTIMIZERS[name].label} yet")


def _torch_code(name: str, hp: Mapping[str, float], schedule: Schedule) -> OptimizerCode:
    n = {k: _num(v) for k, v in hp.items()}
    scheduled = schedule.kind != "constant"
    if name == "sgd":
        return OptimizerCode("torch.optim.SGD(params, lr=LR)")
    if name in ("momentum", "nesterov"):
        if name == "nesterov" and float(hp["momentum"]) == 0.0:
            return OptimizerCode(
                "torch.optim.SGD(params, lr=LR, momentum=0.0)",
                "Nesterov with μ = 0 is plain SGD (torch refuses nesterov=True at μ = 0)",
            )
        if name == "nesterov":
            return OptimizerCode(
                f"torch.optim.SGD(params, lr=LR, momentum={n['momentum']}, nesterov=True)",
                "buf = μ·buf + g; x −= α·(g + μ·buf): the app's Nesterov",
            )
        return OptimizerCode(
            f"torch.optim.SGD(params, lr=LR, momentum={n['momentum']})",
            "buf = μ·buf + g; x −= α·buf: the app's heavy ball",
        )
    if name == "adagrad":
        why = _needs(
            hp,
            [
                (
                    "eps_inside",
                    0.0,
                    "torch.optim.Adagrad adds ε outside the root, √Σg² + ε; "
                    "this setup has ε inside (optax's and Keras's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                "torch.optim.Adagrad(params, lr=LR, "
                f"initial_accumulator_value={n['initial_accumulator_value']}, eps={n['eps']})"
            )
        )
    if name == "adadelta":
        return OptimizerCode(
            f"torch.optim.Adadelta(params, lr=LR, rho={n['rho']}, eps={n['eps']}, "
            f"weight_decay={n['weight_decay']})"
        )
    if name == "rmsprop":
        why = _needs(
            hp,
            [
                (
                    "eps_inside",
                    0.0,
                    "torch.optim.RMSprop adds ε outside the root; this setup "
                    "has ε inside (optax's and Keras's form)",
                ),
                ("initial_scale", 0.0, "torch.optim.RMSprop starts v at 0; this setup starts it elsewhere"),
                ("nesterov", 0.0, "torch.optim.RMSprop has no Nesterov momentum"),
                ("bias_correction", 0.0, "torch.optim.RMSprop has no bias correction"),
            ],
        )
        if not why and scheduled and float(hp["momentum"]) > 0:
            why = (
                "torch.optim.RMSprop applies α outside its momentum buffer, the app inside: with a "
                "changing learning rate they are different optimizers"
            )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"torch.optim.RMSprop(params, lr=LR, alpha={n['decay']}, eps={n['eps']}, "
                f"momentum={n['momentum']}, centered={_on(hp['centered'])})",
                "PyTorch's alpha is the decay ρ of the squared-gradient average",
            )
        )
    if name in ("adam", "adamw", "amsgrad"):
        rules = [
            ("eps_hat", 0.0, "torch.optim.Adam adds ε to √v̂; this setup uses Keras's ε-hat form"),
            ("bias_correction", 1.0, "torch.optim.Adam always corrects the bias"),
            ("eps_root", 0.0, "torch.optim.Adam has no ε inside the root (eps_root)"),
        ]
        if name == "amsgrad":
            rules.append(
                (
                    "max_raw",
                    1.0,
                    "torch.optim.Adam(amsgrad=True) keeps the max of the raw v; "
                    "this setup keeps the max of the corrected v̂ (optax's form)",
                )
            )
        why = _needs(hp, rules)
        if why:
            return _refuse(why)
        cls = "AdamW" if name == "adamw" else "Adam"
        extra = (
            f", weight_decay={n['weight_decay']}"
            if name == "adamw"
            else ", amsgrad=True"
            if name == "amsgrad"
            else ""
        )
        return OptimizerCode(
            f"torch.optim.{cls}(params, lr=LR, betas=({n['b1']}, {n['b2']}), eps={n['eps']}{extra})"
        )
    if name == "adamax":
        why = _needs(
            hp,
            [
                (
                    "eps_outside",
                    0.0,
                    "torch.optim.Adamax adds ε to |g| inside the max; this "
                    "setup adds it outside (Keras's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"torch.optim.Adamax(params, lr=LR, betas=({n['b1']}, {n['b2']}), eps={n['eps']})"
            )
        )
    if name == "nadam":
        why = _needs(
            hp,
            [
                (
                    "momentum_schedule",
                    1.0,
                    "torch.optim.NAdam always uses the momentum "
                    "schedule μ_t; this setup uses a constant β₁ (optax's form)",
                ),
                ("eps_root", 0.0, "torch.optim.NAdam has no eps_root"),
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"torch.optim.NAdam(params, lr=LR, betas=({n['b1']}, {n['b2']}), eps={n['eps']}, "
                f"momentum_decay={n['momentum_decay']})"
            )
        )
    if name == "radam":
        why = _needs(
            hp,
            [
                (
                    "eps_hat",
                    1.0,
                    "torch.optim.RAdam adds ε to the uncorrected √v; this setup adds it to √v̂ (optax's form)",
                ),
                ("eps_root", 0.0, "torch.optim.RAdam has no eps_root"),
            ],
        )
        if not why and float(hp["threshold"]) != 5.0:
            why = "torch.optim.RAdam rectifies when ρ_t > 5; this setup's threshold is not 5"
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"torch.optim.RAdam(params, lr=LR, betas=({n['b1']}, {n['b2']}), eps={n['eps']})"
            )
        )
    if name in ("adabelief", "lion") or name in _MODERN:
        return _refuse(f"torch.optim has no {OPTIMIZERS[name].label}")
    return _refuse(f"the export does not know {OPTIMIZERS[name].label} yet")


def _keras_code(name: str, hp: Mapping[str, float], schedule: Schedule) -> OptimizerCode:
    n = {k: _num(v) for k, v in hp.items()}
    scheduled = schedule.kind != "constant"
    if name == "sgd":
        return OptimizerCode("keras.optimizers.SGD(learning_rate=LR)")
    if name in ("momentum", "nesterov"):
        if scheduled and float(hp["momentum"]) > 0:
            return _refuse(
                "keras.optimizers.SGD keeps its velocity in steps (m = μ·m − α_t·g; x += m), "
                "the app in gradients (v = μ·v + g; x −= α_t·v): with a changing learning "
                "rate they are different optimizers"
            )
        if name == "nesterov":
            return OptimizerCode(
                f"keras.optimizers.SGD(learning_rate=LR, momentum={n['momentum']}, nesterov=True)",
                "m = μ·m − α·g; x += μ·m − α·g: the app's Nesterov at a constant α",
            )
        return OptimizerCode(
            f"keras.optimizers.SGD(learning_rate=LR, momentum={n['momentum']})",
            "m = μ·m − α·g; x += m: the app's heavy ball at a constant α",
        )
    if name == "adagrad":
        why = _needs(
            hp,
            [
                (
                    "eps_inside",
                    1.0,
                    "keras.optimizers.Adagrad adds ε inside the root; this "
                    "setup has ε outside (PyTorch's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"keras.optimizers.Adagrad(learning_rate=LR, initial_accumulator_value="
                f"{n['initial_accumulator_value']}, epsilon={n['eps']})"
            )
        )
    if name == "adadelta":
        if float(hp["weight_decay"]) != 0.0:
            return _refuse(
                "Keras's weight_decay is decoupled (x −= α·λ·x); the app's Adadelta adds "
                "λ·x to the gradient (optax's form)"
            )
        return OptimizerCode(
            f"keras.optimizers.Adadelta(learning_rate=LR, rho={n['rho']}, epsilon={n['eps']})"
        )
    if name == "rmsprop":
        why = _needs(
            hp,
            [
                (
                    "eps_inside",
                    1.0,
                    "keras.optimizers.RMSprop adds ε inside the root; this "
                    "setup has ε outside (PyTorch's form)",
                ),
                ("initial_scale", 0.0, "keras.optimizers.RMSprop starts v at 0"),
                ("nesterov", 0.0, "keras.optimizers.RMSprop has no Nesterov momentum"),
                ("bias_correction", 0.0, "keras.optimizers.RMSprop has no bias correction"),
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"keras.optimizers.RMSprop(learning_rate=LR, rho={n['decay']}, momentum={n['momentum']}, "
                f"epsilon={n['eps']}, centered={_on(hp['centered'])})",
                "Keras's rho is the decay of the squared-gradient average",
            )
        )
    if name in ("adam", "adamw", "amsgrad"):
        rules = [
            (
                "eps_hat",
                1.0,
                "keras.optimizers.Adam adds ε to the uncorrected √v (ε-hat form); "
                "this setup adds it to √v̂ (optax's and PyTorch's form)",
            ),
            ("bias_correction", 1.0, "keras.optimizers.Adam always corrects the bias"),
            ("eps_root", 0.0, "Keras's Adam has no ε inside the root (eps_root)"),
        ]
        if name == "amsgrad":
            rules.append(
                (
                    "max_raw",
                    1.0,
                    "keras.optimizers.Adam(amsgrad=True) keeps the max of the raw "
                    "v; this setup keeps the max of the corrected v̂ (optax's form)",
                )
            )
        why = _needs(hp, rules)
        if why:
            return _refuse(why)
        cls = "AdamW" if name == "adamw" else "Adam"
        extra = (
            f", weight_decay={n['weight_decay']}"
            if name == "adamw"
            else ", amsgrad=True"
            if name == "amsgrad"
            else ""
        )
        return OptimizerCode(
            f"keras.optimizers.{cls}(learning_rate=LR, beta_1={n['b1']}, beta_2={n['b2']}, "
            f"epsilon={n['eps']}{extra})"
        )
    if name == "adamax":
        why = _needs(
            hp,
            [
                (
                    "eps_outside",
                    1.0,
                    "keras.optimizers.Adamax adds ε outside the max; this "
                    "setup adds it to |g| inside (optax's and PyTorch's form)",
                )
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"keras.optimizers.Adamax(learning_rate=LR, beta_1={n['b1']}, beta_2={n['b2']}, "
                f"epsilon={n['eps']})"
            )
        )
    if name == "nadam":
        why = _needs(
            hp,
            [
                (
                    "momentum_schedule",
                    1.0,
                    "keras.optimizers.Nadam always uses the momentum "
                    "schedule μ_t; this setup uses a constant β₁ (optax's form)",
                ),
                (
                    "momentum_decay",
                    1.0,
                    "keras.optimizers.Nadam's schedule is 0.96^t "
                    "(momentum_decay 1); this setup uses another pace (PyTorch's is 0.004)",
                ),
                ("eps_root", 0.0, "Keras's Nadam has no eps_root"),
            ],
        )
        return (
            _refuse(why)
            if why
            else OptimizerCode(
                f"keras.optimizers.Nadam(learning_rate=LR, beta_1={n['b1']}, beta_2={n['b2']}, "
                f"epsilon={n['eps']})"
            )
        )
    if name == "lion":
        wd = f", weight_decay={n['weight_decay']}" if float(hp["weight_decay"]) > 0 else ""
        return OptimizerCode(
            f"keras.optimizers.Lion(learning_rate=LR, beta_1={n['b1']}, beta_2={n['b2']}{wd})"
        )
    if name == "schedule_free_adamw":
        return _refuse(
            f"Keras's own {OPTIMIZERS[name].label} (keras.optimizers.ScheduleFreeAdamW) is not yet "
            "checked step for step against the app's rule (optax's), so it is not exported"
        )
    if name in ("radam", "adabelief") or name in _MODERN:
        return _refuse(f"keras.optimizers has no {OPTIMIZERS[name].label}")
    return _refuse(f"the export does not know {OPTIMIZERS[name].label} yet")


_CODERS = {"optax": _optax_code, "pytorch": _torch_code, "keras": _keras_code}


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")


def optimizer_support(
    name: str,
    hparams: Mapping[str, float] | None,
    framework: str,
    preset: str | None = None,
    schedule: Schedule | None = None,
) -> OptimizerCode:
    """How optimizer `name` with these hyperparameters (resolved with `preset`, as the engine
    does) is written for `framework`, or why it is refused."""
    _check_framework(framework)
    if name not in OPTIMIZERS:
        return _refuse(f"unknown optimizer {name!r}")
    hp = resolve_hparams(name, hparams, preset)
    return _CODERS[framework](name, hp, schedule or Schedule())


# --------------------------------------------------------------------------------------------
# Surfaces as code
# --------------------------------------------------------------------------------------------

# The module prefix of each framework's elementwise math, and the names that differ.
# The Keras script takes its gradients with jax.grad (JAX backend), so its surface is written in
# jax.numpy too: keras.ops.cos/sin (Keras 3.15) return float32 for float64 input.
_PREFIX = {"optax": "jnp", "pytorch": "torch", "keras": "jnp"}
_FUNCTION_CODE: dict[str, dict[str, str]] = {
    "optax": {
        "sigmoid": "jax.nn.sigmoid",
        "softplus": "jax.nn.softplus",
        "min": "jnp.minimum",
        "max": "jnp.maximum",
    },
    "pytorch": {"softplus": "_softplus", "min": "torch.minimum", "max": "torch.maximum"},
    "keras": {
        "sigmoid": "jax.nn.sigmoid",
        "softplus": "jax.nn.softplus",
        "min": "jnp.minimum",
        "max": "jnp.maximum",
    },
}
_TORCH_SOFTPLUS = '''

def _softplus(a):
    """log(1 + e^a) exactly as jax.nn.softplus (torch's softplus turns linear above 20)."""
    return torch.logaddexp(a, torch.zeros_like(a))
'''

# The catalogue's formulas, written in the same order of operations as surfaces/catalog.py.
# {F} is the framework's math module; the ravine and Ackley are written by _named_surface_code.
_NAMED_SURFACES: dict[str, str] = {
    "rosenbrock": "(1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2",
    "saddle": "x**2 - y**2",
    "monkey_saddle": "x**3 - 3.0 * x * y**2",
    "noisy_bowl": "0.5 * (x**2 + y**2)",
    "beale": "(1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2",
    "himmelblau": "(x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2",
    "rastrigin": "20.0 + x**2 - 10.0 * {F}.cos(TWO_PI * x) + y**2 - 10.0 * {F}.cos(TWO_PI * y)",
    "booth": "(x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2",
    "goldstein_price": (
        "(1.0 + (x + y + 1.0) ** 2 * (19.0 - 14.0 * x + 3.0 * x**2 - 14.0 * y + 6.0 * x * y + 3.0 * y**2))\n"
        "        * (30.0 + (2.0 * x - 3.0 * y) ** 2\n"
        "           * (18.0 - 32.0 * x + 12.0 * x**2 + 48.0 * y - 36.0 * x * y + 27.0 * y**2))"
    ),
    "six_hump_camel": "(4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2",
}


def _named_surface_code(name: str, params: Mapping[str, float], framework: str) -> str:
    F = _PREFIX[framework]
    if name == "ravine":
        p = SURFACES["ravine"].resolve_params(params)
        return (
            f"CONDITION = {_num(p['condition'])}  # κ: curvature across the valley / along it\n"
            f"ANGLE = {_num(p['angle'])}  # degrees between the valley and the x axis\n"
            "COS, SIN = math.cos(math.radians(ANGLE)), math.sin(math.radians(ANGLE))\n\n\n"
            "def f(x, y):\n"
            "    along = COS * x + SIN * y\n"
            "    across = -SIN * x + COS * y\n"
            "    return 0.5 * (along**2 + CONDITION * across**2)\n"
        )
    if name == "ackley":
        if framework == "pytorch":
            sqrt = (
                "torch.where(positive, torch.sqrt(torch.where(positive, r2, torch.ones_like(r2))), "
                "torch.zeros_like(r2))"
            )
        else:
            sqrt = f"{F}.where(positive, {F}.sqrt({F}.where(positive, r2, 1.0)), 0.0)"
        return (
            "TWO_PI = 2.0 * math.pi\n\n\n"
            "def f(x, y):\n"
            "    # sqrt has an infinite slope at 0: the double `where` keeps f exact and its gradient\n"
            "    # 0 at the minimum, as the app does\n"
            "    r2 = 0.5 * (x**2 + y**2)\n"
            "    positive = r2 > 0.0\n"
            f"    radius = {sqrt}\n"
            f"    return (-20.0 * {F}.exp(-0.2 * radius)\n"
            f"            - {F}.exp(0.5 * ({F}.cos(TWO_PI * x) + {F}.cos(TWO_PI * y)))\n"
            "            + math.e + 20.0)\n"
        )
    body = _NAMED_SURFACES[name].format(F=F)
    head = "TWO_PI = 2.0 * math.pi\n\n\n" if "TWO_PI" in body else ""
    if "\n" in body:
        body = f"(\n        {body}\n    )"
    return f"{head}def f(x, y):\n    return {body}\n"


class _Translate:
    """The validated formula tree -> code in one framework, refusing any node not whitelisted."""

    def __init__(self, framework: str) -> None:
        self.framework = framework

    def function(self, name: str) -> str:
        if name not in FUNCTIONS:
            raise ValueError(f"function {name!r} is not whitelisted")
        return _FUNCTION_CODE[self.framework].get(name, f"{_PREFIX[self.framework]}.{name}")

    def constant_value(self, node: ast.expr) -> float:
        """A subtree without x or y, evaluated as the app does (NumPy float64)."""
        with np.errstate(all="ignore"):
            return float(self._evaluate(node))

    def _evaluate(self, node: ast.expr) -> np.float64:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return np.float64(node.value)
        if isinstance(node, ast.Name) and node.id in CONSTANTS:
            return np.float64(CONSTANTS[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self._evaluate(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            ops = {
                ast.Add: np.add,
                ast.Sub: np.subtract,
                ast.Mult: np.multiply,
                ast.Div: np.divide,
                ast.Pow: np.power,
            }
            if type(node.op) not in ops:
                raise ValueError("operator not whitelisted")
            return ops[type(node.op)](self._evaluate(node.left), self._evaluate(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            return np.float64(FUNCTIONS[node.func.id].numpy_fn(*(self._evaluate(a) for a in node.args)))
        raise ValueError(f"{type(node).__name__} is not whitelisted in a constant")

    @staticmethod
    def _is_constant(node: ast.expr) -> bool:
        return not any(isinstance(n, ast.Name) and n.id in ("x", "y") for n in ast.walk(node))

    def node(self, node: ast.expr) -> ast.expr:
        """A new tree of the framework's calls (strictly whitelisted), for ast.unparse."""
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("only finite numbers are allowed")
            return ast.Constant(float(value))
        if isinstance(node, ast.Name):
            if node.id in ("x", "y"):
                return ast.Name(node.id, ast.Load())
            if node.id in CONSTANTS:
                return ast.Constant(float(CONSTANTS[node.id]))
            raise ValueError(f"name {node.id!r} is not whitelisted")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.node(node.operand)
            if isinstance(node.op, ast.USub):
                return ast.UnaryOp(ast.USub(), self.node(node.operand))
            raise ValueError("unary operator not whitelisted")
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
                raise ValueError("operator not whitelisted")
            left = self.node(node.left)
            if isinstance(node.op, ast.Pow) and self._is_constant(node.right):
                # as the app: a constant exponent is evaluated once; a whole number stays an int
                # (an integer power: exact, with a finite gradient for negative bases)
                exponent = self.constant_value(node.right)
                if not math.isfinite(exponent):
                    raise ValueError("the exponent is not finite")
                right: ast.expr = ast.Constant(int(exponent) if exponent == int(exponent) else exponent)
                if exponent < 0:
                    right = ast.UnaryOp(ast.USub(), ast.Constant(-right.value))  # type: ignore[attr-defined]
            else:
                right = self.node(node.right)
            return ast.BinOp(left, type(node.op)(), right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ValueError("call not whitelisted")
            spec = FUNCTIONS.get(node.func.id)
            if spec is None or len(node.args) != spec.arity:
                raise ValueError(f"function {node.func.id!r} is not whitelisted")
            func = ast.parse(self.function(node.func.id), mode="eval").body
            return ast.Call(func, [self.node(a) for a in node.args], [])
        raise ValueError(f"{type(node).__name__} is not whitelisted")


def formula_code(expression: str, framework: str) -> tuple[str, str]:
    """(normalized formula, Python expression in the framework's ops) for a custom formula.

    Raises surfaces.ExpressionError for a formula the app would refuse."""
    _check_framework(framework)
    parsed = parse_expression(expression)
    tree = ast.parse(parsed.normalized, mode="eval").body
    code = ast.unparse(ast.fix_missing_locations(_Translate(framework).node(tree)))
    if not (parsed.uses_x and parsed.uses_y):
        code = f"{code} + 0.0 * (x + y)  # keeps f a tensor of both coordinates"
    return parsed.normalized, code


def _surface_code(setup: Setup, framework: str) -> tuple[str, str]:
    """(function code, one-line description for the header)."""
    if setup.surface == CUSTOM:
        normalized, code = formula_code(setup.expression, framework)
        extra = _TORCH_SOFTPLUS if framework == "pytorch" and "_softplus" in code else ""
        return (
            f"def f(x, y):\n    # the Playground's custom formula: {normalized}\n    return {code}\n{extra}",
            f"custom formula f(x, y) = {normalized}",
        )
    surface = SURFACES[setup.surface]
    params = surface.resolve_params(dict(setup.surface_params))
    shown = ", ".join(f"{k} = {v:g}" for k, v in params.items())
    return (
        _named_surface_code(setup.surface, params, framework),
        f"{surface.label}" + (f" ({shown})" if shown else ""),
    )


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


def _schedule_code(schedule: Schedule, steps: int, framework: str) -> str:
    """The body of `learning_rate(base)` (optax, Keras) or `make_scheduler(optimizer, base)`."""
    kind = schedule.kind
    if kind == "warmup" and schedule.warmup_steps == 1:
        kind = "constant"  # min(1, (t + 1)/1) = 1
    g, every, fin, w = (
        _num(schedule.decay_rate),
        schedule.decay_every,
        _num(schedule.final_fraction),
        schedule.warmup_steps,
    )
    if framework == "optax":
        return {
            "constant": "    return base",
            "step": f"    # α·γ^⌊t/T⌋\n    return optax.exponential_decay(init_value=base, "
            f"transition_steps={every}, decay_rate={g}, staircase=True)",
            "cosine": f"    # α·(f + (1 − f)·½(1 + cos(π·t/N)))\n    return optax.cosine_decay_schedule("
            f"init_value=base, decay_steps=STEPS, alpha={fin})",
            "warmup": f"    # α·min(1, (t + 1)/W): a linear ramp from α/W at t = 0 to α at t = W − 1\n"
            f"    return optax.linear_schedule(init_value=base / {w}, end_value=base, "
            f"transition_steps={w - 1})",
        }[kind]
    if framework == "keras":
        s = "keras.optimizers.schedules"
        return {
            "constant": "    return base",
            "step": f"    # α·γ^⌊t/T⌋\n    return {s}.ExponentialDecay(initial_learning_rate=base, "
            f"decay_steps={every}, decay_rate={g}, staircase=True)",
            "cosine": f"    # α·(f + (1 − f)·½(1 + cos(π·t/N)))\n    return {s}.CosineDecay("
            f"initial_learning_rate=base, decay_steps=STEPS, alpha={fin})",
            "warmup": f"    # α·min(1, (t + 1)/W): a linear ramp from α/W at t = 0 to α at t = W − 1\n"
            f"    return {s}.PolynomialDecay(initial_learning_rate=base / {w}, "
            f"decay_steps={w - 1}, end_learning_rate=base, power=1.0)",
        }[kind]
    s = "torch.optim.lr_scheduler"
    return {
        "constant": "    return None  # a constant learning rate",
        "step": f"    # α·γ^⌊t/T⌋\n    return {s}.StepLR(optimizer, step_size={every}, gamma={g})",
        "cosine": f"    # α·(f + (1 − f)·½(1 + cos(π·t/N)))\n    return {s}.CosineAnnealingLR(optimizer, "
        f"T_max=STEPS, eta_min={fin} * base)",
        "warmup": f"    # α·min(1, (t + 1)/W): a linear ramp from α/W at t = 0 to α at t = W − 1\n"
        f"    return {s}.LinearLR(optimizer, start_factor=1.0 / {w}, end_factor=1.0, "
        f"total_iters={w - 1})",
    }[kind]


def _schedule_text(schedule: Schedule) -> str:
    if schedule.kind == "constant":
        return "constant learning rate"
    if schedule.kind == "step":
        return f"step decay: α·{schedule.decay_rate:g}^⌊t/{schedule.decay_every}⌋"
    if schedule.kind == "cosine":
        return f"cosine decay to {schedule.final_fraction:g}·α over the run"
    return f"linear warm-up over {schedule.warmup_steps} steps"


# --------------------------------------------------------------------------------------------
# The script
# --------------------------------------------------------------------------------------------


def _labels(setup: Setup) -> list[str]:
    """The runs' names as the app's legends write them (`entry_label`)."""
    return [
        entry_label(setup, i) if entry.name in OPTIMIZERS else entry.name
        for i, entry in enumerate(setup.optimizers)
    ]


def _entries(setup: Setup, framework: str) -> list[tuple[str, str, OptimizerCode, dict[str, float]]]:
    out: list[tuple[str, str, OptimizerCode, dict[str, float]]] = []
    for label, entry in zip(_labels(setup), setup.optimizers):
        if entry.name not in OPTIMIZERS:
            out.append((label, entry.name, _refuse(f"unknown optimizer {entry.name!r}"), {}))
            continue
        hp = resolve_hparams(entry.name, dict(entry.hparams), entry.preset)
        code = _CODERS[framework](entry.name, hp, setup.schedule)
        has_it = framework == "optax" or entry.name in FRAMEWORK_OPTIMIZERS.get(framework, {})
        if not code.ok and has_it and entry.preset != framework:
            short = {"optax": "optax", "pytorch": "PyTorch", "keras": "Keras"}[framework]
            code = _refuse(f"{code.refusal} (the '{framework}' preset on its card gives {short}'s own form)")
        out.append((label, entry.name, code, hp))
    return out


def supported(setup: Setup, framework: str) -> tuple[bool, str]:
    """(True, "") when the script reproduces every optimizer of the setup exactly; otherwise
    (False, one line per optimizer that the script names and skips, or why nothing can be
    exported, e.g. a formula the app refuses)."""
    _check_framework(framework)
    try:
        _surface_code(setup, framework)
        setup.resolved_surface()  # a formula the app refuses (not finite, too costly) too
    except ValueError as err:  # ExpressionError is a ValueError
        return False, f"the surface cannot be exported: {err}"
    refused = [f"{label}: {code.refusal}" for label, _, code, _ in _entries(setup, framework) if not code.ok]
    if refused:
        return False, (
            f"{FRAMEWORK_LABELS[framework]} cannot run these exactly; the script names them "
            "and skips them:\n" + "\n".join(refused)
        )
    return True, ""


def script_filename(setup: Setup, framework: str) -> str:
    _check_framework(framework)
    surface = "custom" if setup.surface == CUSTOM else setup.surface
    return f"playground_{surface}_{framework}.py"


_DIVERGENCE = '''
def left_the_picture(point, loss):
    """The app's rule: a run stops at the first point that is not finite or leaves the square
    |x|, |y| <= BOUND (100 times the plotting domain), or whose loss is not finite."""
    point = np.asarray(point, dtype=np.float64)
    return not (np.all(np.isfinite(point)) and np.isfinite(float(loss)) and np.all(np.abs(point) <= BOUND))
'''

_NOISE = '''
def gradient_noise():
    """The app's gradient noise, number for number: NumPy's default_rng(SEED), one standard
    normal pair per step, in float32, times σ (float32), added to the exact gradient."""
    table = np.random.default_rng(SEED).standard_normal((STEPS, 2)).astype(np.float32)
    return (np.float32(NOISE_SIGMA) * table).astype(np.float64)
'''

_MAIN = '''

def main(verbose=True):
    """Run every optimizer; print and return [(label, final point or None, diverged_at, note)]."""
    results = []
    for label, make, note in OPTIMIZERS:
        if make is None:
            if verbose:
                print(f"{label}: NOT EXPORTED: {note}")
            results.append((label, None, None, note))
            continue
        final, diverged_at = run(make)
        if verbose:
            where = f"left the picture at step {diverged_at}, last point" if diverged_at else "final point"
            print(f"{label}: {where} ({final[0]:.10g}, {final[1]:.10g})")
        results.append((label, final, diverged_at, note))
    return results


if __name__ == "__main__":
    main()
'''

_RUN = {
    "optax": '''

def point(params):
    """The point drawn and differentiated: Lookahead's fast weights, else the params themselves."""
    return params.fast if isinstance(params, optax.LookaheadParams) else params


def run(make):
    """Returns (last point inside the picture, None or the step at which the run left it)."""
    made = make()
    # Lookahead's make() also says how its params hold the point (fast and slow weights)
    plain = isinstance(made, optax.GradientTransformation)
    optimizer, wrap = (made, lambda start: start) if plain else made
    value_and_grad = jax.value_and_grad(lambda p: f(p[0], p[1]))

    @jax.jit
    def step(params, state, grad):
        updates, state = optimizer.update(grad, state, params)
        params = optax.apply_updates(params, updates)
        return params, state, *value_and_grad(point(params))

    params = wrap(jnp.asarray(START, dtype=jnp.float64))
    state = optimizer.init(params)
    noise = gradient_noise()
    loss, grad = value_and_grad(point(params))
    for t in range(STEPS):
        new_params, state, loss, grad = step(params, state, grad + noise[t])
        if left_the_picture(point(new_params), loss):
            return np.asarray(point(params)), t + 1
        params = new_params
    return np.asarray(point(params)), None
''',
    "pytorch": '''

def run(make):
    """Returns (last point inside the picture, None or the step at which the run left it)."""
    point = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer, scheduler = make([point])
    noise = torch.from_numpy(gradient_noise())
    for t in range(STEPS):
        optimizer.zero_grad()
        loss = f(point[0], point[1])
        loss.backward()
        point.grad += noise[t]
        previous = point.detach().clone()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            loss = f(point[0], point[1])
        if left_the_picture(point.detach().numpy(), loss.item()):
            return previous.numpy(), t + 1
    return point.detach().numpy().copy(), None
''',
    "keras": '''

def run(make):
    """Returns (last point inside the picture, None or the step at which the run left it)."""
    optimizer = make()
    point = keras.Variable(np.asarray(START, dtype=np.float64), dtype="float64")
    value_and_grad = jax.jit(jax.value_and_grad(lambda p: f(p[0], p[1])))
    noise = gradient_noise()
    loss, grad = value_and_grad(point.value)
    for t in range(STEPS):
        previous = np.asarray(point.value)
        optimizer.apply_gradients([(grad + noise[t], point)])
        loss, grad = value_and_grad(point.value)
        if left_the_picture(point.value, loss):
            return previous, t + 1
    return np.asarray(point.value), None
''',
}

_IMPORTS = {
    "optax": (
        "import math\n\nimport numpy as np\nimport jax\n\n"
        'jax.config.update("jax_enable_x64", True)  # float64, before any array is made\n'
        "import jax.numpy as jnp  # noqa: E402\nimport optax  # noqa: E402\n"
    ),
    "pytorch": "import math\n\nimport numpy as np\nimport torch\n\ntorch.set_default_dtype(torch.float64)\n",
    "keras": (
        'import math\nimport os\n\nos.environ.setdefault("KERAS_BACKEND", "jax")\n\n'
        "import numpy as np  # noqa: E402\nimport jax  # noqa: E402\n\n"
        'jax.config.update("jax_enable_x64", True)  # float64, before any array is made\n'
        "import jax.numpy as jnp  # noqa: E402  (the surface: keras.ops.cos is float32 only)\n"
        "import keras  # noqa: E402\n\n"
        'if keras.backend.backend() != "jax":\n'
        '    raise SystemExit("This script takes gradients with jax.grad: run it with "\n'
        '                     f"KERAS_BACKEND=jax (the backend is {keras.backend.backend()!r}).")\n'
        'keras.config.set_floatx("float64")\n'
    ),
}


def _optimizer_block(framework: str, entries) -> str:
    lines = []
    if framework == "pytorch":
        lines.append("# (label, make(params) -> (optimizer, scheduler) or None, note)")
    else:
        lines.append("# (label, make() -> optimizer or None, note)")
    lines.append("OPTIMIZERS = [")
    for label, name, code, hp in entries:
        settings = ", ".join(f"{k}={v:g}" for k, v in hp.items())
        if not code.ok:
            lines.append(f"    # {label}: NOT EXPORTED. {code.refusal}.")
            lines.append(f"    ({label!r}, None, {code.refusal!r}),")
            continue
        lines.append(f"    # {label}: the app's {name}({settings})")
        if code.comment:
            lines.append(f"    # {code.comment}")
        lr = _num(hp["learning_rate"])
        if framework == "pytorch":
            expr = code.code.replace("LR", lr)
            lines.append(f'    ({label!r}, lambda params: _with_scheduler(\n        {expr}, {lr}), ""),')
        else:
            expr = code.code.replace("LR", f"learning_rate({lr})")
            lines.append(f'    ({label!r}, lambda: (\n        {expr}), ""),')
    lines.append("]")
    return "\n".join(lines) + "\n"


def export_script(setup: Setup, framework: str) -> str:
    """The whole script for `framework` ("optax", "pytorch" or "keras"). Raises ValueError
    (surfaces.ExpressionError for a bad formula) when the surface cannot be written."""
    _check_framework(framework)
    surface_code, surface_text = _surface_code(setup, framework)
    surface = setup.resolved_surface()
    start = setup.resolved_start()
    entries = _entries(setup, framework)
    ok, why = supported(setup, framework)
    noise = float(setup.noise)
    header = [
        f'"""Optimizer Playground setup, exported as a standalone {FRAMEWORK_LABELS[framework]} script.',
        "",
        f"Surface: {surface_text}.",
        f"Start ({start[0]:g}, {start[1]:g}), {setup.steps} steps, {_schedule_text(setup.schedule)}, "
        + (f"gradient noise σ = {noise:g} (seed {setup.seed})." if noise > 0 else "no gradient noise."),
        "",
        "Runs in float64. The Playground computes in float32, so over a long or chaotic run the last",
        "digits of its points can differ; the update rules are the same (checked by the app's tests).",
    ]
    if noise > 0:
        header += ["The noise is the app's own: the same NumPy generator, seed and draws."]
    if not ok:
        header += [
            "",
            "NOT EVERYTHING IS EXPORTED: "
            + FRAMEWORK_LABELS[framework]
            + " cannot run these exactly, so the script names them and skips them:",
        ]
        header += [f"  - {line}" for line in why.splitlines()[1:]]
    header += ["", f"Requires: {_REQUIRES[framework]}.", '"""', ""]
    parts = [
        "\n".join(header),
        _IMPORTS[framework],
        "",
        f"STEPS = {int(setup.steps)}",
        f"START = ({_num(start[0])}, {_num(start[1])})",
        f"NOISE_SIGMA = {_num(noise)}",
        f"SEED = {int(setup.seed)}",
        f"BOUND = {_num(divergence_bound(surface))}  # a run stops once |x| or |y| exceeds it",
        "",
        "",
        surface_code,
        _NOISE,
        _DIVERGENCE,
        "",
    ]
    if framework == "pytorch":
        parts += [
            "def make_scheduler(optimizer, base):",
            '    """The learning-rate schedule (None: constant), stepped once after every step."""',
            _schedule_code(setup.schedule, setup.steps, framework),
            "",
            "",
            "def _with_scheduler(optimizer, base):",
            "    return optimizer, make_scheduler(optimizer, base)",
            "",
            "",
        ]
    else:
        parts += [
            "def learning_rate(base):",
            '    """The learning rate, or the schedule starting at it (evaluated at t = 0, 1, …)."""',
            _schedule_code(setup.schedule, setup.steps, framework),
            "",
            "",
        ]
    parts += [_optimizer_block(framework, entries), _RUN[framework], _MAIN]
    return "\n".join(parts)


@dataclass(frozen=True)
class ScriptDownload:
    """One download button's worth: the file, or why there is none."""

    framework: str
    label: str  # "optax (JAX)", "PyTorch", "Keras 3"
    filename: str
    text: str | None  # None: nothing can be exported (the surface); see `note`
    complete: bool  # every optimizer of the setup is in the script
    note: str  # what is missing and why ("" when complete)


def script_downloads(setup: Setup) -> list[ScriptDownload]:
    """The three scripts for a setup, each with whether it is complete and what it skips."""
    out = []
    for framework in FRAMEWORKS:
        ok, note = supported(setup, framework)
        try:
            text: str | None = export_script(setup, framework)
        except ValueError as err:
            text, ok, note = None, False, f"the surface cannot be exported: {err}"
        out.append(
            ScriptDownload(
                framework, FRAMEWORK_LABELS[framework], script_filename(setup, framework), text, ok, note
            )
        )
    return out
