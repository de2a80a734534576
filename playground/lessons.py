"""Guided lessons: each one a full Playground setup (as a share-link query) and what to look at.

Every lesson states what it shows as checkable sentences (`claims`): each claim's text is part
of the lesson's text on the page, and its `check` tests it on the runs the page shows
(a `PlaygroundRun`: trajectories and metrics, in the order of the lesson's optimizers).
Every lesson also asks one question first (`question`, a `playground.quiz.Question`), whose
right answer the same run decides; the Lessons page shows the run only after the student answers.
tests/playground/test_lessons.py runs every claim at the lesson's setup, with the start's x and
y and every α nudged by ±10 % (one at a time), and over ten noise seeds where there is noise
(`playground.lesson_runs`). A claim holds in all of those runs, or says "in N of 10 seeds" and
sets `holds_in`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from optim_core.trajectory import Trajectory
from playground.numbers import format_number
from playground.quiz import Question, clear_winner, first_to_tolerance, reach_sentences, who_reaches

if TYPE_CHECKING:
    from playground.compute import PlaygroundRun


@dataclass(frozen=True)
class Claim:
    """One checkable sentence of a lesson and its test on the runs of the lesson's setup."""

    text: str  # shown on the page, verbatim, inside the lesson's text
    check: Callable[[PlaygroundRun], bool]
    changes: Mapping[str, str] = field(default_factory=dict)  # link changes (e.g. σ = 0)
    holds_in: int = 10  # with noise: in how many of the ten seeds the claim holds


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    summary: str  # one line for the home page and the Lessons page
    explain: str  # what to look at and why, shown above the figures
    query: dict[str, str | list[str]]  # the Playground setup, in share-link form
    question: Question  # asked before the run is shown; the run decides the answer
    claims: tuple[Claim, ...] = ()

    @property
    def look_for(self) -> str:
        """The text of the lesson's info box: the explanation, then the claims to check."""
        return f"{self.explain} **Check:** {' '.join(c.text for c in self.claims)}"


# --- what the checks measure ------------------------------------------------------------------


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _never(step: int | None) -> float:
    return math.inf if step is None else float(step)


def off_ridge_step(traj: Trajectory, limit: float = 1.0) -> int | None:
    """First step at which the path is more than `limit` off the saddle's ridge (|y| > limit)."""
    with np.errstate(invalid="ignore"):
        return _first(np.abs(traj.path[:, 1]) > limit)


