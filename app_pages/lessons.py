"""Lessons: predict, then see. Each lesson asks one question; the run appears once answered.

The answer lives only in st.session_state (a radio with no default): it is never written to the
link or to a file, and a new session starts with every question open again.
"""

from __future__ import annotations

import math

import streamlit as st

from app_pages import ui
from playground.compute import PlaygroundRun, run_setup
from playground.lesson_runs import lesson_setup
from playground.lessons import LESSONS, Lesson, lesson_query
from playground.numbers import format_number
from playground.quiz import QUIZ_STATE_PREFIX, verdict
from viz.figures import contour_figure, loss_figure


def _forget(key: str) -> None:
    st.session_state[key] = None


def _claims(lesson: Lesson) -> str:
    return (
        "What it shows (checked by the test suite with the start and α nudged by ±10 % and over "
        "ten noise seeds): " + " ".join(c.text for c in lesson.claims)
    )


def _measured(run: PlaygroundRun) -> list[dict[str, object]]:
    """The numbers the verdict rests on, one row per optimizer (the Playground's Metrics)."""
    return [
        {
            "optimizer": m.label,
            "reached the minimum at step": "never" if m.steps_to_tol is None else str(m.steps_to_tol),
            "final loss": format_number(m.final_loss, 3),
            "distance to min": "–" if math.isnan(m.final_distance) else format_number(m.final_distance, 3),
            "zig-zag": round(m.zigzag, 2),
            "path / straight line": round(m.path_ratio, 2),
        }
        for m in run.metrics
    ]


def _result(lesson: Lesson, picked: int, key: str) -> None:
    """The run, the verdict on the student's pick and the measured reason."""
    setup = lesson_setup(lesson)
    with st.spinner("Running the lesson…"):
        run = run_setup(setup)
    judged = verdict(lesson.question, picked, run)
    if judged.right:
        st.success(judged.headline, icon="✅")
    else:
        st.error(judged.headline, icon="❌")
    st.markdown(f"**Why, from this run:** {judged.why}")
    params = dict(setup.surface_params)
    st.dataframe(_measured(run), hide_index=True)
    left, right = st.columns([3, 2])
    with left:
        ui.chart(
            contour_figure(run.surface, run.trajectories, params, clickable=False, title="The paths"),
            width="stretch",
            key=f"{key}_map",
        )
    with right:
        ui.chart(loss_figure(run.trajectories, run.surface, params), width="stretch", key=f"{key}_loss")
    st.info(f"**What to look at.** {lesson.explain}", icon="🎓")
    go, again = st.columns([3, 1])
    with go:
        st.page_link(
            "app_pages/playground.py",
            label="Open this lesson in the Playground and change anything",
            icon="▶️",
            query_params=lesson_query(lesson),
        )
    with again:
        st.button("Ask me again", key=f"{key}_again", on_click=_forget, args=(key,))


st.title("Lessons")
st.markdown(
    "Each lesson asks you one question first. **Make your prediction**: only then does the lesson "
    "run, show the paths and tell you, with the numbers it measured, why the answer is what it "
    "is. Your answers stay in this browser tab: they are not put in the link and not saved."
)
for number, lesson in enumerate(LESSONS, start=1):
    key = f"{QUIZ_STATE_PREFIX}{lesson.slug}"
    question = lesson.question
    with st.container(border=True):
        st.markdown(f"#### {number}. {lesson.title}")
        st.markdown(f"**Predict:** {question.text}")
        choice = st.radio("Your prediction", question.choices, index=None, key=key)
        if choice is None:
            st.caption("Pick an answer to run the lesson.")
        else:
            _result(lesson, question.choices.index(choice), key)
        with st.expander("For teachers: what this lesson shows (gives the answer away)"):
            st.write(lesson.summary)
            st.caption(_claims(lesson))
