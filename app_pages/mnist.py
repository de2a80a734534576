"""MNIST: the playground's optimizers trained side by side on a real network.

Thin page: the setup, its URL codec, training jobs and the result cache live in
playground.mnist_page. Training runs in a background thread owned by the session; while it
runs, a fragment polls it every POLL_S seconds and redraws the progress and the curves, and
Stop asks it to end after the current chunk, keeping everything trained so far.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from html import escape
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages import ui
from app_pages.downloads import figure_downloads
from optim_core import PRESETS
from playground import mnist_lr_find as lrf
from playground import mnist_page as mp
from playground.safe_text import plain
from playground.setup import widget_range
from viz.colors import color_for
from viz.lr_find import lr_find_figure
from viz.training import curves_figure, digits_figure, landscape_figure, run_colors

ss = st.session_state
wkey = mp.wkey
QUERY_STATE = wkey("query")
SETUP = wkey("setup")  # the last setup the widgets showed (outlives the widgets' own state)
JOB = wkey("job")  # the running TrainingJob, if any
SHOWN = wkey("shown")  # the last Outcome shown (finished or stopped)
ERROR = wkey("error")  # why the last job failed
ERROR_CHARS = 700  # a job's error is shown escaped, cut here
SESSION_KEY = wkey("session_key")  # this session's key in the admission queue (one job each)
LRF_ENTRY = wkey("lrf", "entry")  # which of the page's optimizers the range test runs (entry id)
LRF_MIN, LRF_MAX = wkey("lrf", "min"), wkey("lrf", "max")  # the test's α range
LRF_JOB = wkey("lrf", "job")  # the running RangeTestJob, if any, and the entry id it tests
LRF_SHOWN = wkey("lrf", "shown")  # (entry id, RangeTest, LRFindResult) last shown
LRF_ERROR = wkey("lrf", "error")  # why the last test could not run
LRF_NOTE = wkey("lrf", "note")  # what 'Use this α' did
JOB_INTO = wkey("job_into")  # where the running job's outcome goes: SHOWN, or FIX_OUTCOME
FIX_OUTCOME = wkey("fix_outcome")  # the last Adadelta fix trained beside a run (maybe stopped)
FIX_BASE = wkey("fix_base")  # the Outcome the running fix is trained beside
ARTICLE_SET = wkey("article_set")  # the setup the article button set (its note shows while kept)


def label_of(name: str) -> str:
    return mp.NETWORK_OPTIMIZERS[name].label


def hyperparam_editor(name: str, key_prefix: str, values: dict[str, float], owner: str) -> dict[str, float]:
    """ui.hyperparam_editor over the page's optimizers (optim_core's and the network-only Muon);
    the widgets are named after `owner` ("Adam learning rate α")."""
    return {
        h.name: ui.hyperparam_widget(h, f"{key_prefix}.{h.name}", values.get(h.name, h.default), owner=owner)
        for h in mp.NETWORK_OPTIMIZERS[name].hyperparams
    }


def hyperparam_summary(name: str, values: dict[str, float], limit: int = 4) -> str:
    """ui.hyperparam_summary over the page's optimizers."""
    parts = [
        f"${h.symbol}$ = {values[h.name]:.3g}"
        for h in mp.NETWORK_OPTIMIZERS[name].hyperparams
        if h.kind != "bool" and h.name in values
    ][:limit]
    return " · ".join(parts)


def compare_muon() -> None:
    """The optimizers become SGD and Adam (Keras's defaults) and Muon (optax's); then run."""
    mp.seed_widgets(ss, mp.muon_comparison(mp.read_setup(ss)))
    start_run()


def metrics_row(result: mp.TrainResult, twins: dict[str, str] | None = None) -> None:
    """The latest validation accuracy of every optimizer, side by side, in its curve colour
    (a fix's run, named in `twins`, in its original's colour, marked ◆ as in the chart)."""
    st.caption("Validation accuracy after the last epoch (and its change since the start)")
    cols = st.columns(len(result.runs))
    colors = run_colors(result, twins)
    for col, run, color in zip(cols, result.runs, colors, strict=True):
        if not run.epochs:
            continue
        last, label = run.epochs[-1], escape(run.label, quote=True)
        mark = "◆" if twins and run.label in twins else "●"
        # One line per label (ellipsis), so the numbers of all optimizers line up.
        col.markdown(
            f"<div title='{label}' style='white-space:nowrap;overflow:hidden;"
            f"text-overflow:ellipsis'><span style='color:{color};"
            f"font-size:1.2em'>{mark}</span> <b>{label}</b></div>",
            unsafe_allow_html=True,
        )
        col.metric(
            f"{run.label}: validation accuracy",
            f"{last.val_acc:.1%}",
            delta=f"{last.val_acc - run.initial_val_acc:+.1%}",
            delta_color="normal",
            label_visibility="collapsed",
        )


