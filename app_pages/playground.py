"""Playground: one surface, several optimizers side by side."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from app_pages import anim_controls, map_bridge, ui
from app_pages import playground_state as ps
from app_pages.tune_panel import tune_panel
from optim_core import OPTIMIZERS, PRESETS, preset_support
from optim_core.schedules import SCHEDULE_KINDS, SCHEDULE_LATEX, Schedule
from optim_core.theory import Quadratic
from optim_core.trajectory import Trajectory
from playground import theory_view as tv
from playground.compare_state import hp_symbol
from playground.compute import divergence_messages, entry_label, run_setup
from playground.lessons import LESSONS_BY_SLUG
from playground.safe_text import plain
from playground.scrub import card_preview, run_scrub, scrubbable
from playground.setup import (
    CUSTOM,
    DECAY_EVERY_RANGE,
    DECAY_RATE_RANGE,
    DECAY_RATE_STEP,
    FINAL_FRACTION_RANGE,
    FINAL_FRACTION_STEP,
    HIDEABLE_CONTROLS,
    MAX_EXPRESSION_CHARS,
    MAX_OPTIMIZERS,
    MAX_STEPS,
    MAX_UPLOAD_BYTES,
    MIN_STEPS,
    NOISE_RANGE,
    NOISE_STEP,
    SEED_RANGE,
    STEPS_STEP,
    WARMUP_RANGE,
    OptimizerEntry,
    Setup,
    from_query,
    linear_step,
    load_json,
    share_url,
    to_query,
    validate,
)
from surfaces import SURFACES, ExpressionError, Surface
from viz import contour as vc
from viz import curves as vcurves
from viz import internals as vi
from viz import theory_overlay as vt
from viz.colors import color_for
from viz.raster import SurfaceRaster
from viz.scrub import live_scrub_figure

key = ps.key
ss = st.session_state
QUERY_STATE = key("query")

st.title("Playground")

# 1. A new URL (first visit, a shared link, a lesson) or an uploaded setup seeds the widgets.
if key("pending_setup") in ss:
    ps.seed(ss.pop(key("pending_setup")))
elif ui.url_changed(QUERY_STATE):
    url_setup, url_warnings = from_query(ui.current_query())
    ps.seed(url_setup)
    ss[key("url_warnings")] = ("The link had values that could not be used", url_warnings)
    ss[key("lesson")] = st.query_params.get("lesson")
if key("pending_start") in ss:  # a click on the map, applied before the inputs are drawn
    ss[key("x0")], ss[key("y0")] = ss.pop(key("pending_start"))
    ss[key("start_is_default")] = False

warnings_title, warnings = ss.pop(key("url_warnings"), ("", []))
ui.show_warnings(warnings, warnings_title)
lesson = LESSONS_BY_SLUG.get(ss.get(key("lesson")) or "")
if lesson is not None:
    st.info(f"**Lesson: {lesson.title}.** {lesson.look_for}", icon="🎓")
base = ps.base()
hidden = set(base.hidden) if base.classroom else set()


def add_picked_optimizer() -> None:
    """The "Add an optimizer" picker: add the picked one, then show the picker empty again."""
    if ss[key("add")] != "—":
        ps.add_entry(ss[key("add")])
    ss[key("add")] = "—"


def use_optimal(optimal: list[tuple[int, OptimizerEntry]]) -> None:
    """The optimal-settings button: written into the widgets before they are drawn."""
    for entry_id, entry in optimal:
        ps.write_entry(entry_id, entry)


def shown(control: str) -> bool:
    return control not in hidden


# 2. Sidebar: the surface and the run (on a phone: a box under the figures and the cards, so that
# they are reached by scrolling; the slot keeps the figures above it).
workspace_slot = st.container() if ui.is_phone() else contextlib.nullcontext()
with ui.side_panel("pg-settings"):
    st.header("Surface")
    if shown("surface"):
        st.selectbox(
            "Loss surface",
            [*SURFACES, CUSTOM],
            key=key("surface"),
            format_func=lambda k: "Custom formula" if k == CUSTOM else SURFACES[k].label,
            on_change=ps.surface_changed,
        )
    surface_name = ss.get(key("surface"), base.surface)
    expression = base.expression
    expression_error = None
    if surface_name == CUSTOM:
        if shown("surface"):
            st.text_input(
                "f(x, y) =",
                key=key("expression"),
                max_chars=MAX_EXPRESSION_CHARS,
                on_change=ps.surface_changed,
                help="Numbers, x, y, pi, e, + - * / ** and sin, cos, tan, exp, log, sqrt, abs, tanh, ...",
            )
        expression = ss.get(key("expression"), base.expression)
        try:
            surface = Setup(surface=CUSTOM, expression=expression).resolved_surface()
        except ExpressionError as exc:
            expression_error = str(exc)
            st.error(plain(f"That formula can't be used: {exc}"), icon="✏️")
            surface = Setup(surface=CUSTOM).resolved_surface()
            expression = Setup().expression
    else:
        surface = SURFACES[surface_name]
    surface_params = {}
    for p in surface.params:
        if shown("surface"):
            ss.setdefault(key("sp", p.name), float(p.default))
            surface_params[p.name] = st.slider(
                p.label, float(p.low), float(p.high), key=key("sp", p.name), help=p.help
            )
        else:
            surface_params[p.name] = base.surface_params.get(p.name, p.default)
    st.caption(surface.description)
    quad = tv.quadratic_of(surface_name, surface_params) if expression_error is None else None
    if quad is not None:
        ss.setdefault(key("theory"), surface_name == "ravine")
        st.checkbox(
            "Show the theory",
            key=key("theory"),
            help="This surface is a quadratic: draw its Hessian's eigenvectors, the optimal α "
            "(and β) and the predicted loss per step beside the measured one.",
        )
    show_theory = quad is not None and bool(ss.get(key("theory")))

    st.header("Run")
    if shown("steps"):
        st.slider("Steps", MIN_STEPS, MAX_STEPS, key=key("steps"), step=STEPS_STEP)
    if shown("noise"):
        st.slider(
            "Gradient noise σ",
            *NOISE_RANGE,
            key=key("noise"),
            step=NOISE_STEP,
            help="Gaussian noise added to every gradient, as in stochastic / mini-batch "
            "gradient descent. The same seed gives the same noise.",
        )
        st.number_input("Noise seed", *SEED_RANGE, key=key("seed"), step=1)
    if shown("start"):
        st.caption("Start point: click the map, or type it.")
        c1, c2 = st.columns(2)
        c1.number_input("start x", key=key("x0"), format="%.3f", step=0.1, on_change=ps.start_typed)
        c2.number_input("start y", key=key("y0"), format="%.3f", step=0.1, on_change=ps.start_typed)
    if shown("schedule"):
        st.selectbox("Learning-rate schedule", SCHEDULE_KINDS, key=key("sched"))
        kind = ss[key("sched")]
        if kind == "step":
            st.slider(
                "decay factor γ", *DECAY_RATE_RANGE, key=key("sched", "decay_rate"), step=DECAY_RATE_STEP
            )
            st.number_input("every T steps", *DECAY_EVERY_RANGE, key=key("sched", "decay_every"))
        elif kind == "cosine":
            st.slider(
                "final fraction f",
                *FINAL_FRACTION_RANGE,
                key=key("sched", "final_fraction"),
                step=FINAL_FRACTION_STEP,
            )
        elif kind == "warmup":
            st.number_input("warm-up steps W", *WARMUP_RANGE, key=key("sched", "warmup_steps"))
        st.latex(SCHEDULE_LATEX[kind])


def read_schedule() -> Schedule:
    if not shown("schedule"):
        return base.schedule
    return Schedule(
        kind=ss[key("sched")],
        decay_rate=float(ss.get(key("sched", "decay_rate"), 0.5)),
        decay_every=int(ss.get(key("sched", "decay_every"), 100)),
        final_fraction=float(ss.get(key("sched", "final_fraction"), 0.0)),
        warmup_steps=int(ss.get(key("sched", "warmup_steps"), 50)),
    )


# 3. The optimizers and the figures: one fragment, so that a card's slider reruns the cards and
# the figures only (the sidebar and the page header are not re-sent on every move).
STICKY_FIGURES = "pg-figures"
# On a wide screen the figures stay in view while the cards beside them scroll: a lecturer moves a
# slider of the last card and sees the map move. (Streamlit gives a keyed container the class
# st-key-<key>; its column is stretched to the row's height so that it has room to stick.)
STICKY_CSS = f"""<style>
@media (min-width: 1280px) {{
  [data-testid="stColumn"]:has(.st-key-{STICKY_FIGURES}) {{ align-self: stretch; }}
  [data-testid="stColumn"]:has(.st-key-{STICKY_FIGURES}) > [data-testid="stVerticalBlock"] {{
    height: 100%;
  }}
  [data-testid="stLayoutWrapper"]:has(> .st-key-{STICKY_FIGURES}) {{
    position: sticky; top: 3.75rem; z-index: 2; background: white;
  }}
}}
</style>"""


@st.fragment
def workspace(
    surface_name: str,
    expression: str,
    surface: Surface,
    surface_params: dict[str, float],
    quad: Quadratic | None,
    show_theory: bool,
    lesson_slug: str | None,
) -> None:
    st.html(STICKY_CSS)
    figures_col, optimizers_col = st.columns([5, 2], gap="medium")
    entries: list[OptimizerEntry] = []
    entry_pairs: list[tuple[int, OptimizerEntry]] = []
    ids = list(ss[key("entry_ids")])
    open_id = ps.open_entry_id(ids)
    owners = ui.card_names([OPTIMIZERS[ss[ps.entry_prefix(i) + ".name"]].label for i in ids])
    with optimizers_col:
        st.subheader("Optimizers")
        for n, entry_id in enumerate(ids):
            entry = optimizer_card(n, entry_id, entry_id == open_id, len(ids), owners[n])
            entries.append(entry)
            entry_pairs.append((entry_id, entry))

        if shown("optimizers") and len(ids) < MAX_OPTIMIZERS:
            st.selectbox(
                "Add an optimizer",
                ["—", *OPTIMIZERS],
                key=key("add"),
                format_func=lambda k: k if k == "—" else OPTIMIZERS[k].label,
                on_change=add_picked_optimizer,
            )

    ps.keep_keys([key("focus"), key("scrub")])  # the Internals tab's, kept while it is closed
    start = (float(ss[key("x0")]), float(ss[key("y0")])) if shown("start") else base.resolved_start()
    steps = int(ss[key("steps")]) if shown("steps") else base.steps
    setup = Setup(
        surface=surface_name,
        expression=expression,
        surface_params=surface_params,
        noise=float(ss[key("noise")]) if shown("noise") else base.noise,
        seed=int(ss[key("seed")]) if shown("noise") else base.seed,
        steps=steps,
        start=None if ss.get(key("start_is_default")) and start == surface.start else start,
        schedule=read_schedule(),
        optimizers=tuple(entries),
        focus=min(int(ss.get(key("focus"), 0)), max(len(entries) - 1, 0)),
        scrub=min(max(int(ss.get(key("scrub"), 0)), 0), steps),
        classroom=base.classroom,
        hidden=base.hidden,
    )
    # The one range policy: the widgets cannot leave it (no warning expected), and the link and
    # the run cache see exactly the validated setup.
    setup, adjusted = validate(setup)
    with figures_col, st.container(key=STICKY_FIGURES):
        ui.show_warnings(adjusted, "Some values were adjusted")
        figures(setup, surface, surface_params, quad, show_theory, entry_pairs, lesson_slug)
        if open_id is not None:  # the open card's rule, at the width of the figures (a card is too narrow)
            open_name = ss[ps.entry_prefix(open_id) + ".name"]
            st.caption(f"{owners[ids.index(open_id)]}'s update rule:")
            st.latex(OPTIMIZERS[open_name].latex)

    lesson_param = {"lesson": lesson_slug} if lesson_slug is not None else {}
    ui.sync_query({**to_query(setup), **lesson_param}, QUERY_STATE)


def optimizer_card(n: int, entry_id: int, is_open: bool, count: int, owner: str) -> OptimizerEntry:
    """One optimizer's card. Only the open card draws its widgets (one card's sliders at a
    time: fewer elements to send and draw on every move); the others show their values."""
    prefix = ps.entry_prefix(entry_id)
    name = ss[prefix + ".name"]
    spec = OPTIMIZERS[name]
    editable = shown("optimizers") or shown("hparams")
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(
                f"<span style='color:{color_for(n)};font-size:1.4em' aria-hidden='true'>●</span> "
                f"**{spec.label}**",
                unsafe_allow_html=True,
                width="stretch",
            )
            if not is_open:
                st.button(
                    f"Edit *{owner}*" if editable else f"Rule *of {owner}*",
                    key=prefix + ".open",
                    on_click=ps.open_entry,
                    args=(entry_id,),
                    help=f"Show {spec.label}'s settings and update rule",
                )
            if shown("optimizers") and count > 1:
                st.button(
                    f"Remove {owner}",
                    key=prefix + ".remove",
                    on_click=ps.remove_entry,
                    args=(entry_id,),
                    help=f"Remove {spec.label}",
                )
        if not is_open:
            ps.keep_entry(entry_id)
            entry = ps.entry_from_state(entry_id) if shown("hparams") else ps.hidden_entry(entry_id, name)
        else:
            if shown("optimizers"):
                st.selectbox(
                    f"{owner} optimizer",
                    list(OPTIMIZERS),
                    key=prefix + ".name",
                    format_func=lambda k: OPTIMIZERS[k].label,
                    on_change=ps.change_optimizer,
                    args=(entry_id,),
                )
            if shown("hparams"):
                st.selectbox(
                    f"{owner} preset",
                    list(PRESETS),
                    key=prefix + ".preset",
                    on_change=ps.apply_preset,
                    args=(entry_id,),
                    help="Defaults and ε placement as in optax, Keras or PyTorch.",
                )
                if (note := preset_support(name, ss[prefix + ".preset"])) is not None:
                    st.caption(note)
                values = ui.hyperparam_editor(name, f"{prefix}.{name}", spec.defaults, owner=owner)
                entry = OptimizerEntry(name, values, ss[prefix + ".preset"])
            else:  # classroom mode: no widget at all, the link's values
                entry = ps.hidden_entry(entry_id, name)
            st.caption(spec.description)
        st.caption(ui.hyperparam_summary(name, entry.hparams))
    return entry


def live_choice(setup: Setup) -> tuple[int, str] | None:
    """The live-scrub controls: off, or (optimizer index, hyperparameter) to scrub."""
    c1, c2, c3 = st.columns([2, 3, 3], vertical_alignment="bottom")
    c1.toggle(
        "Scrub live",
        key=key("live"),
        help="A slider above the map moves one hyperparameter: the path follows the thumb "
        "at once, computed ahead for every stop. Release it to keep the value.",
    )
    if not ss.get(key("live")):
        return None
    labels = [entry_label(setup, i) for i in range(len(setup.optimizers))]
    ss[key("live.entry")] = min(max(int(ss.get(key("live.entry"), len(labels) - 1)), 0), len(labels) - 1)
    index = c2.selectbox(
        "Optimizer to scrub", range(len(labels)), key=key("live.entry"), format_func=lambda i: labels[i]
    )
    name = setup.optimizers[index].name
    choices = scrubbable(name)
    if ss.get(key("live.hp")) not in choices:
        ss[key("live.hp")] = "learning_rate" if "learning_rate" in choices else choices[0]
    hparam = c3.selectbox(
        "Hyperparameter",
        choices,
        key=key("live.hp"),
        format_func=lambda h: f"{hp_symbol(name, h)} · {h}",
    )
    return int(index), str(hparam)


def live_figure(
    setup: Setup,
    live: tuple[int, str],
    entry_pairs: list[tuple[int, OptimizerEntry]],
    trajectories: list[Trajectory],
    surface: Surface,
    colors: list[str],
    background: tuple[SurfaceRaster, str],
) -> tuple[go.Figure, str, Callable[[], None]]:
    """The Paths map with the live-scrub slider, the token that names its values, and what a
    release of its thumb does."""
    index, hparam = live
    scrub = run_scrub(setup, index, hparam)
    entry_id, entry = entry_pairs[index]
    token = f"{hash(scrub.key) & 0xFFFFFFFF:08x}"
    on_release = functools.partial(apply_released, token, entry_id, entry.name, hparam, scrub.values)
    label = f"{OPTIMIZERS[entry.name].label} {hp_symbol(entry.name, hparam)}"
    fig = live_scrub_figure(
        surface,
        trajectories,
        scrub.trajectories,
        scrub.values,
        scrub.current,
        index,
        label,
        dict(setup.surface_params),
        colors=colors,
        background=background,
        frames_key=scrub.key,
    )
    st.caption("Drag the slider above the map: the path follows at once. Release it to keep the value.")
    return fig, token, on_release


def apply_released(token: str, entry_id: int, name: str, hparam: str, values: tuple[float, ...]) -> None:
    """The thumb was released: that value goes into the optimizer's own slider (and the link)."""
    index = map_bridge.released_index(ss.get(key("bridge")), token, len(values))
    if index is None or entry_id not in ss[key("entry_ids")]:
        return
    if ss.get(ps.entry_prefix(entry_id) + ".name") != name:
        return
    ps.set_hparam(entry_id, name, hparam, values[index])
    ss[key("open")] = entry_id  # show the slider that now holds the value


