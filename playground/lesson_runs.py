"""Run a lesson the way the Playground does, and its nudged variants, batched.

A lesson's claim must survive a careful teacher: the start's x and y and every learning rate
nudged by ±10 % (one at a time), and, where the lesson has gradient noise, ten noise seeds.
`variant_setups` builds those setups; `run_setups` runs many of them with one `run_batch` call
per group of setups that share everything `run_batch` shares (surface, noise, seed, steps,
schedule, surface parameters), and returns for each setup the same `PlaygroundRun` the page
would show (`playground.compute.run_setup`), metrics included.

`python -m playground.lesson_runs` prints every lesson's claims and how often each holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optim_core.engine import RunConfig, run_batch
from optim_core.metrics import compute_metrics
from playground.compute import PlaygroundRun, entry_label
from playground.lessons import LESSONS, Claim, Lesson
from playground.setup import OptimizerEntry, Setup, from_query

NUDGES: tuple[tuple[str, float], ...] = (
    ("x0", 0.9),
    ("x0", 1.1),
    ("y0", 0.9),
    ("y0", 1.1),
    ("lr", 0.9),
    ("lr", 1.1),
)
NOISE_SEEDS: tuple[int, ...] = tuple(range(10))


def lesson_setup(lesson: Lesson, claim: Claim | None = None) -> Setup:
    """The lesson's setup as the Playground reads it from its link (with the claim's changes)."""
    query = {**lesson.query, **(claim.changes if claim is not None else {})}
    setup, warnings = from_query(query)
    if warnings:
        raise ValueError(f"lesson {lesson.slug!r} has a bad link: {warnings}")
    return setup


def nudged(setup: Setup, what: str, factor: float) -> Setup:
    """`setup` with the start's x or y, or every optimizer's learning rate, times `factor`."""
    if what == "lr":
        return setup.with_changes(
            optimizers=tuple(
                OptimizerEntry(
                    e.name, {**e.hparams, "learning_rate": e.hparams["learning_rate"] * factor}, e.preset
                )
                for e in setup.optimizers
            )
        )
    x, y = setup.resolved_start()
    if what == "x0":
        return setup.with_changes(start=(x * factor, y))
    if what == "y0":
        return setup.with_changes(start=(x, y * factor))
    raise ValueError(f"unknown nudge {what!r}")


def variant_setups(setup: Setup) -> list[tuple[str, Setup]]:
    """The setup itself and its six nudged variants, each with a short name ("x0×0.9", ...);
    with gradient noise, each of those over every seed in NOISE_SEEDS."""
    base = [("as given", setup)] + [
        (f"{what}×{factor:g}", nudged(setup, what, factor)) for what, factor in NUDGES
    ]
    if setup.noise == 0:
        return base
    return [(f"{name}, seed {seed}", s.with_changes(seed=seed)) for name, s in base for seed in NOISE_SEEDS]


@dataclass(frozen=True)
class ClaimReport:
    lesson: str
    claim: str
    held: int  # in how many runs the claim held (per variant: all seeds counted)
    runs: int
    failures: tuple[str, ...]  # the variants whose count fell short


def _shared_key(setup: Setup) -> tuple[object, ...]:
    return (
        setup.surface,
        setup.expression,
        tuple(sorted(setup.surface_params.items())),
        setup.noise,
        setup.seed,
        setup.steps,
        setup.schedule,
    )


def run_setups(setups: Sequence[Setup]) -> list[PlaygroundRun]:
    """What `run_setup` returns for each setup, with one batched engine call per shared group."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, setup in enumerate(setups):
        groups.setdefault(_shared_key(setup), []).append(i)
    out: list[PlaygroundRun | None] = [None] * len(setups)
    for members in groups.values():
        first = setups[members[0]]
        surface = first.resolved_surface()
        params = dict(first.surface_params)
        configs, owners = [], []
        for i in members:
            setup = setups[i]
            for k, e in enumerate(setup.optimizers):
                configs.append(
                    RunConfig(
                        e.name, dict(e.hparams), e.preset, setup.resolved_start(), entry_label(setup, k)
                    )
                )
                owners.append(i)
        trajectories = run_batch(
            surface,
            configs,
            steps=first.steps,
            seed=first.seed,
            noise=first.noise,
            schedule=first.schedule,
            surface_params=params,
        )
        for i in members:
            mine = tuple(t for t, owner in zip(trajectories, owners) if owner == i)
            metrics = tuple(compute_metrics(t, surface, surface_params=params) for t in mine)
            out[i] = PlaygroundRun(surface, mine, metrics)
    return out  # type: ignore[return-value]


def check_claim(lesson: Lesson, claim: Claim) -> ClaimReport:
    """Run the claim's setup and all its variants; count where the claim holds."""
    variants = variant_setups(lesson_setup(lesson, claim))
    runs = run_setups([s for _, s in variants])
    held_by_variant: dict[str, list[bool]] = {}
    for (name, _), run in zip(variants, runs):
        held_by_variant.setdefault(name.split(", seed")[0], []).append(bool(claim.check(run)))
    failures = []
    for name, results in held_by_variant.items():
        needed = claim.holds_in if len(results) > 1 else 1
        if sum(results) < needed:
            failures.append(f"{name}: held in {sum(results)} of {len(results)}")
    held = sum(sum(r) for r in held_by_variant.values())
    total = sum(len(r) for r in held_by_variant.values())
    return ClaimReport(lesson.slug, claim.text, held, total, tuple(failures))


def main() -> None:
    for lesson in LESSONS:
        for claim in lesson.claims:
            report = check_claim(lesson, claim)
            status = "ok  " if not report.failures else "FAIL"
            print(f"{status} {lesson.slug}: held in {report.held} of {report.runs} runs: {claim.text}")
            for failure in report.failures:
                print(f"       {failure}")


if __name__ == "__main__":
    main()
