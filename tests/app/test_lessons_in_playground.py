"""Every lesson opens in the Playground (AppTest): its box shows the claims, the map its runs."""

from __future__ import annotations

import pytest
from app_helpers import assert_clean, figures, is_map, open_page

from playground.lessons import LESSONS, lesson_query

PAGE = "app_pages/playground.py"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_opens_with_its_claims_and_paths(lesson) -> None:
    at = open_page(PAGE, lesson_query(lesson))
    assert_clean(at)
    boxes = [str(info.value) for info in at.info]
    box = next((b for b in boxes if lesson.title in b), None)
    assert box is not None, boxes
    for claim in lesson.claims:
        assert claim.text in box
    assert not at.warning, [str(w.value) for w in at.warning]
    contour = next(f for f in figures(at) if is_map(f))
    names = [str(t.get("name", "")) for t in contour["data"]]
    assert sum(name.split(" ")[0] in {"SGD", "Momentum", "Adam", "RMSprop"} for name in names) >= len(
        lesson.query["o"]
    )


def test_lessons_page_lists_every_lesson_with_its_claims() -> None:
    at = open_page("app_pages/lessons.py")
    assert_clean(at)
    captions = " ".join(str(c.value) for c in at.caption)
    markdown = " ".join(str(m.value) for m in at.markdown)
    for lesson in LESSONS:
        assert lesson.title in markdown
        for claim in lesson.claims:
            assert claim.text in captions