def apply_tuned(tuned: Setup) -> None:
    """The tuning panel's Apply: every card takes its tuned values."""
    for entry_id, entry in zip(ss[key("entry_ids")], tuned.optimizers, strict=False):
        ps.write_entry(entry_id, entry)


PREVIEW_WANTED = key("preview.want")  # [(card id, hyperparameter)], the latest first
MAX_PREVIEWED = 2  # sliders whose stops each run keeps ready (the last ones the pointer neared)


def card_previews(
    setup: Setup, entry_pairs: list[tuple[int, OptimizerEntry]], colors: list[str]
) -> tuple[list[dict[str, object]], Callable[[], None] | None]:
    """The open card's sliders for the map's bridge: the map follows each one's thumb in the
    browser, from its path at every stop (computed once the pointer nears that slider)."""
    ids = [entry_id for entry_id, _ in entry_pairs]
    open_id = ps.open_entry_id(ids)
    if open_id is None:
        return [], None
    index = ids.index(open_id)
    entry = setup.optimizers[index]
    names = scrubbable(entry.name)
    wanted = {h for entry_id, h in ss.get(PREVIEW_WANTED, []) if entry_id == open_id}
    previews = []
    for hparam in names:
        h = OPTIMIZERS[entry.name].hyperparam(hparam)
        widget_key = ui.slider_key(h, f"{ps.entry_prefix(open_id)}.{entry.name}.{hparam}")
        url = None
        if hparam in wanted:
            stops = card_preview(setup, index, hparam, colors[index])
            url = ui.media_url(stops, "application/json", key("preview", hparam))
        previews.append(map_bridge.preview(hparam, widget_key, h.log, linear_step(h), url))
    return previews, functools.partial(want_preview, open_id, tuple(names))