FIX_BUTTON = f"Train Adadelta at α = {mp.ADADELTA_FIXED_LR:g} beside this run (as PyTorch does)"


def adadelta_box(expanded: bool, outcome: mp.Outcome | None = None, fixed: bool = False) -> None:
    """The explanation; with a finished `outcome` whose fix is not shown yet, the fix button;
    `fixed`: the fix is on the chart."""
    with st.expander("💡 Why Adadelta barely learns at Keras defaults, and the fix", expanded=expanded):
        st.markdown(mp.adadelta_note())
        if fixed:
            st.caption("The fix is on the chart above: dashed, ◆, in Adadelta's colour.")
            return
        if outcome is None:
            st.caption(
                f"Press **▶ Run**: with the curves on screen, this box trains Adadelta at "
                f"α = {mp.ADADELTA_FIXED_LR:g} beside them (same start, same batches), and the "
                "chart shows before and after together."
            )
            return
        st.button(
            FIX_BUTTON,
            key=wkey("fix_adadelta"),
            on_click=fix_adadelta,
            args=(outcome,),
            type="primary",
            help="Trains only Adadelta again, at the fixed α, from the same initial weights on the "
            "same batches; the original curve stays.",
        )


def fix_adadelta(outcome: mp.Outcome) -> None:
    """Train the shown run's slow Adadelta(s) at the fixed α, beside it."""
    companion = mp.adadelta_companion(outcome.setup)
    if companion is not None and launch(companion, FIX_OUTCOME):
        ss[FIX_BASE] = outcome


def fix_outcome_for(outcome: mp.Outcome) -> mp.Outcome | None:
    """The Adadelta fix trained beside `outcome`, if any: from the cache, or this session's last
    (maybe stopped) fix."""
    companion = mp.adadelta_companion(outcome.setup)
    if companion is None:
        return None
    kept = ss.get(FIX_OUTCOME)
    return mp.lookup(companion) or (kept if kept is not None and kept.setup == companion else None)


def set_article(quick: bool) -> None:
    """The article's setting (or its quick version) into the widgets; the seed stays."""
    seed = int(ss[wkey("seed")])
    chosen = mp.article_quick_setup(seed) if quick else mp.article_setup(seed)
    mp.seed_widgets(ss, chosen)
    ss[ARTICLE_SET] = chosen


def start_run() -> None:
    """Run: a finished setup comes from the cache at once; anything else trains in a thread."""
    launch(mp.read_setup(ss), SHOWN)


def launch(setup: mp.MnistSetup, into: str) -> bool:
    """Show `setup`'s result from the cache in ss[into], or start training it (its outcome goes
    to ss[into] when it ends); False, with the reason in ss[ERROR], when it cannot start."""
    ss.pop(ERROR, None)
    job = ss.get(JOB)
    if job is not None and job.running:
        ss[ERROR] = "Your training is still queued or running: stop it before starting another one."
        return False
    cached = mp.lookup(setup)
    if cached is not None:
        ss[into] = cached
        return True
    key = ss.setdefault(SESSION_KEY, uuid.uuid4().hex)
    try:
        ss[JOB] = mp.start_job(setup, alive=session_alive(), session=key)
    except mp.Refused as e:  # one per session, or not enough memory: the message says which
        ss[ERROR] = str(e)
        return False
    ss[JOB_INTO] = into
    return True