def distances(traj: Trajectory, point: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    return np.linalg.norm(traj.path - np.asarray(point, np.float32), axis=1)


def first_step_length(traj: Trajectory) -> float:
    return float(np.linalg.norm(traj.path[1] - traj.path[0]))


def end_x(traj: Trajectory) -> float:
    """x of the last finite position."""
    finite = traj.path[np.all(np.isfinite(traj.path), axis=1)]
    return float(finite[-1, 0])


# --- the claims ----------------------------------------------------------------------------


def _ravine_claim(run: PlaygroundRun) -> bool:
    sgd, momentum = run.metrics
    return (
        momentum.steps_to_tol is not None
        and sgd.steps_to_tol is None
        and sgd.final_distance > 0.3
        and sgd.zigzag > 0.25
        and momentum.zigzag < 0.1
    )


def _rosenbrock_claim(run: PlaygroundRun) -> bool:
    sgd, momentum, adam, rmsprop = run.trajectories
    m_sgd, m_momentum, m_adam, m_rmsprop = run.metrics
    into_valley = all(t.loss[50] < 5.0 for t in run.trajectories)
    return (
        into_valley
        and 0.0 < end_x(sgd) < 0.5
        and 0.6 < end_x(rmsprop) < 0.95
        and m_rmsprop.final_distance > 0.1
        and m_momentum.steps_to_tol is not None
        and m_adam.steps_to_tol is not None
    )


def _saddle_noise_claim(run: PlaygroundRun) -> bool:
    sgd, momentum, adam = (_never(off_ridge_step(t)) for t in run.trajectories)
    still_on_screen = all(t.diverged_at is None for t in run.trajectories)
    return (
        max(momentum, adam) <= 35
        and sgd == math.inf
        and 15 <= adam <= 25
        and len(run.trajectories[0].path) == 36
        and still_on_screen
    )


def _saddle_later_claim(run: PlaygroundRun) -> bool:
    return 50 < _never(off_ridge_step(run.trajectories[0])) <= 150


def _saddle_still_claim(run: PlaygroundRun) -> bool:
    return all(distances(t)[-1] < 0.02 for t in run.trajectories)


def _noise_claim(run: PlaygroundRun) -> bool:
    big, small = run.trajectories
    big_in, small_in = (_never(_first(distances(t) < 1.0)) for t in (big, small))
    big_late, small_late = (float(np.mean(distances(t)[-100:])) for t in (big, small))
    return (
        big_in < 10
        and small_in > 25
        and small_late < 0.5 * big_late
        and run.metrics[1].final_distance < run.metrics[0].final_distance
    )


def _cosine_claim(run: PlaygroundRun) -> bool:
    big = run.trajectories[0]
    return _never(_first(distances(big) < 1.0)) < 10 and float(np.mean(distances(big)[-100:])) < 0.25


def _bias_claim(run: PlaygroundRun) -> bool:
    corrected, uncorrected = run.trajectories
    ratio = first_step_length(uncorrected) / first_step_length(corrected)
    return (
        abs(ratio - 0.1 / math.sqrt(0.001)) < 0.01
        and run.metrics[0].steps_to_tol is not None
        and run.metrics[1].final_loss > 20.0
    )


def _extreme_claim(run: PlaygroundRun) -> bool:
    default, huge_eps, small_b2 = run.metrics
    return (
        default.steps_to_tol is not None
        and huge_eps.steps_to_tol is not None
        and huge_eps.steps_to_tol >= 1.5 * default.steps_to_tol
        and small_b2.path_ratio > 2.5
        and default.path_ratio < 1.2
        and small_b2.final_distance > 0.005
        and default.final_distance < 1e-4
    )


def _frameworks_claim(run: PlaygroundRun) -> bool:
    keras, pytorch = run.trajectories
    alpha = keras.hparams["learning_rate"]
    return (
        bool(np.all(np.abs(keras.updates[0]) < 0.03 * alpha))
        and bool(np.all(np.abs(pytorch.updates[0]) > 0.6 * alpha))
        and run.metrics[1].steps_to_tol is not None
        and run.metrics[0].steps_to_tol is None
        and keras.loss[-1] > 0.99
    )


def _frameworks_later_claim(run: PlaygroundRun) -> bool:
    keras, pytorch = (m.steps_to_tol for m in run.metrics)
    return keras is not None and pytorch is not None and 1.5 * pytorch <= keras <= 3 * pytorch


# --- the questions: each answer and its reason come from the run ----------------------------


def _n(value: float) -> str:
    return format_number(value, 3)


def _pattern(run: PlaygroundRun, table: Mapping[tuple[bool, ...], int]) -> int | None:
    """The choice for who reaches the tolerance (a tuple of booleans, one per optimizer)."""
    return table.get(who_reaches(run))


def _ravine_answer(run: PlaygroundRun) -> int | None:
    return first_to_tolerance(run, none_choice=2)


def _ravine_why(run: PlaygroundRun) -> str:
    sgd, momentum = run.metrics
    return (
        f"{reach_sentences(run)} SGD's zig-zag is {sgd.zigzag:.2f}: {sgd.zigzag:.0%} of its path went "
        f"back and forth across the valley; momentum's is {momentum.zigzag:.2f}. A smaller α did not "
        "make momentum slow: its velocity adds up the small pushes along the floor, which all point "
        "the same way, and cancels the pushes across it, which alternate."
    )


def _rosenbrock_why(run: PlaygroundRun) -> str:
    by_50 = max(float(t.loss[50]) for t in run.trajectories)
    return (
        f"{reach_sentences(run)} By step 50 every loss was below {_n(by_50)}: all four found the "
        "valley fast. Following its flat, curved floor is what separates them: Adam scales each "
        "coordinate's step by its recent gradient size and adds momentum on top; RMSprop scales but "
        "has no momentum; SGD's α is capped by the steep walls."
    )


def _saddle_answer(run: PlaygroundRun) -> int | None:
    stuck = [i for i, t in enumerate(run.trajectories) if off_ridge_step(t) is None]
    if not stuck:
        return 3
    return stuck[0] if len(stuck) == 1 else None


def _saddle_why(run: PlaygroundRun) -> str:
    parts = []
    for t in run.trajectories:
        step = off_ridge_step(t)
        if step is None:
            parts.append(f"{t.label} was still within 1 of the ridge after {t.steps} steps")
        else:
            parts.append(f"{t.label} left it (|y| > 1) at step {step}")
    return (
        "; ".join(parts) + ". The noise tips every run a little off the ridge. From there SGD's "
        "distance from the ridge grows only by 1 + 2α = 1.1 per step, momentum compounds that growth, "
        "and Adam divides by √v̂, so its step in y stays about α however small the gradient is."
    )


def _late_distance(traj: Trajectory) -> float:
    """Mean distance from the minimum (0, 0) over the last 100 steps."""
    return float(np.mean(distances(traj)[-100:]))


def _noise_answer(run: PlaygroundRun) -> int | None:
    late = [_late_distance(t) for t in run.trajectories]
    if max(late) < 1.25 * min(late):
        return 2
    return clear_winner(late, margin=1.5)


def _noise_why(run: PlaygroundRun) -> str:
    big, small = run.trajectories
    arrive = [_first(distances(t) < 1.0) for t in (big, small)]
    when = [f"at step {a}" if a is not None else "never" for a in arrive]
    return (
        f"Over the last 100 steps the large step stayed on average {_n(_late_distance(big))} from the "
        f"minimum, the small one {_n(_late_distance(small))}. But the large step came within 1 of it "
        f"{when[0]}, the small one {when[1]}. Each noisy gradient moves SGD by α times the noise: a "
        "large α arrives fast and then rattles around; a small one arrives late and settles closer. "
        "A decaying schedule gets both."
    )


def _bias_why(run: PlaygroundRun) -> str:
    corrected, uncorrected = run.trajectories
    ratio = first_step_length(uncorrected) / first_step_length(corrected)
    return (
        f"{reach_sentences(run, ('The corrected Adam', 'the uncorrected one'))} "
        "The uncorrected first step was "
        f"{ratio:.2f} times as long as the corrected one's ({_n(first_step_length(uncorrected))} against "
        f"{_n(first_step_length(corrected))}): without the correction, m and v start near zero and "
        "the early steps are set by β₁ and β₂, not by α; on this surface they throw it out of the "
        "central basin."
    )


def _extreme_answer(run: PlaygroundRun) -> int | None:
    return clear_winner([m.path_ratio for m in run.metrics], lowest=False, margin=1.5)


def _extreme_why(run: PlaygroundRun) -> str:
    ratios = ", ".join(f"{m.label}: {m.path_ratio:.2f}" for m in run.metrics)
    return (
        f"Path length divided by the straight line from start to end: {ratios} (1 is a straight "
        "line). With β₂ = 0.5, v̂ follows only the last few squared gradients, so the step size jumps "
        "whenever the gradient changes. With ε = 1 the path stays straight but slow: the denominator "
        f"is mostly ε, so the step is about α·m̂, like SGD with momentum. {reach_sentences(run)}"
    )


FRAMEWORK_NAMES = ("Keras's Adam", "PyTorch's Adam")


def _frameworks_why(run: PlaygroundRun) -> str:
    keras, pytorch = run.trajectories
    alpha = keras.hparams["learning_rate"]
    first = [float(np.max(np.abs(t.updates[0]))) / alpha for t in (keras, pytorch)]
    return (
        f"{reach_sentences(run, FRAMEWORK_NAMES)} The first step was "
        f"{first[0]:.1%} of α for Keras and {first[1]:.0%} of α for PyTorch. The slope here is "
        "about 10⁻⁷: Keras adds ε = 10⁻⁷ to the uncorrected √v, which is then smaller than ε, so ε "
        "sets the step; PyTorch adds ε = 10⁻⁸ to the bias-corrected √v̂, and its first step is "
        "close to α."
    )


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="ravine",
        title="Zig-zag in a ravine",
        summary="Plain SGD bounces between the steep walls of a narrow valley and crawls along it; "
        "momentum glides to the minimum.",
        explain="The ravine is 100 times steeper across than along. SGD's α must stay below "
        "2/100 = 0.02 or it is thrown out of the valley; at α = 0.018 it first bounces from "
        "wall to wall, then crawls along the flat floor, losing only 1.8 % of the remaining "
        "distance per step. Momentum (μ = 0.9, α = 0.004) swings across in slow, wide arcs "
        "that die out, while its speed along the floor builds up. The **zig-zag** column "
        "(Metrics) is the share of the path spent going back and forth across the valley.",
        query={
            "s": "ravine",
            "sp.condition": "100",
            "sp.angle": "30",
            "steps": "100",
            "x0": "-2.8",
            "y0": "-1",
            "o": ["sgd(learning_rate=0.018)", "momentum(learning_rate=0.004,momentum=0.9)"],
        },
        question=Question(
            "SGD (α = 0.018) and momentum (α = 0.004, μ = 0.9) start together at (−2.8, −1) in a "
            "ravine 100 times steeper across than along. Momentum's α is 4.5 times smaller. Which "
            "one reaches the minimum first, within 100 steps?",
            ("SGD", "Momentum", "Neither, in 100 steps"),
            _ravine_answer,
            _ravine_why,
        ),
        claims=(
            Claim(
                "After 100 steps momentum has reached the tolerance and SGD has not (it is "
                "still more than 0.3 from the minimum); SGD's zig-zag is above 0.25, "
                "momentum's below 0.1.",
                _ravine_claim,
            ),
        ),
    ),
    Lesson(
        slug="rosenbrock",
        title="The Rosenbrock valley",
        summary="Finding the curved valley is easy; following it to the minimum is the hard part.",
        explain="From (−1.2, 1) every optimizer drops into the banana-shaped valley within a few "
        "dozen steps, then slows down: the floor is nearly flat and curved. SGD's α is capped "
        "by the steep walls, so it crawls; momentum (same α) builds up speed along the floor; "
        "RMSprop and Adam scale each coordinate's step by its recent gradient size, and Adam "
        "adds momentum on top. Open Internals to watch Adam's per-coordinate step size.",
        query={
            "s": "rosenbrock",
            "steps": "1000",
            "x0": "-1.2",
            "y0": "1",
            "o": [
                "sgd(learning_rate=0.001)",
                "momentum(learning_rate=0.001)",
                "adam(learning_rate=0.3)",
                "rmsprop(learning_rate=0.005)",
            ],
        },
        question=Question(
            "Four optimizers start at (−1.2, 1) on the Rosenbrock function and take 1000 steps: SGD "
            "(α = 0.001), momentum (α = 0.001, μ = 0.9), Adam (α = 0.3) and RMSprop (α = 0.005). "
            "Which one reaches the minimum at (1, 1) first?",
            ("SGD", "Momentum", "Adam", "RMSprop"),
            first_to_tolerance,
            _rosenbrock_why,
        ),
        claims=(
            Claim(
                "By step 50 every loss is below 5: all four are on the valley floor. After 1000 "
                "steps SGD "
                "has only just passed the valley's bottom (its end has 0 < x < 0.5), RMSprop "
                "is still short of the minimum (0.6 < x < 0.95, more than 0.1 away), and "
                "momentum and Adam have both reached it (within the tolerance).",
                _rosenbrock_claim,
            ),
        ),
    ),
    Lesson(
        slug="saddle",
        title="Escaping a saddle",
        summary="Start exactly on a saddle's ridge: without noise, gradient descent slides into "
        "the saddle point and stays; with noise, how fast you leave depends on the optimizer.",
        explain="At (1, 0) the gradient of x² − y² points straight at the saddle point and has no y "
        "component. A little gradient noise (σ = 0.02) tips every run off the ridge; then "
        "SGD's distance from the ridge grows only by the factor 1 + 2α = 1.1 per step, "
        "momentum compounds it, and Adam divides by √v̂, so its step in y stays about α "
        "however small the gradient: it walks off in about 1/α = 20 steps. Runs that run "
        "downhill for good leave the picture: this surface has no minimum.",
        query={
            "s": "saddle",
            "steps": "35",
            "x0": "1",
            "y0": "0",
            "noise": "0.02",
            "seed": "0",
            "o": ["sgd(learning_rate=0.05)", "momentum(learning_rate=0.05)", "adam(learning_rate=0.05)"],
        },
        question=Question(
            "f = x² − y². SGD, momentum and Adam (each α = 0.05) start on the ridge at (1, 0), where "
            "the gradient points straight at the saddle point, with a little gradient noise "
            "(σ = 0.02). Which one is still on the ridge (|y| ≤ 1) after 35 steps?",
            ("SGD", "Momentum", "Adam", "None: all three leave it"),
            _saddle_answer,
            _saddle_why,
        ),
        claims=(
            Claim(
                "In 10 of 10 noise seeds, within these 35 steps Adam and momentum move "
                "more than 1 off the ridge (|y| > 1; Adam after 15 to 25 steps) while SGD "
                "is still within 1 of it.",
                _saddle_noise_claim,
            ),
            Claim(
                "Raise the steps to 150: SGD leaves too, after 50 to 150 steps: it is slow, not stuck.",
                _saddle_later_claim,
                changes={"steps": "150"},
            ),
            Claim(
                "Set σ to 0 and the steps to 100: then all three slide into the saddle point "
                "and stay there (at the end each is within 0.02 of it).",
                _saddle_still_claim,
                changes={"noise": "0", "steps": "100"},
            ),
        ),
    ),
    Lesson(
        slug="noise",
        title="Noise versus learning rate",
        summary="With noisy gradients a large step rattles around the minimum; a small one is "
        "precise but slow.",
        explain="The bowl's gradients carry Gaussian noise (σ = 1); one SGD has α = 0.3, the "
        "other α = 0.03 (the legend names each by its α). A large learning rate gets close "
        "fast and then jitters at a distance "
        "that grows like σ·√α (on this bowl the root-mean-square distance settles at "
        "σ·√(2α/(2 − α)): 0.59 for α = 0.3, 0.17 for α = 0.03); a small one gets closer in "
        "the end but takes longer. The Curves tab shows the distance over time. A decaying "
        "schedule gets both: big steps early, small late.",
        query={
            "s": "noisy_bowl",
            "noise": "1",
            "steps": "400",
            "o": ["sgd(learning_rate=0.3)", "sgd(learning_rate=0.03)"],
        },
        question=Question(
            "A bowl whose gradients carry noise (σ = 1). SGD with a large step (α = 0.3) and with a "
            "small one (α = 0.03), 400 steps each. Which one stays closer to the minimum over the "
            "last 100 steps?",
            ("The large step, α = 0.3", "The small step, α = 0.03", "About the same"),
            _noise_answer,
            _noise_why,
        ),
        claims=(
            Claim(
                "In 10 of 10 noise seeds the large step comes within 1 of the minimum in "
                "under 10 steps and the small one needs more than 25; over the last 100 steps "
                "the small step stays on average less than half as far away, and it ends "
                "closer (distance to min).",
                _noise_claim,
            ),
            Claim(
                "Set the schedule to cosine: SGD α=0.3 still comes within 1 of the minimum in "
                "under 10 steps, and over its last 100 steps it stays within 0.25 of it on "
                "average, in 10 of 10 seeds.",
                _cosine_claim,
                changes={"sched": "cosine"},
            ),
        ),
    ),
    Lesson(
        slug="bias-correction",
        title="Why Adam corrects its bias",
        summary="Without bias correction Adam's first steps are several times α: here they throw "
        "it out of the minimum's basin.",
        explain="Adam's moments start at zero, so early on m and v are biased towards zero; dividing "
        "by 1 − βᵗ undoes that, and the first step is then exactly α in each coordinate. "
        "Without the correction the early steps are set by β₁ and β₂, not by α: "
        "(1 − β₁)/√(1 − β₂) ≈ 3.16·α at the first step, more over the next few (√(1 − β₂ᵗ) "
        "grows slowly), and back to about α only after some thousand steps. On a smooth bowl "
        "that merely makes it faster; on Goldstein–Price, with steep walls and local minima "
        "around the central basin, the same α throws it out. In the legend, "
        '"Adam" is corrected and "Adam, no bias correction" is not. '
        "Open Internals to compare m with m̂ and v with v̂.",
        query={
            "s": "goldstein_price",
            "steps": "300",
            "x0": "-1",
            "y0": "-1.5",
            "o": ["adam(learning_rate=0.2)", "adam(learning_rate=0.2,bias_correction=0)"],
        },
        question=Question(
            "Goldstein–Price from (−1, −1.5), 300 steps, two Adams with the same α = 0.2: one with "
            "bias correction, one without it. Which reaches the global minimum (f = 3)?",
            ("Both", "Only the corrected Adam", "Only the uncorrected Adam", "Neither"),
            lambda run: _pattern(
                run, {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}
            ),
            _bias_why,
        ),
        claims=(
            Claim(
                "Same α = 0.2: the uncorrected Adam's first step is 3.16 times as long as the "
                "corrected one's; the corrected Adam reaches the global minimum (f = 3, within "
                "the tolerance) and the uncorrected one does not: after 300 steps its loss is "
                "still above 20.",
                _bias_claim,
            ),
        ),
    ),
    Lesson(
        slug="extreme-eps-beta2",
        title="Extreme ε and β₂",
        summary="A huge ε turns Adam into SGD with momentum; a small β₂ makes its step size jumpy.",
        explain='Three Adams on a smooth bowl (noise off): "Adam" with the defaults, "Adam ε=1" '
        'and "Adam β₂=0.5". With ε = 1 the denominator √v̂ + ε is '
        "dominated by ε as soon as the gradients shrink below 1, so Adam loses its adaptive "
        "scaling: its step becomes about α·m̂, SGD with momentum, and it creeps in as the "
        "gradient fades. With β₂ = 0.5, v̂ follows only the last few squared "
        "gradients, so the step size jumps whenever the gradient changes and the path "
        "wanders. Open Internals and watch the effective step size.",
        query={
            "s": "noisy_bowl",
            "noise": "0",
            "steps": "300",
            "x0": "-2.5",
            "y0": "2",
            "o": [
                "adam(learning_rate=0.05)",
                "adam(learning_rate=0.05,eps=1)",
                "adam(learning_rate=0.05,b2=0.5)",
            ],
        },
        question=Question(
            "Three Adams (α = 0.05) on a smooth bowl from (−2.5, 2), 300 steps: one with the "
            "defaults, one with ε = 1, one with β₂ = 0.5. Whose path wanders the most (the longest "
            "path for the distance it covers)?",
            ("The defaults", "ε = 1", "β₂ = 0.5"),
            _extreme_answer,
            _extreme_why,
        ),
        claims=(
            Claim(
                "With ε = 1 Adam needs at least 1.5 times the default's steps to reach the "
                "tolerance. With β₂ = 0.5 its path is more than 2.5 times as long as the "
                "straight line (path / displacement; the default's is below 1.2), and after "
                "300 steps it is still more than 0.005 from the minimum (the default: less "
                "than 0.0001).",
                _extreme_claim,
            ),
        ),
    ),
    Lesson(
        slug="frameworks",
        title="Same name, different optimizer",
        summary="Adam in Keras and in PyTorch are not quite the same formula; on a plateau it shows.",
        explain="A wide plateau around a narrow well, f = 1 − 1/(1 + (4(x² + y²))⁴): at the start "
        'the slope is about 10⁻⁷. "Adam (Keras)" runs with the Keras preset, '
        '"Adam (PyTorch)" with PyTorch\'s. Keras adds ε = 10⁻⁷ to the uncorrected √v and folds the '
        "bias corrections into the step size; PyTorch (like optax) adds ε = 10⁻⁸ to √v̂. "
        "With gradients this small, ε dominates Keras's denominator, and Keras's Adam speeds "
        "up only as v grows. (At a gradient of 10⁻⁶ the first steps would be 0.24·α and "
        "0.99·α.)",
        query={
            "s": "custom",
            "f": "1 - 1/(1 + (4*(x**2 + y**2))**4)",
            "steps": "70",
            "x0": "-3.5",
            "y0": "2.5",
            "o": ["adam(learning_rate=0.05)@keras", "adam(learning_rate=0.05)@pytorch"],
        },
        question=Question(
            "A wide plateau (slope about 10⁻⁷ at the start) around a narrow well. Adam with "
            "α = 0.05, once as Keras computes it and once as PyTorch does, 70 steps each. Which one "
            "gets down into the well?",
            ("Keras's Adam", "PyTorch's Adam", "Both: Adam is Adam", "Neither"),
            lambda run: _pattern(
                run, {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}
            ),
            _frameworks_why,
        ),
        claims=(
            Claim(
                "Same α = 0.05: Keras's first step is under 3 % of α in each coordinate, "
                "PyTorch's over 60 %; after 70 steps PyTorch's Adam is down in the well "
                "(within the tolerance) while Keras's is still on the plateau (loss above "
                "0.99).",
                _frameworks_claim,
            ),
            Claim(
                "Raise the steps to 200: Keras's Adam gets there too, after 1.5 to 3 times "
                "as many steps as PyTorch's.",
                _frameworks_later_claim,
                changes={"steps": "200"},
            ),
        ),
    ),
)

LESSONS_BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}


def lesson_query(lesson: Lesson) -> dict[str, str | list[str]]:
    """The Playground link of a lesson: its setup plus the lesson's slug for the banner."""
    return {**lesson.query, "lesson": lesson.slug}
