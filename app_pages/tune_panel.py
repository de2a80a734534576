"""The "Tune each optimizer" panel, shared by the Playground and Compare pages.

    tune_panel(setup, "cmp.tune", apply=write_widgets)

draws a button (and an "also tune β₁ / μ" toggle); once pressed: the criterion, the tuned vs
default table, the outcome-vs-α figure, the paths with default and tuned settings side by side,
and an "Apply the tuned values" button that calls `apply(tuned_setup)` from its on_click
callback (before the next run draws any widget, so `apply` may write widget state). The result
is kept in st.session_state for that setup only: a changed setup hides it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st

from app_pages import ui
from playground.compute import run_setup
from playground.setup import Setup
from playground.tune_view import DEFAULT_TOL, TuneView, display_rows, tune_setup
from viz.colors import color_for
from viz.contour import small_multiples_figure
from viz.tuning import tuning_curve_figure


def _same(a: Setup, b: Setup) -> bool:
    """Equal as far as the runs go (focus, scrub and classroom mode do not matter)."""
    strip = dict(focus=0, scrub=0, classroom=False, hidden=())
    return a.with_changes(**strip) == b.with_changes(**strip)


def _press(key_prefix: str, setup: Setup, second: bool, tol: float) -> None:
    st.session_state[f"{key_prefix}.view"] = tune_setup(setup, second=second, tol=tol)
    st.session_state.pop(f"{key_prefix}.applied", None)


def _apply(key_prefix: str, apply: Callable[[Setup], None], view: TuneView) -> None:
    apply(view.tuned_setup)
    st.session_state[f"{key_prefix}.applied"] = True


def _paths_figure(view: TuneView, key_prefix: str) -> object:
    """Default (top row) and tuned (bottom row) paths, one column per optimizer."""
    before, after = run_setup(view.setup), run_setup(view.tuned_setup)
    n = len(view.labels)
    short = [label.split(" (")[0] for label in view.labels]  # "Momentum (heavy ball)" -> "Momentum"
    titles = [f"{s} · default α = {r.alpha_default:.3g}" for s, r in zip(short, view.rows)]
    titles += [f"{s} · tuned α = {r.alpha_tuned:.3g}" for s, r in zip(short, view.rows)]
    surface = before.surface
    params = dict(view.setup.surface_params)
    return small_multiples_figure(
        surface,
        [*before.trajectories, *after.trajectories],
        titles=titles,
        cols=n,
        surface_params=params,
        colors=[color_for(i) for i in range(n)] * 2,
        title=f"{surface.label}: top row default settings, bottom row tuned",
        background=ui.surface_picture(surface, params, f"{key_prefix}.picture"),
    )


def tune_panel(
    setup: Setup, key_prefix: str, apply: Callable[[Setup], None], tol: float = DEFAULT_TOL
) -> None:
    """The tuning action for `setup` (validated); `apply(tuned_setup)` writes the tuned values
    into the page's widgets. Widget and state keys start with `key_prefix`."""
    ss = st.session_state
    st.subheader("Tune each optimizer")
    st.caption(
        "Defaults are not a fair race: one optimizer's default α can suit this surface while "
        "another's is far too small. Tuning gives every optimizer the same budget (same start, "
        "same steps, same noise) and tries a grid of learning rates for each, so you compare "
        "each optimizer at its best."
    )
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    second = c2.toggle(
        "also tune β₁ / μ",
        key=f"{key_prefix}.second",
        help="Besides α, try β₁ (Adam family, Lion) or μ (momentum, Nesterov, RMSprop) "
        "∈ {0, 0.5, 0.8, 0.9, 0.95, 0.99}. SGD, Adagrad and Adadelta have neither.",
    )
    c1.button(
        "Tune each optimizer",
        key=f"{key_prefix}.go",
        type="primary",
        icon="🎯",
        on_click=_press,
        args=(key_prefix, setup, bool(second), float(tol)),
    )
    view: TuneView | None = ss.get(f"{key_prefix}.view")
    if view is None:
        return
    applied = bool(ss.get(f"{key_prefix}.applied")) and _same(view.tuned_setup, setup)
    current = _same(view.setup, setup) and view.second == bool(second) and view.tol == float(tol)
    if not (current or applied):
        st.caption("The setup changed since the last tuning: press **Tune each optimizer** again.")
        return

    calls = "one batched engine call" if len(view.results) == 1 else f"{len(view.results)} batched calls"
    timing = f" ({view.seconds * 1000:.0f} ms)" if math.isfinite(view.seconds) else ""
    st.markdown(
        f"**A fair race: {view.runs} runs in {calls}{timing}**, the same start, "
        f"steps and noise for every optimizer."
    )
    st.caption(view.criterion)
    st.dataframe(display_rows(view), hide_index=True, key=f"{key_prefix}.table", width="stretch")
    fig = tuning_curve_figure(
        view.tunings,
        labels=view.labels,
        f_star=view.f_star,
        tol=view.tol,
        colors=[color_for(i) for i in range(len(view.labels))],
        title="How each optimizer's result depends on α",
    )
    ui.chart(fig, width="stretch", key=f"{key_prefix}.curves")
    st.caption(
        "**How to read it:** one line per optimizer, one point per learning rate tried. "
        "○ is the default α, ★ the tuned one (the best by the criterion). A wide flat valley means "
        "the optimizer forgives a rough α; a narrow one means α must be tuned. × along the top: "
        "that α diverged. The steepest edge is usually just before divergence."
    )
    if applied:
        st.success("Tuned values applied: the runs above now use them.", icon="✅")
    elif view.changed:
        st.button(
            "Apply the tuned values",
            key=f"{key_prefix}.apply",
            icon="✅",
            on_click=_apply,
            args=(key_prefix, apply, view),
        )
    else:
        st.info("Every optimizer is already at its best setting on this grid: nothing to apply.")
    with st.expander("Paths: default vs tuned, side by side", expanded=False):
        ui.chart(_paths_figure(view, key_prefix), width="stretch", key=f"{key_prefix}.paths")
        st.caption(
            "Tuned settings can look wild: the criterion only asks how soon the loss settles near "
            "a minimum (any minimum), so a huge α that jumps across the map and lands in another "
            "basin can win. Ask yourself whether that is the behaviour you want to compare."
        )
