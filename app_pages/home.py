"""The home page: what the app teaches, a small live demo, and the way into every page."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from app_pages import ui
from optim_core import OPTIMIZERS
from playground.compute import run_setup
from playground.home import DEMO_OPTIMIZERS, DEMO_SGD_DEFAULT, DEMO_SGD_RATES, DEMO_TEXT, demo_setup
from playground.lessons import LESSONS, lesson_query
from playground.setup import to_query
from viz import contour as vc
from viz.colors import color_for


def render_home(pages: Mapping[str, st.Page]) -> None:
    st.title("🧭 Optimizer Playground")
    st.markdown(
        "Watch gradient-based optimizers move. Pick a loss surface, set α, β₁, β₂ and ε, and "
        "see **SGD, momentum, RMSProp, Adam** and ten more travel side by side: where they "
        "zig-zag, where they stall, where they overshoot, and why. The same optimizer code "
        "then trains a small network on MNIST."
    )
    left, right = st.columns([3, 2])
    with right:
        st.header("Try it here")
        lr = st.select_slider(
            "SGD's learning rate α", list(DEMO_SGD_RATES), value=DEMO_SGD_DEFAULT, key="home.lr"
        )
        st.caption(DEMO_TEXT)
        setup = demo_setup(lr)
        st.page_link(pages["playground"], label="Open the full Playground →", query_params=to_query(setup))
    with left:
        result = run_setup(setup)
        fig = vc.contour_figure(
            result.surface,
            list(result.trajectories),
            dict(setup.surface_params),
            clickable=False,
            colors=[color_for(i) for i in range(len(DEMO_OPTIMIZERS))],
        )
        fig.update_layout(height=420)
        ui.chart(fig, width="stretch", key="home.demo")

    st.header("Where to go")
    cols = st.columns(4)
    blurbs = {
        "playground": "One surface, up to eight optimizers, every slider. Paths, 3D, "
        "animation, internals, metrics, share links and exports.",
        "compare": "Small multiples, hyperparameter sweeps, sensitivity heatmaps and basin maps.",
        "adam": "The maths of momentum, RMSProp and Adam, each equation beside a live widget.",
        "mnist": "The same optimizers train a real network on real handwritten digits.",
    }
    for col, (name, text) in zip(cols, blurbs.items()):
        with col, st.container(border=True):
            st.page_link(pages[name])
            st.caption(text)

    st.header("Guided lessons")
    lesson_cols = st.columns(3)
    for i, lesson in enumerate(LESSONS):
        with lesson_cols[i % 3], st.container(border=True):
            st.page_link(
                pages["playground"], label=lesson.title, icon="🎓", query_params=lesson_query(lesson)
            )
            st.caption(lesson.summary)
    st.caption(
        f"{len(OPTIMIZERS)} optimizers · presets for optax, Keras and PyTorch · "
        "everything runs on your machine, offline."
    )
