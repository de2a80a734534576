"""The Lessons page (AppTest): predict, then see. Nothing runs before the student answers; the
answer brings the run, the verdict and the measured reason; the answer stays in the session."""

from __future__ import annotations

import builtins
import io
from typing import Any

import pytest
from app_helpers import assert_clean, figures, open_page

import playground.compute as compute
from playground.cache import BoundedCache
from playground.lesson_runs import lesson_setup
from playground.lessons import LESSONS, LESSONS_BY_SLUG
from playground.quiz import QUIZ_STATE_PREFIX

PAGE = "app_pages/lessons.py"


def _radio(at: Any, slug: str) -> Any:
    return next(r for r in at.radio if r.key == f"{QUIZ_STATE_PREFIX}{slug}")


def _correct(slug: str) -> int:
    lesson = LESSONS_BY_SLUG[slug]
    answer = lesson.question.answer(compute.run_setup(lesson_setup(lesson)))
    assert answer is not None
    return answer


@pytest.fixture
def counted_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every run the page computes (an empty cache, so a run cannot hide in it)."""
    seen: list[object] = []
    original = compute._run

    def counting(setup: Any) -> Any:
        seen.append(setup)
        return original(setup)

    monkeypatch.setattr(compute, "RUNS", BoundedCache(compute.MAX_CACHED_RUNS))
    monkeypatch.setattr(compute, "_run", counting)
    return seen


def test_every_question_is_asked_and_nothing_runs_before_an_answer(counted_runs) -> None:
    at = open_page(PAGE)
    assert_clean(at)
    assert counted_runs == []
    assert not figures(at) and not at.success and not at.error and not at.dataframe
    markdown = " ".join(str(m.value) for m in at.markdown)
    for lesson in LESSONS:
        radio = _radio(at, lesson.slug)
        assert radio.value is None
        assert list(radio.options) == list(lesson.question.choices)
        assert lesson.question.text in markdown
    assert sum("Pick an answer to run the lesson" in str(c.value) for c in at.caption) == len(LESSONS)


@pytest.mark.parametrize("right", [False, True], ids=["wrong", "right"])
def test_an_answer_runs_that_lesson_only_and_judges_it(counted_runs, monkeypatch, right: bool) -> None:
    slug = "ravine"
    question = LESSONS_BY_SLUG[slug].question
    correct = _correct(slug)
    counted_runs.clear()
    monkeypatch.setattr(compute, "RUNS", BoundedCache(compute.MAX_CACHED_RUNS))  # forget that run
    picked = correct if right else (correct + 1) % len(question.choices)
    at = open_page(PAGE)
    _radio(at, slug).set_value(question.choices[picked]).run()
    assert_clean(at)
    assert [s.resolved_start() for s in counted_runs] == [
        lesson_setup(LESSONS_BY_SLUG[slug]).resolved_start()
    ]
    if right:
        assert [str(s.value) for s in at.success] == [f"Right: {question.choices[correct]}."]
        assert not at.error
    else:
        assert not at.success
        (message,) = [str(e.value) for e in at.error]
        assert question.choices[picked] in message and question.choices[correct] in message
    markdown = " ".join(str(m.value) for m in at.markdown)
    assert "Why, from this run:" in markdown and "zig-zag is" in markdown
    # The map and the loss curve of this lesson only; the other lessons still wait.
    charts = figures(at)
    assert len(charts) == 2
    names = {str(t.get("name")) for t in charts[0]["data"]}
    assert {"SGD", "Momentum (heavy ball)"} <= names
    (table,) = at.dataframe
    assert list(table.value["optimizer"]) == ["SGD", "Momentum (heavy ball)"]
    for lesson in LESSONS:
        if lesson.slug != slug:
            assert _radio(at, lesson.slug).value is None


def test_the_answer_stays_in_the_session_not_in_the_link_or_a_file(monkeypatch, tmp_path) -> None:
    written: list[str] = []
    real_open = builtins.open

    def spying_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    at = open_page(PAGE)
    before = at.query_params.to_dict() if hasattr(at.query_params, "to_dict") else dict(at.query_params)
    monkeypatch.setattr(builtins, "open", spying_open)
    monkeypatch.setattr(io, "open", spying_open)
    (tmp_path / "probe.txt").write_text("the spy sees writes")
    assert written == [str(tmp_path / "probe.txt")]
    written.clear()
    question = LESSONS_BY_SLUG["frameworks"].question
    _radio(at, "frameworks").set_value(question.choices[0]).run()
    assert_clean(at)
    assert at.error or at.success
    after = at.query_params.to_dict() if hasattr(at.query_params, "to_dict") else dict(at.query_params)
    assert before == after == {}
    assert [p for p in written if "jax" not in p.lower()] == []
    assert at.session_state[f"{QUIZ_STATE_PREFIX}frameworks"] == question.choices[0]
    # "Ask me again" forgets it: the question is open again and the run is gone.
    next(b for b in at.button if b.key == f"{QUIZ_STATE_PREFIX}frameworks_again").click().run()
    assert _radio(at, "frameworks").value is None
    assert not figures(at) and not at.error and not at.success