def session_alive() -> Callable[[], bool] | None:
    """Whether this visitor's session is still connected, for the training thread to ask.

    Streamlit keeps a disconnected session (and its state) for server.disconnectedSessionTTL
    so that a reconnect can resume it, so "the state still exists" says nothing; the session
    manager's list of *active* sessions (those with a live WebSocket) does. None where there
    is no server runtime (AppTest, bare mode): the job then relies on its other stops.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def stop_run() -> None:
    job = ss.get(JOB)
    if job is not None:
        job.request_stop()


def add_optimizer() -> None:
    name = ss[wkey("add")]
    if name != "—":
        mp.add_entry(ss, name)
    ss[wkey("add")] = "—"


st.title("MNIST: the optimizers on a real network")
st.caption(
    "The seed article's experiment, live: the same optimizers as on the 2D surfaces train "
    "a neural network to read handwritten digits. Every optimizer starts from the same "
    "weights and sees the same batches in the same order, so the curves differ only "
    "by the optimizer."
)
ARTICLE_BUTTONS = (  # (label, key, quick, what it sets)
    (
        "📄 The article's setting",
        wkey("article"),
        False,
        f"Sets the article's experiment: its CNN, its {len(mp.ARTICLE_OPTIMIZERS)} optimizers at "
        f"Keras's defaults, batch {mp.ARTICLE_BATCH_SIZE}, {mp.ARTICLE_EPOCHS} epochs on the full "
        "MNIST set. Then press Run.",
    ),
    (
        "⚡ The article's setting, quick",
        wkey("article_quick"),
        True,
        f"The same network, optimizers, defaults and batch size on {mp.QUICK_TRAIN_SIZE:,} images "
        f"of the offline sample, {mp.QUICK_EPOCHS} epochs: a few minutes, for a lecture. Then press Run.",
    ),
)
for column, (label, button_key, quick_version, what) in zip(
    st.columns([2, 2, 3], vertical_alignment="center"), ARTICLE_BUTTONS, strict=False
):
    column.button(
        label, key=button_key, on_click=set_article, args=(quick_version,), width="stretch", help=what
    )

# 1. A new URL (first visit, a shared link) seeds the widgets; coming back from another page
#    (an empty URL) restores the last setup instead of the defaults.
if ui.url_changed(QUERY_STATE):
    query = ui.current_query()
    ss.pop(QUERY_STATE, None)  # the URL must be written back in full, even if "unchanged"
    if not query and SETUP in ss:
        mp.seed_widgets(ss, ss[SETUP])
    else:
        url_setup, url_warnings = mp.from_query(query)
        mp.seed_widgets(ss, url_setup)
        ui.show_warnings(url_warnings, "The link had values that could not be used")
elif not mp.widgets_seeded(ss):
    mp.seed_widgets(ss, ss.get(SETUP, mp.MnistSetup()))

# 2. A job that ended since the last run hands over its result.
job: mp.TrainingJob | None = ss.get(JOB)
if job is not None and not job.running:
    del ss[JOB]
    into = ss.pop(JOB_INTO, SHOWN)
    if job.outcome is not None:
        ss[into] = job.outcome
    elif job.phase == mp.FAILED:
        ss[ERROR] = job.error
    job = None
running = job is not None

# 3. Sidebar: the network and the data.
with st.sidebar:
    st.header("Network and data")
    st.radio(
        "Model",
        mp.MODEL_NAMES,
        key=wkey("model"),
        format_func=mp.MODEL_LABELS.get,
        help="MLP: one hidden layer of 256 units, trains in seconds. CNN: the article's "
        "network (32 3×3 filters, max-pool, dense 256, dropout).",
    )
    st.radio(
        "Data",
        mp.DATA_SOURCES,
        key=wkey("data"),
        format_func=mp.DATA_LABELS.get,
        on_change=mp.data_changed,
        args=(ss,),
        help="The sample ships with the app (8000 images to train on, 2000 to validate). "
        "The full set is downloaded once (11 MB) and validated on its 10,000 test "
        "images, as Keras does.",
    )
    if ss[wkey("data")] == "full" and not mp.full_downloaded():
        st.info(
            "Not on this server yet: Run downloads it first (11 MB, once). No internet "
            "access? You will get a message; the offline sample always works.",
            icon="🌐",
        )
    st.select_slider(
        "Training images",
        mp.train_sizes(ss[wkey("data")]),
        key=wkey("n"),
        format_func=lambda n: f"{n:,}",
        help="How many images one epoch goes through. Fewer: faster, noisier.",
    )
    st.select_slider(
        "Batch size", mp.BATCH_SIZES, key=wkey("batch"), help="Images per gradient step. The article uses 64."
    )
    st.slider("Epochs", 1, mp.MAX_EPOCHS, key=wkey("epochs"), help="Passes over the training images.")
    st.number_input(
        "Seed",
        0,
        2**31 - 1,
        step=1,
        key=wkey("seed"),
        help="Decides the initial weights, the batch order and the dropout masks.",
    )

main_col, optimizers_col = st.columns([5, 2], gap="medium")

# 4. The optimizers, each with a preset and its own sliders.
with optimizers_col:
    st.subheader("Optimizers")
    st.caption(
        f"Up to {mp.MAX_OPTIMIZERS}, each with its own settings. **keras** is the "
        "article's framework; switch an optimizer's preset in its settings."
    )
    ids = list(ss[wkey("entry_ids")])
    # Each card's controls say whose they are ("Remove Adam #2", "Adam learning rate α").
    owners = ui.card_names([label_of(ss[mp.entry_prefix(i) + ".name"]) for i in ids])
    for n, entry_id in enumerate(ids):
        prefix = mp.entry_prefix(entry_id)
        name = ss[prefix + ".name"]
        owner = owners[n]
        with st.container(border=True):
            head, remove = st.columns([4, 1], vertical_alignment="center")
            head.markdown(
                f"<span style='color:{color_for(n)};font-size:1.4em'>●</span> "
                f"**{label_of(name)}** · {ss[prefix + '.preset']}",
                unsafe_allow_html=True,
            )
            if len(ids) > 1:
                remove.button(
                    f"Remove {owner}",  # drawn as ✕ (style.ACCESSIBLE_CSS)
                    key=prefix + ".remove",
                    on_click=mp.remove_entry,
                    args=(ss, entry_id),
                    help=f"Remove {label_of(name)}",
                )
            with st.expander(f"{owner} settings", expanded=False):
                st.selectbox(
                    f"{owner} optimizer",
                    list(mp.OPTIMIZER_NAMES),
                    key=prefix + ".name",
                    format_func=label_of,
                    on_change=mp.change_optimizer,
                    args=(ss, entry_id),
                )
                st.selectbox(
                    f"{owner} preset",
                    list(PRESETS),
                    key=prefix + ".preset",
                    on_change=mp.apply_preset,
                    args=(ss, entry_id),
                    help="Defaults (and ε placement) as in optax, Keras or PyTorch. The article used Keras.",
                )
                if (note := mp.network_preset_support(name, ss[prefix + ".preset"])) is not None:
                    st.caption(note)
                values = hyperparam_editor(
                    name, f"{prefix}.{name}", dict(mp.default_entry(name).hparams), owner
                )
                st.latex(mp.NETWORK_OPTIMIZERS[name].latex)
            st.caption(hyperparam_summary(name, values))
    if len(ids) < mp.MAX_OPTIMIZERS:
        ss.setdefault(wkey("add"), "—")
        st.selectbox(
            "Add an optimizer",
            ["—", *mp.OPTIMIZER_NAMES],
            key=wkey("add"),
            format_func=lambda k: k if k == "—" else label_of(k),
            on_change=add_optimizer,
        )
    st.button(
        "Muon vs Adam vs SGD",
        key=wkey("compare_muon"),
        on_click=compare_muon,
        help="Replace the optimizers by SGD and Adam (Keras's defaults, as in the article) and "
        "Muon (optax.contrib.muon: orthogonalized updates for the weight matrices, Adam for the "
        "biases), and train them.",
    )

setup = mp.read_setup(ss)
ss[SETUP] = setup
if ss.get(ARTICLE_SET) != setup:  # the article's note shows while its setting is kept
    ss.pop(ARTICLE_SET, None)


def live_view() -> None:
    """Progress and curves of the running job; reruns itself every POLL_S seconds."""
    job = ss.get(JOB)
    if job is None or not job.running:
        st.rerun(scope="app")  # the job ended: the full page shows its results
    job.touch()
    st.caption(f"Training: {job.setup.describe()}")
    st.progress(mp.progress_fraction(job), text=mp.progress_text(job))
    partial = job.partial
    base = ss.get(FIX_BASE) if ss.get(JOB_INTO) == FIX_OUTCOME else None
    if partial is not None and partial.runs and partial.runs[0].epochs:
        twins: dict[str, str] = {}
        if base is not None:  # the fix trains: its curves grow beside the original's
            partial, twins, _ = mp.merge_fix(base.setup, base.result, partial)
        metrics_row(partial, twins)
        ui.chart(curves_figure(partial, twins=twins), key=wkey("live_chart"), width="stretch")
    else:
        st.caption("The curves appear after the first epoch.")


def show_outcome(outcome: mp.Outcome) -> None:
    result = outcome.result
    fix = fix_outcome_for(outcome)
    twins: dict[str, str] = {}
    pairs: list[mp.FixPair] = []
    if fix is not None:  # Adadelta's fix beside it: both curves, before and after
        result, twins, pairs = mp.merge_fix(outcome.setup, result, fix.result)
    if outcome.setup != setup:
        st.info(
            f"Showing your last run ({outcome.setup.describe()}). The settings have changed "
            "since: press **Run** to train them.",
            icon="↩️",
        )
    if result.stopped:
        st.warning(mp.stop_message(outcome), icon="⏹️")
    for run in result.runs:
        if run.diverged:
            st.warning(
                plain(
                    f"{run.label} diverged: its loss became infinite or not a number "
                    "(its learning rate is too large for this network)."
                ),
                icon="💥",
            )
    metrics_row(result, twins)
    fig = curves_figure(result, twins=twins)
    ui.chart(fig, key=wkey("curves"), width="stretch")
    for pair in pairs:
        st.markdown(f"**Adadelta, before and after the fix** (dashed, ◆): {mp.fix_sentence(pair)}")
    if fix is not None and fix.result.stopped:
        st.caption("The fix's training was stopped: its curve ends early.")
    st.caption(
        "**How to read it:** top, the loss (lower is better); bottom, the share of "
        "digits classified correctly. *Training* values are averaged over each epoch's "
        "batches, with dropout on; *validation* values are measured after each epoch "
        f"on {result.n_val:,} images the network never trains on (epoch 0 is the shared "
        "start). A validation curve that rises while the training one falls means "
        "overfitting."
    )

    if mp.needs_adadelta_fix(outcome.setup):
        if fix is None:
            adadelta_box(expanded=True, outcome=outcome)
        else:
            adadelta_box(expanded=False, fixed=True)

    st.subheader("Results")
    summary = mp.summary_frame(result)
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            "loss": st.column_config.NumberColumn(format="%.4f"),
            "best accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            "time (s)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    compile_s = max((r.compile_time for r in result.runs), default=0.0)
    st.caption(
        "Accuracy and loss on the validation images after the last epoch, the best "
        "accuracy of any epoch and when it came. **Time** counts each optimizer's own "
        "training batches; the optimizers train at "
        "the same time and share the server's CPU. Compiling the network for new "
        f"settings took another {compile_s:.1f} s (0 when it was already compiled)."
    )
    if (muon := mp.muon_note(result)) is not None:
        st.info(muon)
    for metric, title in mp.EPOCH_METRICS.items():
        st.markdown(f"**{title.capitalize()} after every epoch** (as in the article)")
        frame = mp.epoch_frame(result, metric)
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.2f" if metric == "val_acc" else "%.4f")
                for c in frame.columns
                if c != "epoch"
            },
        )

    land = landscape_section(outcome)
    export_section(outcome, result, fig, land)


def landscape_section(outcome: mp.Outcome) -> mp.Landscape | None:
    st.subheader("Loss landscape")
    st.caption(
        "The network has hundreds of thousands of weights, so its loss cannot be drawn "
        "directly. This view takes the plane in weight space that holds most of the "
        "optimizers' movement (the top two principal directions of their paths, scaled "
        "per filter as in Li et al., 2018), evaluates the real loss on a grid over that "
        "plane, and draws each optimizer's path on it: the same picture as the 2D "
        "playground, on a slice of a real network."
    )
    if not mp.has_snapshots(outcome):
        st.info(
            "This run did not keep its weights after every epoch (they would take more "
            f"than {mp.SNAPSHOT_BUDGET_BYTES // 2**20} MB). Fewer epochs or optimizers bring "
            "the landscape back.",
            icon="ℹ️",
        )
        return None
    model = outcome.setup.model
    ss.setdefault(wkey("land_res"), mp.DEFAULT_LANDSCAPE_RESOLUTION[model])
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    res = c1.select_slider(
        "Grid points per axis",
        mp.LANDSCAPE_RESOLUTIONS,
        key=wkey("land_res"),
        help="More points: a finer picture, longer to compute (the loss is evaluated at every point).",
    )
    land = outcome.landscapes.get(res)
    if land is None:
        slot = c2.empty()  # the button goes once the landscape is there
        go = slot.button("Compute the loss landscape", key=wkey("land_go"), width="stretch")
        if not go:
            st.caption(
                f"Evaluates the loss at {res * res} points of the plane "
                f"({'a few seconds' if model == 'mlp' else 'up to half a minute'} "
                "on this server)."
            )
            return None
        bar = st.progress(0.0, text="Evaluating the loss on the plane…")

        def show_progress(done: int, rows: int) -> None:
            bar.progress(done / rows, text=f"Evaluating the loss on the plane: row {done} of {rows}")

        try:
            land = mp.landscape_for(outcome, res, progress=show_progress)
        except (ValueError, mp.DataUnavailable) as e:
            bar.empty()
            st.error(plain(f"The landscape could not be computed: {e}"))
            return None
        bar.empty()
        slot.empty()
    hidden = mp.hidden_paths(land)
    ui.chart(landscape_figure(land, wide=mp.widened_paths(hidden)), key=wkey("landscape"), width="stretch")
    ev = land.explained_variance
    st.caption(
        f"**How to read it:** colours are log₁₀ of the loss on {land.subset:,} training "
        "images (dark is low); ● white is the shared start, ✕ the center (the final "
        f"weights of the best run). The plane holds {ev[0] + ev[1]:.0%} of the paths' "
        "movement; hover a point to see how far the real weights lie off the plane. "
        "A path that runs straight downhill is an optimizer that found a good direction "
        "early; one that barely leaves the start hardly learned. " + mp.hidden_paths_note(hidden)
    )
    return land


def export_section(
    outcome: mp.Outcome, result: mp.TrainResult, fig: object, land: mp.Landscape | None
) -> None:
    """Downloads; `result` is what the curves show (the run, with a fix beside it if any)."""
    with st.expander("Share and download"):
        st.caption(
            "The address bar holds these settings: copy it to share this exact experiment. It ends in:"
        )
        st.code(
            "?" + urlencode(mp.to_query(outcome.setup), doseq=True, safe="@(),="),
            language=None,
            wrap_lines=True,
        )
        st.markdown("**Curves**")
        figure_downloads("mnist-curves", lambda: fig, key=wkey("dl.curves"))
        c1, c2, c3, _ = st.columns(4)
        c1.download_button(
            "curves CSV",
            data=lambda: result.to_csv(),
            file_name="mnist-curves.csv",
            mime="text/csv",
            key=wkey("dl.csv"),
            on_click="ignore",
        )
        c2.download_button(
            "curves JSON",
            data=lambda: result.to_json(),
            file_name="mnist-curves.json",
            mime="application/json",
            key=wkey("dl.json"),
            on_click="ignore",
        )
        c3.download_button(
            "setup JSON",
            data=mp.to_json(outcome.setup),
            file_name="mnist-setup.json",
            mime="application/json",
            key=wkey("dl.setup"),
            on_click="ignore",
        )
        if land is not None:
            st.markdown("**Loss landscape**")
            hidden = mp.hidden_paths(land)
            wide = mp.widened_paths(hidden)
            figure_downloads(
                "mnist-landscape", lambda: landscape_figure(land, wide=wide), key=wkey("dl.landscape")
            )


# --- the learning-rate range test ----------------------------------------------------------------


def lrf_entry_ids() -> list[int]:
    return list(ss[wkey("entry_ids")])[: mp.MAX_OPTIMIZERS]


def lrf_entry_label(entry_id: int) -> str:
    ids = lrf_entry_ids()
    if entry_id not in ids:
        return "(removed)"
    prefix = mp.entry_prefix(entry_id)
    return f"{ids.index(entry_id) + 1}. {label_of(ss[prefix + '.name'])} · {ss[prefix + '.preset']}"


def lrf_sanitize() -> None:
    """The section's own widget values, made valid before it draws them (a removed optimizer,
    values from an old session)."""
    ids = lrf_entry_ids()
    if ss.get(LRF_ENTRY) not in ids:
        ss[LRF_ENTRY] = ids[0]
    if ss.get(LRF_MIN) not in lrf.ALPHA_MINS:
        ss[LRF_MIN] = lrf.DEFAULT_ALPHA_MIN
    if ss.get(LRF_MAX) not in lrf.ALPHA_MAXS:
        ss[LRF_MAX] = lrf.DEFAULT_ALPHA_MAX


def lrf_current() -> tuple[int, lrf.RangeTest]:
    """The test the section's widgets and the page's setup describe, and its entry id."""
    lrf_sanitize()
    entry_id = ss[LRF_ENTRY]
    test = lrf.RangeTest.from_setup(
        mp.read_setup(ss), lrf_entry_ids().index(entry_id), ss[LRF_MIN], ss[LRF_MAX]
    )
    return entry_id, test


def start_lr_find() -> None:
    """Find: a test run before comes from the cache; anything else goes through the queue."""
    ss.pop(LRF_ERROR, None)
    ss.pop(LRF_NOTE, None)
    try:
        entry_id, test = lrf_current()
        why = test.check()
    except (ValueError, KeyError) as e:  # a widget value nobody should be able to set
        ss[LRF_ERROR] = f"These settings cannot be tested: {e}"
        return
    if why is not None:
        ss[LRF_ERROR] = why
        return
    training = ss.get(JOB)
    if (training is not None and training.running) or lrf_testing():
        ss[LRF_ERROR] = (
            "Your training or range test is still running: wait for it to end, then start the test."
        )
        return
    cached = lrf.lookup(test)
    if cached is not None:
        ss[LRF_SHOWN] = (entry_id, test, cached)
        return
    key = ss.setdefault(SESSION_KEY, uuid.uuid4().hex)
    try:
        ss[LRF_JOB] = (entry_id, lrf.start_job(test, alive=session_alive(), session=key))
    except mp.Refused as e:
        ss[LRF_ERROR] = str(e)


def use_alpha() -> None:
    """Write the shown suggestion into the tested optimizer's learning-rate widget."""
    shown = ss.get(LRF_SHOWN)
    if shown is None:
        return
    entry_id, test, result = shown
    alpha = lrf.applied_alpha(result)
    if alpha is None or not lrf_entry_matches(entry_id, test):
        return
    name = test.entry.name
    spec = next(h for h in mp.NETWORK_OPTIMIZERS[name].hyperparams if h.name == "learning_rate")
    low, high = widget_range(spec)
    value = min(max(alpha, low), high)
    ss[mp.hparam_key(entry_id, name, "learning_rate")] = value
    ss[LRF_NOTE] = (
        f"{label_of(name)}'s learning rate is now α = {value:g} (in its settings and in the "
        "link). Press **▶ Run** to train with it."
    )


