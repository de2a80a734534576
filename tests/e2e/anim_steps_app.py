"""A page with the two animations and their step buttons, for test_animation_steps_e2e.py.

It counts its own runs: a step button must not rerun the script.
"""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.anim_controls import step_buttons
from playground.compute import run_setup
from playground.lessons import LESSONS_BY_SLUG, lesson_query
from playground.setup import from_query
from viz.colors import color_for
from viz.contour import animated_contour_figure, surface3d_figure

st.session_state["runs"] = st.session_state.get("runs", 0) + 1
st.markdown(f"script runs: {st.session_state['runs']}")
setup, _ = from_query(lesson_query(LESSONS_BY_SLUG["rosenbrock"]))
run = run_setup(setup)
colors = [color_for(i) for i in range(len(run.trajectories))]
flat, solid = st.tabs(["Animation", "3D view"])
with flat:
    step_buttons("steps-2d")
    st.plotly_chart(
        # As the Playground draws it: the surface is a picture under the paths.
        animated_contour_figure(
            run.surface,
            run.trajectories,
            colors=colors,
            background=ui.surface_picture(run.surface, dict(setup.surface_params), "anim-test"),
        ),
        theme=None,
        width="stretch",
    )
with solid:
    step_buttons("steps-3d", three_d=True)
    st.plotly_chart(
        surface3d_figure(run.surface, run.trajectories, colors=colors, animate=True),
        theme=None,
        width="stretch",
    )
