"""The live-scrub map: the Paths map plus one frame per value of one hyperparameter.

Plotly's own slider (drawn above the map) switches frames in the browser: the scrubbed
optimizer's path and end marker follow the thumb while it moves, with no server round trip.
The slider is named SCRUB_SLIDER_NAME so that the page's bridge can find it and report the
value where the thumb was released.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import plotly.graph_objects as go

from viz._data import MAX_PATH_POINTS
from viz._style import TEXT_COLOR, make_figure
from viz.colors import resolve_colors
from viz.contour import _group, _path_traces, contour_spec, display_label
from viz.raster import SurfaceRaster

if TYPE_CHECKING:
    from optim_core.trajectory import Trajectory
    from surfaces._base import Surface

SCRUB_SLIDER_NAME = "live-scrub"
SCRUB_PATH_POINTS = 300  # per frame: every frame ships with the map
SLIDER_BAND_PX = 86  # room above the plot for the slider and its current value


def frame_name(i: int) -> str:
    return f"v{i}"


def format_value(v: float) -> str:
    return f"{v:.3g}"


def live_scrub_figure(
    surface: Surface,
    trajectories: Sequence[Trajectory],
    scrub_trajectories: Sequence[Trajectory],
    values: Sequence[float],
    current: int,
    entry_index: int,
    value_label: str,
    surface_params: Mapping[str, float] | None = None,
    colors: Sequence[str] | None = None,
    background: tuple[SurfaceRaster, str] | None = None,
    frames_key: Hashable | None = None,
) -> go.Figure:
    """The Paths map with a slider over `values`: frame i redraws run `entry_index` as
    `scrub_trajectories[i]`. The map itself starts at frame `current` (the value in use).

    `value_label` is the slider's caption, e.g. "Adam α" (plain text, shown as "Adam α = 0.02").
    `frames_key` names the scrub runs (equal keys: equal runs): plotly validates every frame,
    which costs more than the rest of the figure, so validated frames are kept under that key
    and a rerun with the same scrub (the release of the thumb, a move of another optimizer's
    slider) reuses them.
    """
    if len(scrub_trajectories) != len(values) or not 0 <= current < len(values):
        raise ValueError("one scrub run per value, and the current value among them")
    colors_ = resolve_colors(len(trajectories), colors)
    data, layout = contour_spec(
        surface, trajectories, surface_params, colors=colors_, background=background, clickable=True
    )
    scrubbed = trajectories[entry_index]
    names = [t.get("name") for t in data]
    traces = [names.index(display_label(scrubbed))]
    if f"{scrubbed.label} end" in names:
        traces.append(names.index(f"{scrubbed.label} end"))
    color = colors_[entry_index]

    def build() -> tuple[go.Frame, ...]:
        redraws = path_redraws(scrub_trajectories, color, entry_index, surface.domain, SCRUB_PATH_POINTS)
        return tuple(
            go.Frame(dict(name=frame_name(i), data=frame_data[: len(traces)], traces=traces))
            for i, frame_data in enumerate(redraws)
        )

    if frames_key is None:
        frames = build()
    else:
        frames = _FRAMES.get_or_build((frames_key, tuple(traces), color, surface.domain), build)
    current_drawn = _path_traces(
        scrub_trajectories[current], color, _group(entry_index), surface.domain, SCRUB_PATH_POINTS
    )
    # The map opens at the value in use, drawn as that frame draws it.
    for index, trace in zip(traces, current_drawn, strict=False):
        data[index] = trace
    steps = [
        dict(
            method="animate",
            label=format_value(v),
            value=str(i),
            args=[
                [frame_name(i)],
                dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0)),
            ],
        )
        for i, v in enumerate(values)
    ]
    # The slider's caption takes the title's place (the sidebar names the surface).
    layout.pop("title", None)
    layout["margin"] = dict(layout.get("margin", {}), t=25 + SLIDER_BAND_PX)
    layout["height"] = int(layout.get("height", 640)) + SLIDER_BAND_PX
    layout["sliders"] = [
        dict(
            name=SCRUB_SLIDER_NAME,
            active=current,
            steps=steps,
            x=0.0,
            len=1.0,
            y=1.0,
            yanchor="bottom",
            pad=dict(t=0, b=34),
            # 40+ step labels would overlap: only the current value is written, above the rail.
            font=dict(color="rgba(0,0,0,0)", size=2),
            ticklen=4,
            minorticklen=2,
            currentvalue=dict(
                prefix=f"{value_label} = ", visible=True, xanchor="left", font=dict(size=15, color=TEXT_COLOR)
            ),
            transition=dict(duration=0),
        )
    ]
    fig = make_figure(data, layout)
    # Already validated (and immutable: nothing edits a figure's frames after this): assigning
    # `fig.frames` would validate them all again.
    fig._frame_objs = frames
    return fig


def path_redraws(
    trajectories: Sequence[Trajectory],
    color: str,
    entry_index: int,
    domain: tuple[tuple[float, float], tuple[float, float]],
    max_points: int = MAX_PATH_POINTS,
) -> list[list[dict[str, Any]]]:
    """For each run, what changes in run `entry_index`'s two traces on the map (its path, then
    its end marker; the traces of legend group `_group(entry_index)`, in that order) when the
    map draws that run instead: to merge into the drawn traces."""
    out = []
    for traj in trajectories:
        drawn = [_changing(t) for t in _path_traces(traj, color, _group(entry_index), domain, max_points)]
        while len(drawn) < 2:  # a run with no finite point: no end marker
            drawn.append(dict(type="scatter", x=[], y=[]))
        out.append(drawn)
    return out


def preview_json(
    values: Sequence[float],
    trajectories: Sequence[Trajectory],
    color: str,
    entry_index: int,
    domain: tuple[tuple[float, float], tuple[float, float]],
) -> bytes:
    """The map's redraws of run `entry_index` for each of `values` (a card slider's stops), as
    the JSON the page's bridge fetches: {"group", "values", "updates"}. Drawn exactly as the Paths
    map draws a path, so the rerun that follows a release shows the same picture."""
    if len(values) != len(trajectories):
        raise ValueError("one run per value")
    return orjson.dumps(
        {
            "group": _group(entry_index),
            "values": [float(v) for v in values],
            "updates": path_redraws(trajectories, color, entry_index, domain),
        }
    )


class _FrameCache:
    """The validated frames of the last few scrubs (least recently used dropped first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, tuple[go.Frame, ...]] = OrderedDict()
        self.lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], tuple[go.Frame, ...]]) -> tuple[go.Frame, ...]:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        frames = build()
        with self.lock:
            self.items[key] = frames
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return frames


