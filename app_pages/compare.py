"""Compare: small multiples, sensitivity heatmaps and basin maps (logic in playground.compare).

Widgets are seeded from one CompareState (from the URL on a first visit or a pasted link), read
back into a new CompareState, and that state is written to the URL. A tab that is closed keeps
its part of the previous state, since its widgets are not drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app_pages import ui
from app_pages.downloads import figure_downloads
from app_pages.tune_panel import tune_panel
from optim_core import OPTIMIZERS
from playground import compare as cmp
from playground import writers
from playground.compute import divergence_messages
from playground.safe_text import plain
from playground.setup import (
    CUSTOM,
    DEFAULT_EXPRESSION,
    MAX_EXPRESSION_CHARS,
    MAX_STEPS,
    MIN_STEPS,
    NOISE_RANGE,
    NOISE_STEP,
    SEED_RANGE,
    STEPS_STEP,
    OptimizerEntry,
    Setup,
    validate,
)
from surfaces import SURFACES, ExpressionError

ss = st.session_state
QUERY_STATE = "cmp.query"
STATE = "cmp.state"
W = "cmp.w."  # every widget key of this page; cleared when a new link arrives


def seeded(key: str, value: object) -> str:
    """The widget key, holding `value` unless the widget already has one."""
    ss.setdefault(W + key, value)
    return W + key


def label_of(name: str) -> str:
    return OPTIMIZERS[name].label


def apply_tuned(tuned: Setup) -> None:
    """The tuning panel's "Apply": each panel's hyperparameter widgets take the tuned values
    (the keys `ui.hyperparam_editor` reads in "one panel per optimizer"), and the page state
    too, so the link carries them. Runs as an on_click callback, before any widget is drawn."""
    for entry in tuned.optimizers:
        spec = OPTIMIZERS[entry.name]
        for hp, value in entry.hparams.items():
            kind = spec.hyperparam(hp).kind
            ss[f"{W}po.{entry.name}.{hp}"] = bool(value) if kind == "bool" else float(value)
    ss[W + "po.names"] = [e.name for e in tuned.optimizers]
    state_now: cmp.CompareState = ss[STATE]
    ss[STATE] = state_now.with_changes(setup=state_now.setup.with_changes(optimizers=tuned.optimizers))


def data_buttons(name: str, csv_text: Callable[[], str], json_text: Callable[[], str], key: str) -> None:
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(
        "data CSV",
        data=csv_text,
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}.csv",
        on_click="ignore",
    )
    c2.download_button(
        "data JSON",
        data=json_text,
        file_name=f"{name}.json",
        mime="application/json",
        key=f"{key}.json",
        on_click="ignore",
    )


st.title("Compare")
st.caption(
    "Side by side: several optimizers on one surface, one hyperparameter swept across "
    "panels, whole grids of settings, and every start point at once."
)

# 1. A new URL (first visit, a pasted link) seeds the widgets.
if ui.url_changed(QUERY_STATE) or STATE not in ss:
    url_state, url_warnings = cmp.from_query(ui.current_query())
    for stale in [k for k in ss if str(k).startswith(W)]:
        del ss[stale]
    ss[STATE] = url_state
    ui.show_warnings(url_warnings, "The link had values that could not be used")
state: cmp.CompareState = ss[STATE]
base = state.setup

# 2. Sidebar: surface and run, shared by every figure of the page.
with st.sidebar:
    st.header("Surface")
    surface_name = st.selectbox(
        "Loss surface",
        [*SURFACES, CUSTOM],
        key=seeded("surface", base.surface),
        format_func=lambda k: "Custom formula" if k == CUSTOM else SURFACES[k].label,
    )
    expression = base.expression
    if surface_name == CUSTOM:
        expression = st.text_input(
            "f(x, y) =",
            key=seeded("expression", base.expression),
            max_chars=MAX_EXPRESSION_CHARS,
            help="Numbers, x, y, pi, e, + - * / ** and sin, cos, tan, exp, log, sqrt, abs, ...",
        )
        try:
            surface = Setup(surface=CUSTOM, expression=expression).resolved_surface()
        except ExpressionError as exc:
            st.error(plain(f"That formula can't be used: {exc}"), icon="✏️")
            expression = DEFAULT_EXPRESSION
            surface = Setup(surface=CUSTOM, expression=expression).resolved_surface()
    else:
        surface = SURFACES[surface_name]
    surface_params = {}
    for p in surface.params:
        value = base.surface_params.get(p.name, p.default) if base.surface == surface_name else p.default
        surface_params[p.name] = st.slider(
            p.label,
            float(p.low),
            float(p.high),
            help=p.help,
            key=seeded(f"sp.{surface_name}.{p.name}", float(value)),
        )
    st.caption(surface.description)

    st.header("Run")
    steps = st.slider("Steps", MIN_STEPS, MAX_STEPS, step=STEPS_STEP, key=seeded("steps", base.steps))
    noise = st.slider(
        "Gradient noise σ",
        *NOISE_RANGE,
        step=NOISE_STEP,
        key=seeded("noise", base.noise),
        help="Gaussian noise added to every gradient, as in stochastic / mini-batch "
        "gradient descent. Every run sees the same noise for the same seed.",
    )
    seed = st.number_input("Noise seed", *SEED_RANGE, step=1, key=seeded("seed", base.seed))
    default_start = st.checkbox(
        "Start at the surface's default point", key=seeded("start_default", base.start is None)
    )
    if default_start:
        st.caption(f"Start point: ({surface.start[0]:g}, {surface.start[1]:g})")
        start = None
    else:
        start_now = base.start if base.start is not None else surface.start
        c1, c2 = st.columns(2)
        x0 = c1.number_input("start x", format="%.3f", step=0.1, key=seeded("x0", float(start_now[0])))
        y0 = c2.number_input("start y", format="%.3f", step=0.1, key=seeded("y0", float(start_now[1])))
        start = (float(x0), float(y0))
    tol = st.select_slider(
        "Tolerance for 'steps to tolerance'",
        list(cmp.TOL_OPTIONS),
        format_func=lambda v: f"{v:g}",
        key=seeded("tol", cmp.nearest_tol(state.tol)),
        help="A run has arrived once its loss is within this of the minimum.",
    )

panel_entries = base.optimizers
setup = Setup(
    surface=surface_name,
    expression=expression,
    surface_params=surface_params,
    noise=float(noise),
    seed=int(seed),
    steps=int(steps),
    start=start,
    optimizers=panel_entries,
)
setup, adjusted = validate(setup)  # the one range policy (the widgets stay inside it)
ui.show_warnings(adjusted, "Some values were adjusted")
state = state.with_changes(setup=setup, tol=float(tol))

tabs = st.tabs(
    ["Small multiples", "Sensitivity heatmap", "Basin map"],
    key="cmp.tab",
    on_change="rerun",
    bind="query-params",
)

# 3. Small multiples: one panel per optimizer, or one hyperparameter swept across panels.
if tabs[0].open:
    with tabs[0]:
        panels = st.radio(
            "Panels",
            list(cmp.PANEL_MODES),
            format_func=cmp.PANEL_MODES.get,
            horizontal=True,
            key=seeded("panels", state.panels),
        )
        if panels == "optimizers":
            names = st.multiselect(
                "Optimizers (one panel each)",
                list(OPTIMIZERS),
                format_func=label_of,
                max_selections=cmp.MAX_PANELS,
                key=seeded("po.names", [e.name for e in base.optimizers]),
            )
            panel_old = {e.name: e.hparams for e in base.optimizers}
            entries = []
            with st.expander("Hyperparameters of each panel", expanded=False):
                cols = st.columns(min(max(len(names), 1), 4))
                for i, name in enumerate(names):
                    with cols[i % len(cols)]:
                        st.markdown(f"**{label_of(name)}**")
                        panel_values = ui.hyperparam_editor(
                            name, f"{W}po.{name}", panel_old.get(name, OPTIMIZERS[name].defaults)
                        )
                    entries.append(OptimizerEntry(name, panel_values))
            if not entries:
                st.info("Pick at least one optimizer.")
            state = state.with_changes(
                panels=panels, setup=setup.with_changes(optimizers=tuple(entries) or base.optimizers)
            )
        else:
            sw = state.sweep
            c1, c2, c3 = st.columns([1, 1, 2])
            name = c1.selectbox(
                "Optimizer", list(OPTIMIZERS), format_func=label_of, key=seeded("sw.name", sw.entry.name)
            )
            options = cmp.sweepable_hparams(name)
            hp = c2.selectbox(
                "Hyperparameter to sweep",
                options,
                format_func=lambda h: f"{cmp.hp_symbol(name, h)} · {h}",
                key=seeded(
                    f"sw.hp.{name}",
                    sw.hparam
                    if sw.entry.name == name and sw.hparam in options
                    else cmp._default_sweep_hparam(name),
                ),
            )
            same = sw.entry.name == name and sw.hparam == hp
            text = c3.text_input(
                f"Values of {cmp.hp_symbol(name, hp)}, separated by commas (up to {cmp.MAX_SWEEP_VALUES})",
                key=seeded(
                    f"sw.vals.{name}.{hp}",
                    cmp.format_values(sw.values if same else cmp.default_sweep_values(name, hp)),
                ),
            )
            sweep_values, errors = cmp.parse_values(text, name, hp)
            for error in errors:
                st.error(plain(f"Sweep value ignored: {error}."), icon="✏️")
            if not sweep_values:
                sweep_values = cmp.default_sweep_values(name, hp)
                st.warning(f"No usable values; showing {cmp.format_values(sweep_values)}.")
            with st.expander(f"The other hyperparameters of {label_of(name)}", expanded=False):
                old = sw.entry.hparams if sw.entry.name == name else OPTIMIZERS[name].defaults
                fixed = {
                    h.name: ui.hyperparam_widget(
                        h,
                        f"{W}sw.fixed.{name}.{h.name}",
                        old.get(h.name, h.default),
                        owner=label_of(name),
                    )
                    for h in OPTIMIZERS[name].hyperparams
                    if h.name != hp
                }
            entry = OptimizerEntry(name, {**OPTIMIZERS[name].defaults, **old, **fixed})
            state = state.with_changes(panels=panels, sweep=cmp.SweepSpec(entry, hp, sweep_values))

        run = cmp.run_panels(state)
        for message in divergence_messages(run):
            st.warning(message, icon="💥")
        picture = ui.surface_picture(run.surface, surface_params, "cmp.picture")
        fig = cmp.panels_figure(run, surface_params, background=picture)
        ui.chart(fig, width="stretch", key="cmp.sm.chart")
        st.caption(
            "**How to read it:** every panel shows the same surface with the same axes and colour "
            "scale, so you can compare paths by eye. ● is the start, ■ where the run ended, ★ a "
            "known minimum. Look for the panel that gets to a star in a straight line; wiggles "
            "mean oscillation, a short path means the step size is too small."
        )
        run_entries = [OptimizerEntry(c.optimizer, dict(c.hparams)) for c in cmp.panel_configs(state)[0]]
        st.page_link(
            "app_pages/playground.py",
            label="Open these runs in the Playground →",
            icon="🎢",
            query_params=cmp.playground_query(state.setup, run_entries),
        )
        with st.expander("Download"):
            figure_downloads("small-multiples", lambda: fig, key="cmp.dl.sm")
            trajectories = list(run.trajectories)
            data_buttons(
                "small-multiples-paths",
                lambda: writers.trajectories_csv(trajectories),
                lambda: writers.trajectories_json(trajectories),
                key="cmp.dl.sm.data",
            )
        st.divider()
        if panels == "optimizers" and entries:
            tune_panel(state.setup, "cmp.tune", apply_tuned, tol=state.tol)
        else:
            st.caption(
                "**Tune each optimizer:** switch Panels to *one panel per optimizer* to tune every "
                "optimizer's α (and β₁ / μ) on this surface and compare them at their best."
            )

# 4. Sensitivity heatmap: two hyperparameters of one optimizer, one batched run.
if tabs[1].open:
    with tabs[1]:
        hm = state.heatmap
        controls, figure_col = st.columns([1, 2.4], gap="medium")
        with controls:
            name = st.selectbox(
                "Optimizer",
                cmp.heatmap_optimizers(),
                format_func=label_of,
                key=seeded("hm.name", hm.entry.name),
            )
            axes = cmp.grid_hparams(name)
            fmt = lambda h: f"{cmp.hp_symbol(name, h)} · {h}"  # noqa: E731
            same_opt = hm.entry.name == name
            x = st.selectbox(
                "x axis",
                axes,
                format_func=fmt,
                key=seeded(f"hm.x.{name}", hm.x if same_opt and hm.x in axes else "learning_rate"),
            )
            y_options = [a for a in axes if a != x]
            y = st.selectbox(
                "y axis",
                y_options,
                format_func=fmt,
                key=seeded(
                    f"hm.y.{name}.{x}", hm.y if same_opt and hm.y in y_options else cmp._default_y(name, x)
                ),
            )
            ranges = {}
            for axis, current in (("x", x), ("y", y)):
                prior = (
                    (hm.x_range if axis == "x" else hm.y_range)
                    if same_opt and (hm.x if axis == "x" else hm.y) == current
                    else cmp.default_range(name, current)
                )
                log = cmp.is_log(name, current)
                c1, c2 = st.columns(2)
                lo = c1.number_input(
                    f"{cmp.hp_symbol(name, current)} from",
                    format="%.4g",
                    key=seeded(f"hm.{axis}lo.{name}.{current}", float(prior[0])),
                )
                hi = c2.number_input(
                    f"{cmp.hp_symbol(name, current)} to",
                    format="%.4g",
                    key=seeded(f"hm.{axis}hi.{name}.{current}", float(prior[1])),
                )
                problem = cmp.check_range(name, current, float(lo), float(hi))
                if problem:
                    ranges[axis] = cmp.default_range(name, current)
                    st.error(
                        plain(f"{current}: {problem}; using {cmp.format_values(ranges[axis])}."), icon="✏️"
                    )
                else:
                    ranges[axis] = (float(lo), float(hi))
                if log:
                    st.caption(f"{cmp.hp_symbol(name, current)} is spaced on a log scale.")
            resolution = st.slider(
                "Cells per axis",
                cmp.MIN_HEATMAP_RES,
                cmp.MAX_HEATMAP_RES,
                key=seeded("hm.n", hm.resolution),
                help=f"At most {cmp.MAX_HEATMAP_RES} × {cmp.MAX_HEATMAP_RES} runs, all in one batched call.",
            )
            metric = st.radio(
                "Colour by",
                list(cmp.HEATMAP_METRICS),
                format_func=cmp.HEATMAP_METRICS.get,
                horizontal=True,
                key=seeded("hm.z", hm.metric),
            )
            with st.expander("The other hyperparameters (held fixed)"):
                old = hm.entry.hparams if same_opt else OPTIMIZERS[name].defaults
                fixed = {
                    h.name: ui.hyperparam_widget(
                        h,
                        f"{W}hm.fixed.{name}.{h.name}",
                        old.get(h.name, h.default),
                        owner=label_of(name),
                    )
                    for h in OPTIMIZERS[name].hyperparams
                    if h.name not in (x, y)
                }
        entry = OptimizerEntry(name, {**OPTIMIZERS[name].defaults, **old, **fixed})
        spec = cmp.HeatmapSpec(entry, x, y, ranges["x"], ranges["y"], int(resolution), metric)
        state = state.with_changes(heatmap=spec)
        with figure_col:
            with st.spinner(f"Running {resolution * resolution} optimizations…"):
                result = cmp.run_heatmap(state)
            hfig = cmp.heatmap_fig(result, metric)
            ui.chart(hfig, width="stretch", key="cmp.hm.chart")
            default = result.default_point()
            where = (
                "★ marks the default setting."
                if default is not None
                else "The default setting lies outside this grid, so no ★ is drawn."
            )
            st.caption(
                f"**How to read it:** each cell is one full run of {label_of(name)} from the same "
                f"start with that pair of values; the colour is its "
                f"{cmp.HEATMAP_METRICS[metric]} (lower is better, darker is lower). {where} Grey "
                "cells with an x never got there; a red x means the run blew up (diverged). "
                "A wide dark region means the optimizer is forgiving about these two settings; a "
                "thin one means they must be tuned together."
            )
            best = cmp.best_cell(result)
            if best is not None:
                best_entry = OptimizerEntry(name, {**entry.hparams, x: best[0], y: best[1]})
                st.page_link(
                    "app_pages/playground.py",
                    icon="🎢",
                    label=f"Open the best setting ({cmp.hp_symbol(name, x)} = {best[0]:.3g}, "
                    f"{cmp.hp_symbol(name, y)} = {best[1]:.3g}: the fastest run that ends within "
                    "the tolerance, else the lowest final loss) next to the default in the Playground →",
                    query_params=cmp.playground_query(
                        state.setup, [OptimizerEntry(name, OPTIMIZERS[name].defaults), best_entry]
                    ),
                )
            with st.expander("Download"):
                figure_downloads("sensitivity-heatmap", lambda: hfig, key="cmp.dl.hm")
                data_buttons(
                    "sensitivity-heatmap",
                    lambda: cmp.rows_csv(cmp.heatmap_rows(result)),
                    lambda: cmp.heatmap_json(result, state),
                    key="cmp.dl.hm.data",
                )

# 5. Basin map: every start point of a grid, one batched run.
if tabs[2].open:
    with tabs[2]:
        bm = state.basin
        controls, figure_col = st.columns([1, 2.4], gap="medium")
        with controls:
            name = st.selectbox(
                "Optimizer", list(OPTIMIZERS), format_func=label_of, key=seeded("bm.name", bm.entry.name)
            )
            metric = st.radio(
                "Colour each start point by",
                list(cmp.BASIN_METRICS),
                format_func=cmp.BASIN_METRICS.get,
                key=seeded("bm.z", bm.metric),
            )
            resolution = st.slider(
                "Start points per axis",
                cmp.MIN_BASIN_RES,
                cmp.MAX_BASIN_RES,
                key=seeded("bm.n", bm.resolution),
                help=f"At most {cmp.MAX_BASIN_RES} × {cmp.MAX_BASIN_RES} runs, all in one batched call.",
            )
            with st.expander(f"Hyperparameters of {label_of(name)}", expanded=True):
                old = bm.entry.hparams if bm.entry.name == name else OPTIMIZERS[name].defaults
                values = ui.hyperparam_editor(name, f"{W}bm.{name}", old)
        entry = OptimizerEntry(name, values)
        state = state.with_changes(basin=cmp.BasinSpec(entry, int(resolution), metric))
        with figure_col:
            with st.spinner(f"Running {resolution * resolution} optimizations…"):
                basin = cmp.run_basin(state)
            note = cmp.basin_metric_note(basin, metric)
            if note:
                st.info(note)
            bfig = cmp.basin_fig(basin, metric, surface, surface_params, start=state.setup.resolved_start())
            ui.chart(bfig, width="stretch", key="cmp.bm.chart")
            radius = cmp.reach_radius(surface)
            st.caption(
                f"**How to read it:** {label_of(name)} was started from every point of a "
                f"{resolution} × {resolution} grid. "
                + (
                    "Each colour is a region of start points that end at the same minimum (within "
                    f"{radius:.2g}); the borders between colours are watersheds. Grey starts reach no "
                    "minimum in time or diverge. "
                    if metric == "minimum"
                    else "Bright means the start gets close to the minimum quickly; grey means never "
                    "(or it diverged). "
                    if metric == "steps"
                    else "Bright means a low final loss. "
                )
                + "The white circle is the current start point; the thin lines are the surface's "
                "level lines. Change α or the optimizer and watch the borders move."
            )
            st.page_link(
                "app_pages/playground.py",
                icon="🎢",
                label=f"Open {label_of(name)} from the current start in the Playground →",
                query_params=cmp.playground_query(state.setup, [entry]),
            )
            with st.expander("Download"):
                figure_downloads("basin-map", lambda: bfig, key="cmp.dl.bm")
                data_buttons(
                    "basin-map",
                    lambda: cmp.rows_csv(cmp.basin_rows(basin)),
                    lambda: cmp.basin_json(basin, state),
                    key="cmp.dl.bm.data",
                )

# 6. The page's state goes to the URL (share link).
ss[STATE] = state
ui.sync_query(cmp.to_query(state), QUERY_STATE)
