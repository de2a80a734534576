"""Predict, then see: a lesson's one question, whose answer the measured run decides.

A `Question` has 2-4 choices. Its correct choice is never written down: `answer(run)` derives it
from the run the page shows (steps to the tolerance, the zig-zag or path-ratio metric, whether a
path left a ridge), and `why(run)` says why, with the measured numbers. `answer` returns None
where the run is too close to call (two optimizers within 10 % of each other, say): a question is
only worth asking where it is not, and tests/playground/test_lessons_quiz.py checks that the
answer is the same at the lesson's setup and with its start and α nudged by ±10 % (and over ten
noise seeds where there is noise).

The student's pick lives only in Streamlit's session state (app_pages/lessons.py): never in the
link, never in a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.numbers import format_number

if TYPE_CHECKING:
    from playground.compute import PlaygroundRun

TOLERANCE = 1e-3  # optim_core.metrics.compute_metrics's default: steps_to_tol counts to loss − f* ≤ this
QUIZ_STATE_PREFIX = "lessons_quiz_"  # + a lesson's slug: the session-state key of its answer
CLEAR_MARGIN = 1.1  # the winner must be ahead by this factor, or the run is too close to call


@dataclass(frozen=True)
class Question:
    """One multiple-choice question about a lesson's run."""

    text: str
    choices: tuple[str, ...]
    answer: Callable[[PlaygroundRun], int | None]  # the index of the right choice, from the run
    why: Callable[[PlaygroundRun], str]  # the measured reason, shown after the student answers

    def __post_init__(self) -> None:
        if not 2 <= len(self.choices) <= 4:
            raise ValueError(f"a question has 2 to 4 choices, not {len(self.choices)}")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("the choices must differ")


@dataclass(frozen=True)
class Verdict:
    """What the page says once the student has picked a choice."""

    picked: int
    correct: int | None  # None: the run was too close to call, any pick counts
    headline: str
    why: str

    @property
    def right(self) -> bool:
        return self.correct is None or self.picked == self.correct


def verdict(question: Question, picked: int, run: PlaygroundRun) -> Verdict:
    """Judge the pick against the run: the headline names the measured answer."""
    if not 0 <= picked < len(question.choices):
        raise ValueError(f"no choice {picked}")
    correct = question.answer(run)
    why = question.why(run)
    if correct is None:
        headline = "Too close to call in this run: every answer counts. Look at the numbers below."
    elif picked == correct:
        headline = f"Right: {question.choices[correct]}."
    else:
        headline = (
            f"Not this time. You picked “{question.choices[picked]}”; "
            f"the run says: {question.choices[correct]}."
        )
    return Verdict(picked, correct, headline, why)


# --- what the answers measure ------------------------------------------------------------------


def clear_winner(scores: Sequence[float], lowest: bool = True, margin: float = CLEAR_MARGIN) -> int | None:
    """The index of the best score (the lowest, or the highest), if it beats every other one by
    the factor `margin`; None when it does not (too close to call) or when the best is not finite
    (inf stands for "never": two nevers tie)."""
    values = [float(s) for s in scores]
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=not lowest)
    best = values[order[0]]
    if not math.isfinite(best):
        return None
    if len(values) == 1:
        return order[0]
    second = values[order[1]]
    clear = second >= margin * best if lowest else best >= margin * second
    return order[0] if clear else None


def steps_or_never(run: PlaygroundRun) -> list[float]:
    """Each optimizer's steps to the tolerance, inf where it never got there."""
    return [float("inf") if m.steps_to_tol is None else float(m.steps_to_tol) for m in run.metrics]


def first_to_tolerance(run: PlaygroundRun, none_choice: int | None = None) -> int | None:
    """The optimizer that reaches the tolerance first, clearly; `none_choice` where none does."""
    steps = steps_or_never(run)
    if all(s == float("inf") for s in steps):
        return none_choice
    return clear_winner(steps)


def who_reaches(run: PlaygroundRun) -> tuple[bool, ...]:
    return tuple(m.steps_to_tol is not None for m in run.metrics)


def reach_sentences(run: PlaygroundRun, names: Sequence[str] | None = None) -> str:
    """ "SGD did not reach the minimum in 100 steps (it ended 0.476 away); Momentum reached it at
    step 64." One clause per optimizer, from the metrics, and what "reach" means."""
    parts = []
    for i, (traj, m) in enumerate(zip(run.trajectories, run.metrics, strict=True)):
        name = names[i] if names is not None else traj.label
        target = "the minimum" if i == 0 else "it"
        if m.steps_to_tol is not None:
            parts.append(f"{name} reached {target} at step {m.steps_to_tol}")
        else:
            away = (
                ""
                if math.isnan(m.final_distance)
                else f" (it ended {format_number(m.final_distance, 3)} away)"
            )
            parts.append(f"{name} did not reach {target} in {traj.steps} steps{away}")
    return "; ".join(parts) + f" (reaching it: a loss within {TOLERANCE:g} of the minimum's)."
