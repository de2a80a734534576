"""Download buttons: figures (PNG/SVG/PDF/HTML), the animation (GIF), data and setup.

Files are generated only when their button is clicked (deferred data), so a rerun never pays
for an export nobody asked for. What is offered is decided in playground.exports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground import exports
from playground.compute import PlaygroundRun
from playground.safe_text import plain
from playground.setup import Setup
from surfaces import Surface
from viz import export as vx

# The metrics table's container: app_pages.style.TEXT_FIT_CSS fits the table to its column.
METRICS_TABLE_KEY = "pg-metrics"


def metrics_table(result: PlaygroundRun) -> None:
    """The metrics as an HTML table: its headings wrap, so every column shows whole in the
    figure column (a data grid scrolled the last columns out of sight)."""
    frame = pd.DataFrame(exports.metrics_table_rows(result))
    formats: dict[Any, str | Callable[[object], str] | None] = {
        heading: _printf(fmt) for heading, fmt in exports.METRIC_FORMATS.items() if heading in frame.columns
    }
    with st.container(key=METRICS_TABLE_KEY):
        st.table(frame.style.format(formats, na_rep="—"), hide_index=True)
    st.caption(exports.METRICS_CAPTION + " **—**: did not happen in this run.")


def _printf(fmt: str) -> Callable[[object], str]:
    """A cell formatter from a printf-style format ("%.3g")."""
    return lambda value: fmt % value


def _rendered(fmt: str, make_figure: Callable[[], go.Figure]) -> Callable[[], bytes]:
    """The bytes of the figure in `fmt`, rendered when the button is clicked."""
    return lambda: exports.IMAGE_WRITERS[fmt](make_figure())


def figure_downloads(name: str, make_figure: Callable[[], go.Figure], key: str) -> None:
    """PNG, SVG, PDF and interactive HTML of one figure, each built on click."""
    available = vx.export_available()
    cols = st.columns(4)
    for col, (fmt, mime) in zip(cols, exports.IMAGE_FORMATS.items()):
        col.download_button(
            fmt.upper(),
            data=_rendered(fmt, make_figure),
            file_name=f"{name}.{fmt}",
            mime=mime,
            key=f"{key}.{fmt}",
            disabled=not available,
            on_click="ignore",
        )
    cols[3].download_button(
        "HTML",
        data=lambda: vx.to_html(make_figure()),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"{key}.html",
        on_click="ignore",
    )
    if not available:
        st.caption(
            "PNG, SVG and PDF need Chromium, which was not found on the server "
            "(`apt-get install chromium`); HTML and the data downloads still work."
        )


def download_section(
    setup: Setup,
    result: PlaygroundRun,
    surface: Surface,
    surface_params: Mapping[str, float],
    colors: Sequence[str],
) -> None:
    st.subheader("Download")
    for name, make in exports.download_figures(result, surface, surface_params, colors).items():
        st.markdown(f"**{name}**")
        figure_downloads(exports.download_name(setup, name), make, key=f"dl.{name}")
    st.markdown("**animation and data**")
    cols = st.columns(6)
    cols[0].download_button(
        "GIF",
        data=exports.animation_payload(result, surface, surface_params, colors),
        file_name=exports.download_name(setup, "animation.gif"),
        mime="image/gif",
        key="dl.gif",
        disabled=not vx.export_available(),
        on_click="ignore",
    )
    for col, (label, file_name, mime, data, suffix) in zip(cols[1:], exports.data_files(setup, result)):
        col.download_button(
            label,
            data=data,
            file_name=exports.download_name(setup, file_name),
            mime=mime,
            key=f"dl.{suffix}",
            on_click="ignore",
        )
    script_downloads(setup)


def script_downloads(setup: Setup) -> None:
    """The setup as a runnable optax, PyTorch and Keras 3 script; what a script leaves out is said."""
    st.markdown("**export as code**")
    scripts = exports.script_files(setup)
    cols = st.columns(len(scripts))
    for col, script in zip(cols, scripts):
        text = script.text
        col.download_button(
            f"{exports.SCRIPT_BUTTON_LABELS[script.framework]} script",
            data="" if text is None else text,
            file_name=script.filename,
            mime="text/x-python",
            key=f"dl.script.{script.framework}",
            disabled=text is None,
            on_click="ignore",
        )
        if not script.complete and script.note:
            col.caption(plain(script.note))
