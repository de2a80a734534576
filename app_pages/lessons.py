"""Lessons: guided setups, each one click away, with what to look at."""

from __future__ import annotations

import streamlit as st

from playground.lessons import LESSONS, lesson_query

st.title("Lessons")
st.markdown(
    "Each lesson opens the Playground on a prepared setup and tells you what to watch. "
    "Change anything you like afterwards: the link in your address bar keeps up."
)
for number, lesson in enumerate(LESSONS, start=1):
    with st.container(border=True):
        st.markdown(f"#### {number}. {lesson.title}")
        st.write(lesson.summary)
        st.caption(
            "What it shows (checked by the test suite with the start and α nudged by ±10 % "
            "and over ten noise seeds): " + " ".join(c.text for c in lesson.claims)
        )
        st.page_link(
            "app_pages/playground.py",
            label="Open this lesson in the Playground",
            icon="▶️",
            query_params=lesson_query(lesson),
        )
