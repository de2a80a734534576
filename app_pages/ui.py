"""Streamlit widget helpers shared by the pages: widgets, the warning box and the one query sync."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import streamlit as st

from optim_core import OPTIMIZERS, HyperParam
from playground.safe_text import plain, warning_lines
from playground.setup import linear_step, log_slider_options, widget_range
from surfaces import Surface
from viz.raster import SurfaceRaster, surface_raster


def _nearest(options: list[float], value: float) -> float:
    return min(options, key=lambda o: abs(math.log10(o) - math.log10(max(value, 1e-300))))


SLIDER_SUFFIX = ".slider"  # a log slider's own widget key: the value's key plus this


def slider_key(h: HyperParam, key: str) -> str:
    """The key of the slider widget that edits hyperparameter `h` stored at `key`."""
    return key + SLIDER_SUFFIX if h.log else key


def _sync_from_slider(key: str) -> None:
    st.session_state[key] = st.session_state[key + SLIDER_SUFFIX]


def _sync_from_box(key: str, options: list[float]) -> None:
    st.session_state[key] = st.session_state[key + ".box"]
    st.session_state[key + SLIDER_SUFFIX] = _nearest(options, st.session_state[key])


def clamp(value: float, low: float, high: float) -> float:
    """`value` inside [low, high]; a value that is not a finite number becomes `low`."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float(low)
    if not math.isfinite(value):
        return float(low) if value != math.inf else float(high)
    return float(min(max(value, low), high))


LOG_BOX_PX = 130


def log_slider(
    label: str,
    key: str,
    low: float,
    high: float,
    default: float,
    help: str | None = None,
    disabled: bool = False,
    box_range: tuple[float, float] | None = None,
) -> float:
    """A log-scale slider with a typed-entry box beside it; both edit one value at `key`.

    The slider's stops run from `low` to `high`; the box takes any value in `box_range`
    (default: the same), and the slider then sits at the nearest stop.
    """
    box_low, box_high = box_range if box_range is not None else (low, high)
    if key not in st.session_state:
        st.session_state[key] = float(default)
    value = clamp(st.session_state[key], box_low, box_high)  # never more than the box can show
    st.session_state[key] = value
    options = log_slider_options(low, high, value)
    st.session_state[key + SLIDER_SUFFIX] = _nearest(options, value)
    st.session_state[key + ".box"] = value
    # The slider as wide as a linear one (a narrow log slider jumps decades per pixel); the box for
    # an exact value under it.
    st.select_slider(
        label,
        options=options,
        key=key + SLIDER_SUFFIX,
        help=help,
        format_func=lambda v: f"{v:g}",
        on_change=_sync_from_slider,
        args=(key,),
        disabled=disabled,
    )
    st.number_input(
        f"{label}, exact value",
        width=LOG_BOX_PX,
        min_value=float(box_low),
        max_value=float(box_high),
        key=key + ".box",
        format="%.3g",
        on_change=_sync_from_box,
        args=(key, options),
        label_visibility="collapsed",
        disabled=disabled,
        step=None,
    )
    return float(st.session_state[key])


def hyperparam_label(h: HyperParam, owner: str = "") -> str:
    """A widget's name in plain text, the optimizer first: "Adam learning rate α".

    Plain text, not LaTeX (a screen reader reads the name as written), and the owner makes it
    unique per card: two cards' "learning rate α" sliders are "Adam learning rate α" and
    "SGD learning rate α". The optax name stays in it (with spaces), the symbol last.
    """
    words = h.name.replace("_", " ")
    symbol = h.text_symbol if h.text_symbol != h.name else ""
    return " ".join(part for part in (owner.strip(), words, symbol) if part)


def hyperparam_widget(
    h: HyperParam, key: str, default: float, disabled: bool = False, owner: str = ""
) -> float:
    """The right widget for one hyperparameter: log slider, linear slider or toggle.

    `owner` (e.g. "Adam", or "Adam #2" when a page shows two) starts the widget's name.
    """
    label = hyperparam_label(h, owner)
    if h.kind == "bool":
        if key not in st.session_state:
            st.session_state[key] = bool(default)
        return float(st.toggle(label, key=key, help=h.help, disabled=disabled))
    low, high = widget_range(h)
    if h.log:
        return log_slider(
            label, key, h.low, h.high, default, help=h.help, disabled=disabled, box_range=(low, high)
        )
    # The readers clamp to the same range; this only guards a value set by other code.
    st.session_state[key] = clamp(st.session_state.get(key, default), low, high)
    return float(
        st.slider(
            label,
            min_value=float(h.low),
            max_value=float(h.high),
            key=key,
            step=linear_step(h),
            help=h.help,
            disabled=disabled,
            format="%.4g",
        )
    )


