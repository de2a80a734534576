"""Optimizer Playground: entry point. Navigation, shared sidebar and the home page."""

from __future__ import annotations

import streamlit as st

from app_pages.serve import plotly_preload_element, skip_direct_run_check, wait_for_modules

skip_direct_run_check()  # before the first element (a bare `streamlit run`; app_pages.serve)
if (preload := plotly_preload_element()) is not None:  # the browser loads Plotly meanwhile
    st.html(preload, unsafe_allow_javascript=True)
wait_for_modules()  # a fresh server loads the pages' modules once, in one thread (app_pages.serve)

from app_pages import style  # noqa: E402
from app_pages.serve import DROPPED_LINK_PARAM, dropped_link_message, page_served, wait_for_playground  # noqa: E402
from optim_core import configure_jax  # noqa: E402

configure_jax()  # the persistent, size-limited compilation cache; before the first compile

st.set_page_config(page_title="Optimizer Playground", page_icon="🧭", layout="wide")


def home() -> None:
    from app_pages.home import render_home

    render_home(PAGES)


PAGES = {
    "home": st.Page(home, title="Home", icon="🏠", url_path="home", default=True),
    "playground": st.Page("app_pages/playground.py", title="Playground", icon="🎢", url_path="playground"),
    "compare": st.Page("app_pages/compare.py", title="Compare", icon="🔬", url_path="compare"),
    "adam": st.Page("app_pages/adam.py", title="Adam explained", icon="📐", url_path="adam"),
    "lessons": st.Page("app_pages/lessons.py", title="Lessons", icon="🎓", url_path="lessons"),
    "mnist": st.Page("app_pages/mnist.py", title="MNIST", icon="✍️", url_path="mnist"),
}

style.inject()
page = st.navigation(list(PAGES.values()), position="sidebar")
# A link too long for Streamlit to read arrives as one marker (see app_pages/serve.py): say so
# above the page, for as long as the visitor stays on that page, and drop the marker.
if DROPPED_LINK_PARAM in st.query_params:
    st.session_state["_app_dropped_link"] = (
        dropped_link_message(st.query_params.get(DROPPED_LINK_PARAM)),
        page.url_path,
    )
    del st.query_params[DROPPED_LINK_PARAM]
dropped = st.session_state.get("_app_dropped_link")
if dropped is not None and dropped[1] == page.url_path:
    st.warning(dropped[0], icon="🔗")
if page.url_path == "playground":
    wait_for_playground()  # a fresh server's warm-up makes this page's picture and map (serve)
try:
    page.run()
finally:
    page_served()  # the warm-up's last part waits for the first page (app_pages.serve)
