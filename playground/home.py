"""The home page's live demo: the ravine setup behind its slider and the check of its text.

The page itself (widgets, links) is app_pages/home.py."""

from __future__ import annotations

from collections.abc import Mapping

from playground.compute import PlaygroundRun
from playground.setup import OptimizerEntry, Setup

DEMO_OPTIMIZERS = ("sgd", "momentum", "adam")
# The ravine of the "Zig-zag in a ravine" lesson: 100 times steeper across than along, turned 30°.
DEMO_SURFACE_PARAMS = {"condition": 100.0, "angle": 30.0}
DEMO_START = (-2.8, -1.0)
DEMO_STEPS = 150
DEMO_SGD_RATES = (0.005, 0.01, 0.015, 0.019, 0.021)  # the slider: SGD's α only
DEMO_SGD_DEFAULT = 0.019
DEMO_FIXED = {"momentum": {"learning_rate": 0.004, "momentum": 0.9}, "adam": {"learning_rate": 0.05}}
DEMO_TEXT = (
    "A narrow ravine, 100 times steeper across than along, turned by 30°. SGD's α is capped by "
    "the steep walls at 2/100 = 0.02: at 0.021 it is thrown out of the valley, at 0.019 it bounces "
    "from wall to wall, at 0.01 or less it crawls along the floor without bouncing. Whatever you "
    "pick, momentum (μ = 0.9, α = 0.004) reaches the minimum and SGD does not. Adam (α = 0.05) "
    "steps about α in each coordinate; with the valley turned, its per-coordinate scaling does not "
    "help, and after 150 steps it is still on its way. Move α."
)


def demo_setup(
    sgd_lr: float,
    fixed: Mapping[str, Mapping[str, float]] | None = None,
    start: tuple[float, float] = DEMO_START,
) -> Setup:
    """The home page's ravine demo with SGD at learning rate `sgd_lr` (also what its link opens).

    `fixed` overrides the other optimizers' settings and `start` the start (the tests nudge both).
    """
    fixed = DEMO_FIXED if fixed is None else fixed
    settings = {**fixed, "sgd": {"learning_rate": sgd_lr}}
    return Setup(
        surface="ravine",
        steps=DEMO_STEPS,
        start=start,
        surface_params=dict(DEMO_SURFACE_PARAMS),
        optimizers=tuple(
            OptimizerEntry(n, {**OptimizerEntry.default(n).hparams, **settings.get(n, {})})
            for n in DEMO_OPTIMIZERS
        ),
    )


def demo_text_holds(run: PlaygroundRun, sgd_lr: float) -> bool:
    """DEMO_TEXT, checked on the demo's runs at SGD's α = `sgd_lr` (one of DEMO_SGD_RATES)."""
    sgd, momentum, adam = run.metrics
    if sgd_lr > 0.02:
        sgd_ok = sgd.diverged_at is not None
    else:
        sgd_ok = sgd.diverged_at is None and sgd.steps_to_tol is None
        if sgd_lr == 0.019:
            sgd_ok &= sgd.zigzag > 0.5
        if sgd_lr <= 0.01:
            sgd_ok &= sgd.zigzag < 0.05
    return (
        sgd_ok
        and momentum.steps_to_tol is not None
        and adam.steps_to_tol is None
        and adam.final_distance > 0.3
    )
