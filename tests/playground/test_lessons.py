"""Every lesson is a valid, complete setup whose start lies on the picture."""

from __future__ import annotations

import pytest

from playground.compute import run_setup
from playground.lessons import LESSONS, lesson_query
from playground.setup import from_query


def test_there_are_at_least_six_lessons_with_unique_slugs() -> None:
    assert len(LESSONS) >= 6
    assert len({lesson.slug for lesson in LESSONS}) == len(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_link_loads_cleanly_and_starts_inside_the_domain(lesson) -> None:
    setup, warnings = from_query(lesson_query(lesson))
    assert warnings == []
    result = run_setup(setup)
    (x0, x1), (y0, y1) = result.surface.domain
    x, y = setup.resolved_start()
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert len(result.trajectories) == len(lesson.query["o"]) >= 2
    assert lesson.look_for and lesson.summary


def test_extreme_eps_and_beta2_lesson_shows_what_it_says() -> None:
    lesson = next(lesson for lesson in LESSONS if lesson.slug == "extreme-eps-beta2")
    default, huge_eps, small_b2 = run_setup(from_query(lesson.query)[0]).metrics
    assert default.steps_to_tol is not None
    assert huge_eps.steps_to_tol is not None and huge_eps.steps_to_tol > default.steps_to_tol
    assert small_b2.path_ratio > 2 * default.path_ratio


def test_ravine_lesson_momentum_beats_sgd() -> None:
    lesson = next(lesson for lesson in LESSONS if lesson.slug == "ravine")
    sgd, momentum = run_setup(from_query(lesson.query)[0]).metrics
    assert momentum.steps_to_tol is not None and sgd.steps_to_tol is not None
    assert momentum.steps_to_tol < sgd.steps_to_tol