def hyperparam_editor(
    name: str,
    key_prefix: str,
    values: Mapping[str, float],
    disabled: bool = False,
    owner: str | None = None,
) -> dict[str, float]:
    """Every hyperparameter widget of one optimizer; returns the values they show.

    The widgets are named after `owner` (default: the optimizer's label, "Adam learning rate α");
    a page that shows the same optimizer twice passes "Adam #2".
    """
    spec = OPTIMIZERS[name]
    owner = spec.label if owner is None else owner
    return {
        h.name: hyperparam_widget(
            h, f"{key_prefix}.{h.name}", values.get(h.name, h.default), disabled=disabled, owner=owner
        )
        for h in spec.hyperparams
    }


def card_names(labels: list[str]) -> list[str]:
    """Each card's name for its controls ("Adam", "SGD"), numbered where a label repeats
    ("Adam #1", "Adam #2"): a screen reader's "Remove Adam #2" says which card it acts on."""
    seen: dict[str, int] = {}
    names = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        names.append(f"{label} #{seen[label]}" if labels.count(label) > 1 else label)
    return names


def hyperparam_summary(name: str, values: Mapping[str, float], limit: int = 4) -> str:
    """A one-line reminder of the main values, e.g. "$\\alpha$ = 0.02 · $\\beta_1$ = 0.9"."""
    parts = [
        f"${h.symbol}$ = {values[h.name]:.3g}"
        for h in OPTIMIZERS[name].hyperparams
        if h.kind != "bool" and h.name in values
    ][:limit]
    return " · ".join(parts)


def media_url(data: bytes, mimetype: str, coordinates: str) -> str:
    """A URL the browser can fetch `data` from, served by Streamlit's media endpoint.

    The same bytes give the same URL, so a figure that names it is re-sent as a short string and
    the browser draws its cached copy. Relative (no leading slash), so it also works under a
    `server.baseUrlPath`. Outside a running server (bare script mode) the data is inlined.
    """
    from streamlit import runtime

    if runtime.exists():
        return runtime.get_instance().media_file_mgr.add(data, mimetype, coordinates).lstrip("/")
    import base64

    return f"data:{mimetype};base64," + base64.b64encode(data).decode("ascii")


def surface_picture(
    surface: Surface, surface_params: Mapping[str, float], coordinates: str
) -> tuple[SurfaceRaster, str]:
    """The surface's picture (`viz.raster`) and the URL the browser fetches it from: the same
    picture keeps the same URL, so a slider move re-sends a short string, not the surface."""
    raster = surface_raster(surface, surface_params)
    return raster, media_url(raster.png, "image/png", coordinates)


