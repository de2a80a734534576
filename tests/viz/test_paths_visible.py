"""Every path and every end marker of every lesson shows in the exported Paths PNG.

A run counts as visible when taking it out of the picture changes what the reader sees: the
Paths figure is rendered (Kaleido, as the PNG download is) once whole and once with that one
trace hidden, and the pixels whose colour changes clearly are counted.

- A path must keep at least a fifth of its own pixels visible (its own pixels: what it adds
  to the map when it is the only path, its start and end markers drawn), and at least a few.
  A share, because a run that barely moves (Keras's Adam on a plateau) draws only a few pixels
  between its start and its end marker, while a long path that shows only at its ends is hidden.
- An end marker must show at least MIN_END_PIXELS pixels: two runs that end at the same point
  (or at the known minimum, whose star is drawn over them) both stay in sight.

The legend is hidden in every render: its swatch would always differ.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from playground.compute import PlaygroundRun, run_setup
from playground.exports import download_figures
from playground.lessons import LESSONS, LESSONS_BY_SLUG, lesson_query
from playground.setup import Setup, from_query
from viz import colors as C
from viz import contour as VC
from viz import export as E
from viz.colors import color_for

needs_browser = pytest.mark.skipif(not E.export_available(), reason="no Chromium for Kaleido on this machine")

WIDTH, HEIGHT = 900, 640  # the figure's own size, at scale 1 (the download is scale 2)
CHANGED = 60  # a pixel counts as changed when a channel moves by more than this (of 255)
MIN_SHARE = 0.2  # of a path's own pixels, visible with every other run drawn
MIN_PATH_PIXELS = 10
MIN_END_PIXELS = 30  # a 5 x 6 px patch (20 x 24 in a 4x larger export)


@pytest.fixture(scope="module")
def kaleido_session() -> Iterator[None]:
    yield
    E.close_export_session()


def lesson_run(slug: str) -> tuple[Setup, PlaygroundRun]:
    setup, warnings = from_query(lesson_query(LESSONS_BY_SLUG[slug]))
    assert not warnings
    return setup, run_setup(setup)


def paths_figure(setup: Setup, run: PlaygroundRun) -> go.Figure:
    colors = [color_for(i) for i in range(len(run.trajectories))]
    fig = download_figures(run, run.surface, dict(setup.surface_params), colors)["paths"]()
    fig.update_layout(showlegend=False)
    return fig


def render(fig: go.Figure) -> np.ndarray:
    png = E.to_png(fig, width=WIDTH, height=HEIGHT, scale=1)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def changed(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a - b).max(axis=2) > CHANGED).sum())


def without(fig: go.Figure, hide: Collection[str]) -> go.Figure:
    """A copy of `fig` with the traces named in `hide` hidden."""
    out = go.Figure(fig)
    for trace in out.data:
        trace.visible = str(trace.name) not in hide
    return out


def hidden_runs(setup: Setup, run: PlaygroundRun) -> dict[str, str]:
    """The paths and end markers of the lesson that do not show enough (name -> counts)."""
    fig = paths_figure(setup, run)
    names = [str(t.name) for t in fig.data]
    paths = [VC.display_label(t) for t in run.trajectories]
    ends = [f"{t.label} end" for t in run.trajectories]
    assert set(paths + ends) <= set(names), names
    full = render(fig)
    bare = render(without(fig, paths))
    hidden: dict[str, str] = {}
    for path in paths:
        visible = changed(full, render(without(fig, [path])))
        own = changed(bare, render(without(fig, [p for p in paths if p != path])))
        if visible < max(MIN_PATH_PIXELS, MIN_SHARE * own):
            hidden[path] = f"{visible} of its {own} pixels visible"
    for end in ends:
        visible = changed(full, render(without(fig, [end])))
        if visible < MIN_END_PIXELS:
            hidden[end] = f"{visible} pixels visible"
    return hidden


@needs_browser
@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_every_path_and_end_of_every_lesson_shows(kaleido_session: None, slug: str) -> None:
    setup, run = lesson_run(slug)
    assert hidden_runs(setup, run) == {}


@needs_browser
def test_the_check_catches_a_path_hidden_under_another(
    kaleido_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every path drawn alike (solid, one width, one end shape: the old styling), the
    Rosenbrock lesson's paths lie on each other along the valley floor and the check says so."""

    def alike(index: int) -> C.PathStyle:
        return C.PathStyle("solid", 2.2, "square", 11.0, "solid", "square")

    monkeypatch.setattr(VC, "path_style", alike)
    setup, run = lesson_run("rosenbrock")
    hidden = hidden_runs(setup, run)
    assert "SGD" in hidden, hidden  # under RMSprop along the whole valley floor
    assert "Momentum (heavy ball) end" in hidden, hidden  # under Adam's end and the star