def lrf_entry_matches(entry_id: int, test: lrf.RangeTest) -> bool:
    """The tested optimizer is still on the page (same entry, same optimizer and preset)."""
    prefix = mp.entry_prefix(entry_id)
    return (
        entry_id in lrf_entry_ids()
        and ss.get(prefix + ".name") == test.entry.name
        and ss.get(prefix + ".preset") == test.entry.preset
    )


def lrf_testing() -> bool:
    held = ss.get(LRF_JOB)
    return held is not None and held[1].running


def lr_find_live() -> None:
    """The running test's status; reruns itself every POLL_S seconds until the test ends."""
    held = ss.get(LRF_JOB)
    if held is None or not held[1].running:
        st.rerun(scope="app")
    st.info(f"⏳ {held[1].status_text()}", icon="🔎")


def lr_find_section() -> None:
    held = ss.get(LRF_JOB)
    if held is not None and not held[1].running:  # the test ended since the last run
        del ss[LRF_JOB]
        entry_id, job = held
        if job.result is not None:
            ss[LRF_SHOWN] = (entry_id, job.test, job.result)
        elif job.phase == mp.FAILED:
            ss[LRF_ERROR] = f"The range test failed: {job.error}"
        held = None
    testing = held is not None
    shown = ss.get(LRF_SHOWN)
    with st.expander(
        "🔎 Find a learning rate: the range test (fast.ai's lr_find)",
        expanded=testing or shown is not None or LRF_ERROR in ss,
    ):
        st.markdown(
            "Train **one epoch** while the learning rate α grows exponentially, from tiny to "
            "huge, one α per batch, and plot the loss against α. While α is too small the "
            "loss hardly moves; then it falls; past a point every step overshoots and the loss "
            "blows up. A good α lies where the loss falls **fastest**."
        )
        lrf_sanitize()
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        labels = {i: lrf_entry_label(i) for i in lrf_entry_ids()}
        c1.selectbox(
            "Optimizer to test",
            list(labels),
            key=LRF_ENTRY,
            format_func=lambda i: labels.get(i, "(removed)"),
            help="One of this page's optimizers, with its preset and its other settings (β, ε…); "
            "the test sets α itself. The network, data, batch size and seed are the sidebar's.",
        )
        c2.select_slider("α from", lrf.ALPHA_MINS, key=LRF_MIN, format_func=lambda v: f"{v:g}")
        c3.select_slider("α to", lrf.ALPHA_MAXS, key=LRF_MAX, format_func=lambda v: f"{v:g}")
        entry_id, test = lrf_current()
        training = ss.get(JOB) is not None
        b1, b2 = st.columns([2, 3], vertical_alignment="center")
        b1.button(
            "🔎 Run the range test",
            key=wkey("lrf", "go"),
            on_click=start_lr_find,
            disabled=testing or training,
            width="stretch",
        )
        if training:
            b2.caption("Wait for the training to end: one job per visitor.")
        elif (why := test.check()) is not None:
            b2.caption(plain(why))
        elif shown is not None and shown[:2] == (entry_id, test):
            b2.caption("The result below is for these settings.")
        elif lrf.lookup(test) is not None:
            b2.caption("Tested before on this server: the result shows at once.")
        else:
            b2.caption(
                f"{test.describe()}. About {mp.format_duration(test.estimate_seconds())}, plus "
                "a few seconds to compile a new optimizer or network."
            )
        if LRF_ERROR in ss:
            st.error(plain(ss[LRF_ERROR], limit=ERROR_CHARS), icon="🚫")
        if testing:
            st.fragment(lr_find_live, run_every=mp.POLL_S)()
        elif shown is not None:
            shown_id, shown_test, shown_result = shown
            lr_find_result(shown_id, shown_test, shown_result, current=(entry_id, test))