def is_phone() -> bool:
    """True when the browser says it is a phone ("Mobi" in its User-Agent, as browsers on
    phones send): the pages then lay out for a 360-430 px screen. False outside a server."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # no session (bare script, some tests)
        return False
    return "Mobi" in agent


# On a phone the charts span the screen (SMALL_SCREEN_CSS) and keep narrow margins, and a
# single colour bar lies above the plot instead of beside it: a 390 px screen then shows a square
# map 340 px wide instead of 177 px. The axes' automargin still makes room for their labels.
PHONE_MARGIN = dict(l=36, r=10)
PHONE_COLORBAR_PX = 56  # room above the plot for a horizontal colour bar and its title
PHONE_MAP_PX = 372  # a map's plot height on a phone: 390 px less the margins, and slack for automargin
PHONE_LEGEND_PX = 370  # the legend's width on a phone (its rows wrap sooner than on a desktop)


def _colorbar_holders(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """The dicts of a trace that hold a shown colour bar (the trace, or its marker)."""
    holders = []
    if trace.get("showscale") and trace.get("type") in ("contour", "heatmap", "surface", "histogram2d"):
        holders.append(trace)
    marker = trace.get("marker")
    if isinstance(marker, dict) and marker.get("showscale"):
        holders.append(marker)
    return holders


def phone_figure(fig: Any) -> Any:
    """A copy of `fig` laid out for a phone (the figure itself is left as it is: figures may be
    cached and shared with other sessions)."""
    import plotly.graph_objects as go

    spec = fig.to_dict()  # a deep copy
    layout = spec.setdefault("layout", {})
    margin = dict(layout.get("margin") or {})
    for side, px in PHONE_MARGIN.items():
        margin[side] = min(int(margin.get(side, 80)), px)
    holders = [h for trace in spec.get("data", []) for h in _colorbar_holders(trace)]
    if len(holders) == 1:  # one colour bar: above the plot, as wide as it
        bar = holders[0].setdefault("colorbar", {})
        title = dict(bar.get("title") or {})
        title["side"] = "top"
        bar.update(
            orientation="h",
            x=0.5,
            xanchor="center",
            y=1.0,
            yanchor="bottom",
            ypad=6,
            len=1.0,
            lenmode="fraction",
            thickness=10,
            title=title,
        )
        margin["t"] = int(margin.get("t", 80)) + PHONE_COLORBAR_PX
        if isinstance(layout.get("height"), (int, float)):  # the plot keeps its height
            layout["height"] = int(layout["height"]) + PHONE_COLORBAR_PX
    layout["margin"] = margin
    maps = [
        a for n, a in layout.items() if n.startswith("yaxis") and isinstance(a, dict) and a.get("scaleanchor")
    ]
    if len(maps) == 1 and isinstance(layout.get("height"), (int, float)):
        # One map: the legend's extra rows below it, and no height to spare above and below the
        # square plot (a taller figure would only add blank bands: the plot is as wide as the
        # screen lets it be).
        from viz._style import legend_rows

        labels = [
            str(t["name"])
            for t in spec.get("data", [])
            if t.get("name") and t.get("showlegend", True) is not False
        ]
        if labels and layout.get("showlegend", True) is not False:
            extra = legend_rows(labels, width_px=PHONE_LEGEND_PX) - legend_rows(labels)
            margin["b"] = int(margin.get("b", 80)) + 26 * max(extra, 0)
        tight = int(margin.get("t", 80)) + int(margin.get("b", 80)) + PHONE_MAP_PX
        layout["height"] = min(int(layout["height"]), tight)
    for name, axis in layout.items():
        if name.startswith("xaxis") and isinstance(axis, dict):
            axis.setdefault("automargin", True)  # the title below the tick labels, not on them
        # A map's y axis (equal units): whole-number ticks and no "y" beside them; the x axis
        # below still says which is which, and the hover names both.
        if name.startswith("yaxis") and isinstance(axis, dict) and axis.get("scaleanchor"):
            axis.pop("title", None)
            axis["ticklen"] = 3
            if "tickvals" not in axis:
                axis.setdefault("nticks", 6)
    return go.Figure(spec, _validate=False)


def side_panel(key: str) -> Any:
    """Where a page's settings go: the sidebar; on a phone a bordered box in the page itself
    (a phone hides the sidebar behind a button, the box is reached by scrolling)."""
    if is_phone():
        return st.container(border=True, key=key)
    return st.sidebar


def chart(fig: Any, **kwargs: Any) -> Any:
    """st.plotly_chart with the figure's own template (theme=None): what the page shows is what
    the downloads export, and the browser skips re-theming every figure on every rerun (~65 ms
    of a Paths redraw in Chromium). On a phone, the figure laid out for its narrow screen."""
    if is_phone():
        fig = phone_figure(fig)
    return st.plotly_chart(fig, theme=None, **kwargs)


def show_warnings(warnings: list[str], title: str = "Some values were not usable") -> None:
    """One warning box: the app's title, then each message escaped (never markup), at most
    MAX_WARNING_LINES of them and a count of the rest."""
    if warnings:
        st.warning(
            f"**{plain(title)}:**\n\n" + "\n".join(f"- {w}" for w in warning_lines(warnings)), icon="⚠️"
        )


WIDGET_BOUND_SUFFIX = ".tab"  # query keys that widgets keep themselves (bind="query-params")


def current_query() -> dict[str, str | list[str]]:
    """st.query_params as a plain dict (repeated keys as lists), without widget-bound keys."""
    out: dict[str, str | list[str]] = {}
    for key in st.query_params:
        if key.endswith(WIDGET_BOUND_SUFFIX):
            continue
        values = st.query_params.get_all(key)
        out[key] = values if len(values) > 1 or key == "o" else values[0]
    return out


def sync_query(query: Mapping[str, str | list[str]], state_key: str) -> None:
    """Write the page's state into the URL (skipped when nothing changed).

    Key by key, never through from_dict: keys bound to widgets (the open tab) may not be set
    by the script, and must survive.
    """
    if st.session_state.get(state_key) == dict(query):
        return
    current = current_query()
    for stale in [k for k in current if k not in query]:
        del st.query_params[stale]
    for k, value in query.items():
        if current.get(k) != value:
            st.query_params[k] = value
    st.session_state[state_key] = dict(query)
    history = st.session_state.setdefault(state_key + ".history", [])
    history.append(dict(query))
    del history[:-RECENT_URLS]


RECENT_URLS = 8  # written URLs that may still come back from a browser that lags behind


def url_changed(state_key: str) -> bool:
    """True on a page's first run in a session or when the URL was changed from outside.

    A rerun can carry a URL this page wrote a moment ago (the browser had not yet seen the
    newest one when the user moved the next control): that is not a change from outside.
    """
    query = current_query()
    if state_key not in st.session_state:
        return True
    return query != st.session_state[state_key] and query not in st.session_state.get(
        state_key + ".history", []
    )