def want_preview(entry_id: int, names: tuple[str, ...]) -> None:
    """The pointer neared a card slider whose stops the map does not have yet: keep them ready."""
    hparam = map_bridge.wanted(ss.get(key("bridge")), names)
    if hparam is not None:
        others = [pair for pair in ss.get(PREVIEW_WANTED, []) if pair != (entry_id, hparam)]
        ss[PREVIEW_WANTED] = [(entry_id, hparam), *others][:MAX_PREVIEWED]


def apply_click(domain: tuple[tuple[float, float], tuple[float, float]]) -> None:
    """A click on the map (the bridge reports it): every optimizer starts there."""
    if not shown("start"):
        return
    point = map_bridge.clicked_point(ss.get(key("bridge")), domain, vc.CLICK_GRID_POINTS)
    if point is not None:
        ss[key("map_click")] = point


def figures(
    setup: Setup,
    surface: Surface,
    surface_params: dict[str, float],
    quad: Quadratic | None,
    show_theory: bool,
    entry_pairs: list[tuple[int, OptimizerEntry]],
    lesson_slug: str | None,
) -> None:
    """Run (cached, one batched jitted call) and show the open tab."""
    result = run_setup(setup)
    trajectories = list(result.trajectories)
    colors = [color_for(i) for i in range(len(trajectories))]
    for message in divergence_messages(result):
        st.warning(message, icon="💥")

    tab_names = ["Paths", "Animation", "3D view", "Curves", "Internals", "Metrics & export"]
    tabs = st.tabs(tab_names, key=key("tab"), on_change="rerun", bind="query-params")
    paths_tab, anim_tab, view3d_tab, curves_tab, internals_tab, metrics_tab = tabs

    if paths_tab.open:
        with paths_tab:
            background = ui.surface_picture(surface, surface_params, key("picture"))
            live = live_choice(setup) if shown("hparams") else None
            token = ""
            on_release: Callable[[], None] = functools.partial(apply_released, "", -1, "", "", ())
            if live is None:
                fig = vc.contour_figure(
                    surface, trajectories, surface_params, colors=colors, background=background
                )
            else:
                fig, token, on_release = live_figure(
                    setup, live, entry_pairs, trajectories, surface, colors, background
                )
            if show_theory and quad is not None:
                vt.add_eigenvectors(fig, tv.segments(quad, surface))
                st.caption(tv.caption(quad))
                optimal = tv.optimal_entries(quad, entry_pairs)
                st.button(
                    "Use the optimal α (and β)",
                    key=key("use_optimal"),
                    on_click=use_optimal,
                    args=(optimal,),
                    disabled=not optimal or not shown("hparams"),
                    help="Set every SGD entry's α to gradient descent's optimum and every momentum "
                    "entry's α and μ to heavy ball's.",
                )
            ui.chart(fig, key=key("contour"), width="stretch")
            on_click = functools.partial(apply_click, surface.domain)
            previews, on_want = (
                card_previews(setup, entry_pairs, colors) if live is None and shown("hparams") else ([], None)
            )
            map_bridge.bridge(key("bridge"), token, on_release, on_click, previews, on_want)
            if (point := ss.pop(key("map_click"), None)) is not None:
                ss[key("pending_start")] = point
                st.rerun(scope="app")  # the start point's inputs live in the sidebar
            st.caption(
                "Click anywhere on the map to start every optimizer there. "
                "★ known minima · ● start · ■ ◆ ● ▲ end (a shape per optimizer) · ✕ diverged"
            )

    if anim_tab.open:
        with anim_tab:
            background = ui.surface_picture(surface, surface_params, key("picture"))
            anim_controls.step_buttons(key("anim.steps"))
            ui.chart(
                vc.animated_contour_figure(
                    surface, trajectories, surface_params, colors=colors, background=background
                ),
                width="stretch",
            )
            st.caption(
                "Press ▶ to play, ◀ Step back / Step forward ▶ for one step, or drag the slider to "
                "scrub. Every optimizer moves together, step for step."
            )

    if view3d_tab.open:
        with view3d_tab:
            anim_controls.step_buttons(key("view3d.steps"), three_d=True)
            ui.chart(
                vc.surface3d_figure(surface, trajectories, surface_params, colors=colors, animate=True),
                width="stretch",
            )

    if curves_tab.open:
        with curves_tab:
            loss_fig = vcurves.loss_figure(trajectories, surface, surface_params, colors=colors)
            if show_theory and quad is not None:
                vt.add_predicted_lines(loss_fig, tv.predicted_curves(quad, trajectories, colors))
            ui.chart(loss_fig, width="stretch")
            if show_theory:
                st.caption(
                    "Dashed: the loss the theory predicts for SGD and momentum at their settings, "
                    "f(x₀)·rate^(2k); after the first steps the measured loss runs parallel to it."
                )
            c1, c2 = st.columns(2)
            with c1:
                ui.chart(vcurves.distance_figure(surface, trajectories, colors=colors), width="stretch")
            with c2:
                ui.chart(vcurves.step_length_figure(trajectories, colors=colors), width="stretch")

    if internals_tab.open:
        with internals_tab:
            labels = [t.label for t in trajectories]
            # Keep both widgets inside their ranges (the steps or the optimizer list may have
            # shrunk since they were set).
            ss[key("focus")] = min(max(int(ss.get(key("focus"), 0)), 0), len(labels) - 1)
            ss[key("scrub")] = setup.scrub
            c1, c2 = st.columns([1, 2])
            c1.selectbox("Explain", range(len(labels)), key=key("focus"), format_func=lambda i: labels[i])
            focus = min(int(ss[key("focus")]), len(trajectories) - 1)
            c2.slider("Step", 0, setup.steps, key=key("scrub"))
            traj = trajectories[focus]
            step = int(ss[key("scrub")])
            ui.chart(
                vi.internals_arrows_figure(surface, traj, step, surface_params, color=colors[focus]),
                width="stretch",
            )
            c1, c2 = st.columns(2)
            with c1:
                ui.chart(vi.effective_step_figure(traj, step, color=colors[focus]), width="stretch")
            with c2:
                ui.chart(vi.moments_figure(traj, step, color=colors[focus]), width="stretch")
            st.latex(OPTIMIZERS[traj.optimizer].latex)

    if metrics_tab.open:
        with metrics_tab:
            from app_pages import downloads

            downloads.metrics_table(result)
            if shown("hparams"):
                tune_panel(setup, "pgtune", apply_tuned)
            downloads.download_section(setup, result, surface, surface_params, colors)
            uploaded = st.file_uploader(
                "Load a saved setup (JSON)",
                type=["json"],
                key=key("upload"),
                max_upload_size=1,
                help=f"A setup file saved here (at most {MAX_UPLOAD_BYTES // 1000} kB).",
            )
            if uploaded is not None and ss.get(key("upload_done")) != uploaded.file_id:
                ss[key("upload_done")] = uploaded.file_id
                # At most one byte past the cap is read: load_json refuses the file by its size.
                uploaded.seek(0)
                loaded, warnings = load_json(uploaded.read(MAX_UPLOAD_BYTES + 1))
                ss[key("url_warnings")] = ("The file had values that could not be used", warnings)
                if loaded is not None:
                    ss[key("pending_setup")] = loaded
                st.rerun(scope="app")
            with st.expander("Classroom mode"):
                st.caption("Share a link that hides chosen controls, so students focus on the rest.")
                chosen = st.multiselect(
                    "Hide",
                    list(HIDEABLE_CONTROLS),
                    format_func=lambda c: HIDEABLE_CONTROLS[c],
                    key=key("hide_pick"),
                )
                classroom_setup = setup.with_changes(classroom=True, hidden=tuple(chosen))
                lesson = {"lesson": lesson_slug} if lesson_slug is not None else {}
                st.caption("The link (the button at its right copies it), with the lesson's text:")
                st.code(
                    share_url(st.context.url, {**to_query(classroom_setup), **lesson}),
                    language=None,
                    wrap_lines=True,
                )


with workspace_slot:
    workspace(
        surface_name,
        expression,
        surface,
        surface_params,
        quad,
        show_theory,
        lesson.slug if lesson is not None else None,
    )
