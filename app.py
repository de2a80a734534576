"""Optimizer Playground: entry point. Navigation, shared sidebar and the home page."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Optimizer Playground", page_icon="🧭", layout="wide")


def home() -> None:
    from playground.home import render_home

    render_home(PAGES)


PAGES = {
    "home": st.Page(home, title="Home", icon="🏠", url_path="home", default=True),
    "playground": st.Page("app_pages/playground.py", title="Playground", icon="🎢",
                          url_path="playground"),
    "compare": st.Page("app_pages/compare.py", title="Compare", icon="🔬", url_path="compare"),
    "adam": st.Page("app_pages/adam.py", title="Adam explained", icon="📐",
                    url_path="adam"),
    "lessons": st.Page("app_pages/lessons.py", title="Lessons", icon="🎓", url_path="lessons"),
    "mnist": st.Page("app_pages/mnist.py", title="MNIST", icon="✍️", url_path="mnist"),
}

st.navigation(list(PAGES.values()), position="sidebar").run()
