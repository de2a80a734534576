"""Predict, then see: every lesson's question has an answer that the measured run decides, and the
same answer wherever a teacher would look (the setup, the start and α nudged by ±10 %, ten noise
seeds where there is noise). Setups that contradict a lesson get a different answer: the answer
is measured, not written down."""

from __future__ import annotations

import math

import pytest

from playground.compute import run_setup
from playground.lesson_runs import NOISE_SEEDS, lesson_setup, run_setups, variant_setups
from playground.lessons import LESSONS, LESSONS_BY_SLUG, Lesson
from playground.quiz import Question, clear_winner, verdict
from playground.setup import from_query


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_answer_is_one_choice_and_the_same_wherever_a_teacher_looks(lesson: Lesson) -> None:
    question = lesson.question
    assert 2 <= len(question.choices) <= 4 and question.text.endswith("?")
    setup = lesson_setup(lesson)
    variants = variant_setups(setup)
    assert len(variants) == 7 * (len(NOISE_SEEDS) if setup.noise > 0 else 1)
    runs = run_setups([s for _, s in variants])
    answers = {name: question.answer(run) for (name, _), run in zip(variants, runs)}
    # Stable enough to teach: never too close to call, and one answer everywhere.
    assert None not in answers.values(), answers
    assert len(set(answers.values())) == 1, answers
    correct = answers[variants[0][0]]
    assert correct is not None and 0 <= correct < len(question.choices)
    # The page's own run (not batched) gives the same answer.
    assert question.answer(run_setup(setup)) == correct


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_verdict_is_right_for_the_measured_answer_only_and_quotes_the_run(lesson: Lesson) -> None:
    question = lesson.question
    run = run_setup(lesson_setup(lesson))
    correct = question.answer(run)
    assert correct is not None
    for picked in range(len(question.choices)):
        judged = verdict(question, picked, run)
        assert judged.right == (picked == correct)
        assert judged.headline.startswith("Right" if picked == correct else "Not this time")
        assert question.choices[correct] in judged.headline
        assert judged.why == question.why(run)
    # The reason is built from measured numbers: every step count to the minimum appears in it.
    why = question.why(run)
    for m in run.metrics:
        if m.steps_to_tol is not None and lesson.slug != "noise":
            assert f"step {m.steps_to_tol}" in why, why


def test_reasons_quote_the_metrics() -> None:
    ravine = run_setup(lesson_setup(LESSONS_BY_SLUG["ravine"]))
    why = LESSONS_BY_SLUG["ravine"].question.why(ravine)
    sgd, momentum = ravine.metrics
    assert f"{sgd.zigzag:.2f}" in why and f"{momentum.zigzag:.2f}" in why
    assert "SGD did not reach the minimum in 100 steps" in why
    extreme = run_setup(lesson_setup(LESSONS_BY_SLUG["extreme-eps-beta2"]))
    why = LESSONS_BY_SLUG["extreme-eps-beta2"].question.why(extreme)
    assert all(f"{m.path_ratio:.2f}" in why for m in extreme.metrics)


def _answer_with(slug: str, *entries: str) -> int | None:
    lesson = LESSONS_BY_SLUG[slug]
    setup, warnings = from_query({**lesson.query, "o": list(entries)})
    assert warnings == []
    return lesson.question.answer(run_setup(setup))


def _lesson_answer(slug: str) -> int | None:
    lesson = LESSONS_BY_SLUG[slug]
    return lesson.question.answer(run_setup(lesson_setup(lesson)))


@pytest.mark.parametrize(
    ("slug", "entries", "expected"),
    [
        # SGD that cannot zig-zag and a weak momentum: neither reaches the minimum in 100 steps
        ("ravine", ("sgd(learning_rate=0.005)", "momentum(learning_rate=0.0005,momentum=0.5)"), 2),
        # RMSprop in Adam's place: momentum is first
        (
            "rosenbrock",
            (
                "sgd(learning_rate=0.001)",
                "momentum(learning_rate=0.001)",
                "rmsprop(learning_rate=0.005)",
                "rmsprop(learning_rate=0.005)",
            ),
            1,
        ),
        # Adam in SGD's place: no one stays on the ridge
        (
            "saddle",
            ("adam(learning_rate=0.05)", "momentum(learning_rate=0.05)", "adam(learning_rate=0.05)"),
            3,
        ),
        # SGD in momentum's place: two stay on the ridge, no single answer
        ("saddle", ("sgd(learning_rate=0.05)", "sgd(learning_rate=0.05)", "adam(learning_rate=0.05)"), None),
        # two equal steps: about the same
        ("noise", ("sgd(learning_rate=0.3)", "sgd(learning_rate=0.3)"), 2),
        # both corrected: both reach it
        ("bias-correction", ("adam(learning_rate=0.2)", "adam(learning_rate=0.2)"), 0),
        # three default Adams: none wanders more than another
        ("extreme-eps-beta2", ("adam(learning_rate=0.05)",) * 3, None),
        # both PyTorch: both get down
        ("frameworks", ("adam(learning_rate=0.05)@pytorch", "adam(learning_rate=0.05)@pytorch"), 2),
    ],
)
def test_a_setup_that_contradicts_the_lesson_gets_another_answer(slug, entries, expected) -> None:
    assert _answer_with(slug, *entries) == expected
    assert _lesson_answer(slug) != expected


def test_clear_winner() -> None:
    inf = math.inf
    assert clear_winner([64, inf]) == 0
    assert clear_winner([inf, 64]) == 1
    assert clear_winner([inf, inf]) is None
    assert clear_winner([100, 105]) is None  # within 10 %: too close to call
    assert clear_winner([100, 111]) == 0
    assert clear_winner([1.0, 3.2, 1.1], lowest=False, margin=1.5) == 1
    assert clear_winner([1.0, 1.4, 1.1], lowest=False, margin=1.5) is None
    assert clear_winner([7.0]) == 0


def test_question_shape_is_checked() -> None:
    def never(run: object) -> int:
        return 0

    with pytest.raises(ValueError):
        Question("?", ("only one",), never, str)
    with pytest.raises(ValueError):
        Question("?", ("a", "b", "c", "d", "e"), never, str)
    with pytest.raises(ValueError):
        Question("?", ("a", "a"), never, str)
    lesson = LESSONS_BY_SLUG["ravine"]
    with pytest.raises(ValueError):
        verdict(lesson.question, 3, run_setup(lesson_setup(lesson)))
