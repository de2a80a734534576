"""The home page: what the app teaches, a small live demo, and the way into every page."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from optim_core import OPTIMIZERS
from playground.compute import run_setup
from playground.lessons import LESSONS, lesson_query
from playground.setup import OptimizerEntry, Setup, to_query
from viz import contour as vc
from viz.colors import color_for

DEMO_OPTIMIZERS = ("sgd", "momentum", "adam")
DEMO_HPARAMS = {"momentum": {"momentum": 0.7}}

def demo_setup(lr: float) -> Setup:
    """The home page's ravine demo at learning rate `lr` (also what its link opens)."""
    return Setup(
        surface="ravine", steps=150, start=(-2.5, 1.5),
        surface_params={"condition": 30.0, "angle": 30.0},
        optimizers=tuple(
            OptimizerEntry(n, {**OptimizerEntry.default(n).hparams, **DEMO_HPARAMS.get(n, {}),
                               "learning_rate": lr})
            for n in DEMO_OPTIMIZERS),
    )


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
        st.subheader("Try it here")
        lr = st.select_slider("learning rate α (all three)", [0.01, 0.02, 0.04, 0.06],
                              value=0.04, key="home.lr")
        st.caption("A narrow ravine, 30 times steeper across than along. SGD's α is capped by "
                   "the steep walls (it starts to zig-zag at 0.06) so it crawls along the floor; "
                   "momentum (μ = 0.7) builds up speed along the valley; Adam moves about α per "
                   "step. Move α.")
        setup = demo_setup(lr)
        st.page_link(pages["playground"], label="Open the full Playground →",
                     query_params=to_query(setup))
    with left:
        result = run_setup(setup)
        fig = vc.contour_figure(result.surface, list(result.trajectories),
                                dict(setup.surface_params), clickable=False,
                                colors=[color_for(i) for i in range(len(DEMO_OPTIMIZERS))])
        fig.update_layout(height=420)
        st.plotly_chart(fig, width="stretch", key="home.demo")

    st.subheader("Where to go")
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

    st.subheader("Guided lessons")
    cols = st.columns(3)
    for i, lesson in enumerate(LESSONS):
        with cols[i % 3], st.container(border=True):
            st.page_link(pages["playground"], label=lesson.title, icon="🎓",
                         query_params=lesson_query(lesson))
            st.caption(lesson.summary)
    st.caption(f"{len(OPTIMIZERS)} optimizers · presets for optax, Keras and PyTorch · "
               "everything runs on your machine, offline.")