def lr_find_result(
    entry_id: int, test: lrf.RangeTest, result: lrf.LRFindResult, current: tuple[int, lrf.RangeTest]
) -> None:
    if (entry_id, test) != current:
        st.info(
            f"Showing your last test ({plain(test.describe())}). The settings have changed "
            "since: press **Run the range test** to test them.",
            icon="↩️",
        )
    ui.chart(lr_find_figure(result), key=wkey("lrf", "chart"), width="stretch")
    st.markdown(f"**{lrf.suggestion_sentence(result)}**")
    st.caption(
        f"**How to read it:** grey, the loss of each batch (noisy: every batch holds other "
        "digits); blue, its moving average (the smoothed loss). ★ marks the suggested α, ✕ the "
        f"step where the smoothed loss passed 4× its lowest value. {lrf.stop_sentence(result)} "
        "Why not the α of the lowest loss? There the network is already at the edge of "
        "diverging; at the steepest point it still learns fast and stays stable. The test is a "
        "rule of thumb: one epoch at a changing α is not a training, so check the suggestion "
        "with **▶ Run**."
    )
    alpha = lrf.applied_alpha(result)
    matches = lrf_entry_matches(entry_id, test)
    label = label_of(test.entry.name)
    if alpha is None:
        return
    st.button(
        f"Use this α: set {label}'s learning rate to {alpha:g}",
        key=wkey("lrf", "use"),
        on_click=use_alpha,
        type="primary",
        disabled=not matches,
        help="Writes the suggestion into this optimizer's learning-rate setting (and the link).",
    )
    if not matches:
        st.caption(f"The tested {label} is no longer on the page (removed or changed): run the test again.")
    if LRF_NOTE in ss:
        st.success(ss[LRF_NOTE], icon="✅")


