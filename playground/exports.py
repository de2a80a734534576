"""The downloads of a page: figures (PNG/SVG/PDF/HTML), the animation (GIF), data and setup.

Files are generated only when their button is clicked (deferred data), so a rerun never pays
for an export nobody asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground.compute import PlaygroundRun
from playground.setup import Setup, to_json
from surfaces import Surface
from viz import contour as vc
from viz import curves as vcurves
from viz import export as vx

IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
IMAGE_WRITERS = {"png": vx.to_png, "svg": vx.to_svg, "pdf": vx.to_pdf}


def metrics_rows(result: PlaygroundRun) -> list[dict[str, object]]:
    return [m.as_row() for m in result.metrics]


def metrics_table(result: PlaygroundRun) -> None:
    frame = pd.DataFrame(metrics_rows(result)).drop(columns=["optimizer"])
    frame = frame.rename(columns={
        "label": "optimizer", "final_loss": "final loss", "final_distance": "distance to min",
        "steps_to_tol": "steps to tol", "path_length": "path length",
        "path_ratio": "path / displacement", "oscillation": "oscillation", "zigzag": "zig-zag",
        "diverged_at": "diverged at",
    })
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "final loss": st.column_config.NumberColumn(format="%.3e"),
        "distance to min": st.column_config.NumberColumn(format="%.3g"),
        "path length": st.column_config.NumberColumn(format="%.3g"),
        "path / displacement": st.column_config.NumberColumn(format="%.2f"),
        "oscillation": st.column_config.NumberColumn(format="%.2f"),
        "zig-zag": st.column_config.NumberColumn(format="%.2f"),
    })
    st.caption("**steps to tol**: first step with loss − f* ≤ 10⁻³. **path / displacement**: "
               "1 for a straight line, larger when the path wanders. **oscillation**: share of "
               "consecutive steps that turn by more than 90°. **zig-zag**: share of the path spent going "
               "back and forth across the valley.")


def figure_downloads(name: str, make_figure: Callable[[], go.Figure], key: str) -> None:
    """PNG, SVG, PDF and interactive HTML of one figure, each built on click."""
    available = vx.export_available()
    cols = st.columns(4)
    for col, (fmt, mime) in zip(cols, IMAGE_FORMATS.items()):
        col.download_button(fmt.upper(), data=lambda fmt=fmt: IMAGE_WRITERS[fmt](make_figure()),
                            file_name=f"{name}.{fmt}", mime=mime, key=f"{key}.{fmt}",
                            disabled=not available, on_click="ignore")
    cols[3].download_button("HTML", data=lambda: vx.to_html(make_figure()),
                            file_name=f"{name}.html", mime="text/html", key=f"{key}.html",
                            on_click="ignore")
    if not available:
        st.caption("PNG, SVG and PDF need Chromium, which was not found on the server "
                   "(`apt-get install chromium`); HTML and the data downloads still work.")


def download_section(setup: Setup, result: PlaygroundRun, surface: Surface,
                     surface_params: Mapping[str, float], colors: Sequence[str]) -> None:
    trajectories = list(result.trajectories)
    st.subheader("Download")
    figures: dict[str, Callable[[], go.Figure]] = {
        "paths": lambda: vc.contour_figure(surface, trajectories, surface_params, colors=colors,
                                           clickable=False),
        "surface-3d": lambda: vc.surface3d_figure(surface, trajectories, surface_params,
                                                  colors=colors),
        "loss": lambda: vcurves.loss_figure(trajectories, surface, surface_params, colors=colors),
        "distance": lambda: vcurves.distance_figure(surface, trajectories, colors=colors),
        "step-length": lambda: vcurves.step_length_figure(trajectories, colors=colors),
    }
    for name, make in figures.items():
        st.markdown(f"**{name}**")
        figure_downloads(name, make, key=f"dl.{name}")
    st.markdown("**animation and data**")
    cols = st.columns(6)
    cols[0].download_button(
        "GIF", data=lambda: vx.animation_gif(surface, trajectories, surface_params=surface_params,
                                             colors=colors),
        file_name="animation.gif", mime="image/gif", key="dl.gif",
        disabled=not vx.export_available(), on_click="ignore")
    cols[1].download_button("paths CSV", data=lambda: vx.trajectories_csv(trajectories),
                            file_name="trajectories.csv", mime="text/csv", key="dl.tcsv",
                            on_click="ignore")
    cols[2].download_button("paths JSON", data=lambda: vx.trajectories_json(trajectories),
                            file_name="trajectories.json", mime="application/json",
                            key="dl.tjson", on_click="ignore")
    cols[3].download_button("metrics CSV", data=lambda: vx.metrics_csv(metrics_rows(result)),
                            file_name="metrics.csv", mime="text/csv", key="dl.mcsv",
                            on_click="ignore")
    cols[4].download_button("metrics JSON", data=lambda: vx.metrics_json(metrics_rows(result)),
                            file_name="metrics.json", mime="application/json", key="dl.mjson",
                            on_click="ignore")
    cols[5].download_button("setup JSON", data=to_json(setup), file_name="setup.json",
                            mime="application/json", key="dl.setup", on_click="ignore")
