"""What a page offers for download, without the buttons: figure builders, file names, payloads.

The buttons live in app_pages/downloads.py; everything here is plain data so the CLI and the
tests can use it too. Figures and files are built only when asked for (callables).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import plotly.graph_objects as go

from playground import code_export as ce
from playground import writers
from playground.compute import PlaygroundRun
from playground.setup import CUSTOM, Setup, to_json
from surfaces import Surface
from viz import contour as vc
from viz import curves as vcurves
from viz import export as vx

IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
IMAGE_WRITERS: dict[str, Callable[[go.Figure], bytes]] = {
    "png": vx.to_png,
    "svg": vx.to_svg,
    "pdf": vx.to_pdf,
}

# Metrics columns as the table shows them (the row keys of Metrics.as_row -> heading).
METRIC_HEADINGS = {
    "label": "optimizer",
    "final_loss": "final loss",
    "final_distance": "distance to min",
    "steps_to_tol": "steps to tol",
    "path_length": "path length",
    "path_ratio": "path / displacement",
    "oscillation": "oscillation",
    "zigzag": "zig-zag",
    "diverged_at": "diverged at",
}
# printf-style number formats of the table's columns (by heading)
METRIC_FORMATS = {
    "final loss": "%.3e",
    "distance to min": "%.3g",
    "path length": "%.3g",
    "path / displacement": "%.2f",
    "oscillation": "%.2f",
    "zig-zag": "%.2f",
}
METRICS_CAPTION = (
    "**steps to tol**: first step with loss − f* ≤ 10⁻³. **path / displacement**: "
    "1 for a straight line, larger when the path wanders. **oscillation**: share of "
    "consecutive steps that turn by more than 90°. **zig-zag**: share of the path spent going "
    "back and forth across the valley."
)


def metrics_rows(result: PlaygroundRun) -> list[dict[str, object]]:
    return [m.as_row() for m in result.metrics]


def metrics_table_rows(result: PlaygroundRun) -> list[dict[str, object]]:
    """The metrics table's rows: shown columns only, under their headings."""
    return [
        {METRIC_HEADINGS.get(k, k): v for k, v in row.items() if k != "optimizer"}
        for row in metrics_rows(result)
    ]


def download_figures(
    result: PlaygroundRun, surface: Surface, surface_params: Mapping[str, float], colors: Sequence[str]
) -> dict[str, Callable[[], go.Figure]]:
    """The Playground's downloadable figures by file name, each built when called."""
    trajectories = list(result.trajectories)
    return {
        "paths": lambda: vc.contour_figure(
            surface, trajectories, surface_params, colors=colors, clickable=False
        ),
        "surface-3d": lambda: vc.surface3d_figure(surface, trajectories, surface_params, colors=colors),
        "loss": lambda: vcurves.loss_figure(trajectories, surface, surface_params, colors=colors),
        "distance": lambda: vcurves.distance_figure(surface, trajectories, colors=colors),
        "step-length": lambda: vcurves.step_length_figure(trajectories, colors=colors),
    }


def animation_payload(
    result: PlaygroundRun, surface: Surface, surface_params: Mapping[str, float], colors: Sequence[str]
) -> Callable[[], bytes]:
    trajectories = list(result.trajectories)
    return lambda: vx.animation_gif(surface, trajectories, surface_params=surface_params, colors=colors)


DataFile = tuple[str, str, str, Callable[[], str] | str, str]


MAX_STEM_CHARS = 60


def download_name(setup: Setup, name: str) -> str:
    """A downloaded file's name, after the setup it shows: `rosenbrock_sgd-adam_paths.png`.

    Built from the surface's and the optimizers' registry keys only (never a typed formula), so
    it is always a plain, short, safe file name; a folder of downloads from several setups stays
    readable.
    """
    surface = "custom" if setup.surface == CUSTOM else setup.surface
    names: list[str] = []
    for entry in setup.optimizers:
        if entry.name not in names:
            names.append(entry.name)
    stem = f"{surface}_{'-'.join(names)}" if names else surface
    stem = re.sub(r"[^a-z0-9_-]", "", stem.lower())[:MAX_STEM_CHARS].rstrip("-_")
    return f"{stem}_{name}"


def data_files(setup: Setup, result: PlaygroundRun) -> list[DataFile]:
    """(button label, file name, mime type, payload or payload builder, key suffix) of each data file."""
    trajectories = list(result.trajectories)
    return [
        ("paths CSV", "trajectories.csv", "text/csv", lambda: writers.trajectories_csv(trajectories), "tcsv"),
        (
            "paths JSON",
            "trajectories.json",
            "application/json",
            lambda: writers.trajectories_json(trajectories),
            "tjson",
        ),
        ("metrics CSV", "metrics.csv", "text/csv", lambda: writers.metrics_csv(metrics_rows(result)), "mcsv"),
        (
            "metrics JSON",
            "metrics.json",
            "application/json",
            lambda: writers.metrics_json(metrics_rows(result)),
            "mjson",
        ),
        ("setup JSON", "setup.json", "application/json", to_json(setup), "setup"),
    ]


# The script buttons' labels ("optax script", ...), by code_export framework.
SCRIPT_BUTTON_LABELS = {"optax": "optax", "pytorch": "PyTorch", "keras": "Keras 3"}


def script_files(setup: Setup) -> list[ce.ScriptDownload]:
    """The setup as an optax, a PyTorch and a Keras 3 script (text None: that one can't be made)."""
    return ce.script_downloads(setup)