# 5. Run / Stop, then the live view or the results.
with main_col:
    c_run, c_stop, c_info = st.columns([1, 1, 4], vertical_alignment="center")
    c_run.button(
        "▶ Run",
        key=wkey("run"),
        type="primary",
        on_click=start_run,
        disabled=running or lrf_testing(),
        width="stretch",
        help="Train these settings (instant if they were trained before on this server).",
    )
    c_stop.button(
        "■ Stop",
        key=wkey("stop"),
        on_click=stop_run,
        disabled=not running,
        width="stretch",
        help="End the training now and keep what it has learned.",
    )
    cached = mp.lookup(setup)
    if running:
        c_info.caption("Training runs on the server; Stop keeps what was trained so far.")
    elif cached is not None:
        c_info.caption("These settings were trained before on this server: their results are shown below.")
    else:
        secs = mp.estimate_seconds(setup)
        c_info.caption(
            f"{setup.describe()}. Training takes roughly "
            f"{mp.format_duration(secs)} here, plus a few seconds to compile new "
            "settings."
            + (
                " That is long: fewer images, epochs or optimizers (or the MLP) make it interactive."
                if secs > 300
                else ""
            )
        )

    if ARTICLE_SET in ss:
        st.success(mp.article_note(setup), icon="📄")
    if ERROR in ss:
        st.error(plain(ss[ERROR], limit=ERROR_CHARS), icon="🚫")

    shown = None if running else cached or ss.get(SHOWN)
    if (
        not running
        and mp.needs_adadelta_fix(setup)
        and (shown is None or not mp.needs_adadelta_fix(shown.setup))
    ):
        adadelta_box(expanded=False)
    lr_find_section()
    if running:
        st.fragment(live_view, run_every=mp.POLL_S)()
    else:
        if shown is None:
            st.info(
                "Choose a network, data and optimizers, then press **Run**. The loss and "
                "accuracy curves of every optimizer grow here epoch by epoch; then you get "
                "the results table and a view of the real loss landscape with each "
                "optimizer's path.",
                icon="👆",
            )
            st.markdown(
                "**What the network learns from:** 28 × 28 grey images of handwritten "
                "digits, each with its label (orange). It sees the 784 pixels and must "
                "answer which of the 10 digits it is; a random guess is right 10% of "
                "the time."
            )
            sample = mp.dataset("sample")
            ui.chart(
                digits_figure(sample.x_train, sample.y_train),
                key=wkey("digits"),
                width="stretch",
                config={"displayModeBar": False},
            )
        else:
            show_outcome(shown)

ui.sync_query(mp.to_query(setup), QUERY_STATE)