_FRAMES = _FrameCache(8)

_CHANGING = ("type", "x", "y", "customdata", "name", "mode")


def _changing(trace: dict[str, Any]) -> dict[str, Any]:
    """What differs between two values' drawings of a path or end marker (a frame is merged
    into the drawn trace, so the rest stays as drawn): less to send and to validate."""
    out = {k: _typed(trace[k]) for k in _CHANGING if k in trace}
    if "symbol" in trace.get("marker", {}):
        out["marker"] = {k: trace["marker"][k] for k in ("symbol", "size")}
    return out


def _typed(value: Any) -> Any:
    """A NumPy array as plotly's typed-array JSON ({dtype, bdata[, shape]}), done once here:
    the serializer would otherwise inspect and convert every array of every frame on every
    rerun."""
    if not isinstance(value, np.ndarray):
        return value
    array = np.ascontiguousarray(value)
    spec = {"dtype": array.dtype.str.lstrip("<|="), "bdata": base64.b64encode(array.tobytes()).decode()}
    if array.ndim > 1:
        spec["shape"] = ",".join(map(str, array.shape))
    return spec


def scrub_label(optimizer_label: str, symbol: str) -> str:
    """The slider caption: the optimizer and the hyperparameter's symbol in plain text."""
    return f"{optimizer_label} {symbol}"
