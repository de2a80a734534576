"""Exports: image files through one shared Kaleido browser, GIF, HTML, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from playground import writers as W
from viz import export as E
from viz import figures as F
from viz.colors import MINIMUM_COLOR, MINIMUM_FILL_ALPHA, SURFACE_COLORSCALE, color_for

needs_browser = pytest.mark.skipif(not E.export_available(), reason="no Chromium for Kaleido on this machine")


@pytest.fixture(scope="module")
def kaleido_session():
    """All image tests share one browser; it is closed when this module is done."""
    yield
    E.close_export_session()


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


# --- images -----------------------------------------------------------------------------------


@needs_browser
def test_png_svg_pdf_magic_bytes_and_size(kaleido_session, four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs)
    png = E.to_png(fig, width=500, height=400, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == (500, 400)
    assert Image.open(io.BytesIO(E.to_png(fig, width=300, height=200, scale=2))).size == (600, 400)
    svg = E.to_svg(fig, width=500, height=400)
    assert svg.lstrip().startswith(b"<svg") and b"</svg>" in svg[-200:]
    assert b"click-grid" not in svg
    pdf = E.to_pdf(fig, width=500, height=400)
    assert pdf[:5] == b"%PDF-" and b"%%EOF" in pdf[-64:]


@needs_browser
def test_the_browser_is_reused(kaleido_session, four_runs):
    E.to_png(F.loss_figure(four_runs), width=300, height=200, scale=1)
    first = E._SESSION._kaleido
    E.to_png(F.step_length_figure(four_runs), width=300, height=200, scale=1)
    assert first is not None and E._SESSION._kaleido is first


@needs_browser
def test_gif_has_frames_and_exact_pixel_mapping(kaleido_session, four_runs, rosenbrock):
    gif = E.animation_gif(rosenbrock, four_runs, frames=12, width=480)
    assert gif[:6] in (b"GIF87a", b"GIF89a")
    im = Image.open(io.BytesIO(gif))
    assert im.n_frames == 12
    assert im.info.get("loop") == 0
    _, margin, plot_w, plot_h = E.gif_background(rosenbrock, four_runs, width=480)
    (x0, x1), (y0, y1) = rosenbrock.domain

    def pixel(frame: int, x: float, y: float) -> np.ndarray:
        im.seek(frame)
        px = margin["l"] + (x - x0) / (x1 - x0) * plot_w
        py = margin["t"] + (y1 - y) / (y1 - y0) * plot_h
        return np.array(im.convert("RGB").getpixel((int(round(px)), int(round(py)))), float)

    # Kaleido drew the minimum's star where the data -> pixel mapping says it is (its fill is
    # half-transparent gold over the surface's lowest-loss colour)...
    star = MINIMUM_FILL_ALPHA * rgb(MINIMUM_COLOR) + (1 - MINIMUM_FILL_ALPHA) * rgb(SURFACE_COLORSCALE[0][1])
    assert np.abs(pixel(0, 1.0, 1.0) - star).max() < 40
    # ...and Pillow drew Adam's head where Adam ended, in Adam's colour.
    adam = four_runs[2]
    end = adam.path[-1]
    assert np.abs(pixel(11, end[0], end[1]) - rgb(color_for(2))).max() < 40
    # the first frame is before anyone moved: no Adam there yet
    assert np.abs(pixel(0, end[0], end[1]) - rgb(color_for(2))).max() > 40


# --- browser missing --------------------------------------------------------------------------


def test_export_unavailable_without_browser(monkeypatch, tmp_path, four_runs, rosenbrock):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert not E.export_available()
    reason = E.export_unavailable_reason()
    assert "Chromium" in reason and "HTML, CSV and JSON" in reason
    fig = F.loss_figure(four_runs)
    for export in (E.to_png, E.to_svg, E.to_pdf):
        with pytest.raises(E.ExportUnavailable, match="Chromium"):
            export(fig)
    with pytest.raises(E.ExportUnavailable):
        E.animation_gif(rosenbrock, four_runs, frames=3)
    assert issubclass(E.ExportUnavailable, RuntimeError)
    # what needs no browser still works
    assert "<html" in E.to_html(fig, include_plotlyjs="cdn")
    monkeypatch.delenv("BROWSER_PATH")
    assert E.export_available() == (E.browser_path() is not None)


# --- HTML -------------------------------------------------------------------------------------


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_html_is_self_contained_and_holds_the_plot(four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs)
    page = E.to_html(fig)
    parser = _Collect()
    parser.feed(page)
    assert {"html", "body", "div", "script"} <= set(parser.tags)
    assert len(page) > 3_000_000  # plotly.js inline: opens offline
    assert 'src="https://cdn' not in page
    assert any("Plotly.newPlot" in s for s in parser.scripts)
    # The label, with α as written or JSON-escaped (plotly's json and orjson engines differ).
    assert ("Adam (\\u03b1=0.05)" in page or "Adam (α=0.05)" in page) and "click-grid" not in page
    small = E.to_html(fig, include_plotlyjs="cdn")
    assert len(small) < 400_000 and re.search(r"<script[^>]+src=\"https://cdn", small)


def test_html_keeps_the_animation(four_runs, rosenbrock):
    page = E.to_html(F.animated_contour_figure(rosenbrock, four_runs), include_plotlyjs="cdn")
    assert '"frames"' in page or "addFrames" in page


# --- CSV / JSON -------------------------------------------------------------------------------


def test_trajectories_csv(four_runs):
    text = W.trajectories_csv(four_runs)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(t.steps + 1 for t in four_runs)
    first = rows[0]
    assert first["optimizer"] == "sgd" and first["step"] == "0"
    assert float(first["x"]) == four_runs[0].path[0, 0]
    assert float(first["grad_x"]) == pytest.approx(four_runs[0].grads[0, 0])
    assert first["m_x"] == ""  # SGD keeps no moment: empty, not "nan"
    adam_rows = [r for r in rows if r["optimizer"] == "adam"]
    assert float(adam_rows[3]["v_hat_y"]) == pytest.approx(four_runs[2].internals["v_hat"][3, 1])
    assert adam_rows[-1]["grad_x"] == "" and adam_rows[-1]["x"] != ""  # last row: no next step
    diverged = [r for r in rows if r["label"] == four_runs[3].label]
    k = four_runs[3].diverged_at
    assert diverged[k - 1]["x"] != "" and diverged[k]["x"] == "" and diverged[k]["loss"] == ""
    assert "nan" not in text.lower().replace("label", "")


def test_trajectories_json_is_valid_with_null_for_nan(four_runs):
    text = W.trajectories_json(four_runs)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert len(data["rows"]) == sum(t.steps + 1 for t in four_runs)
    assert [r["diverged_at"] for r in data["runs"]] == [None, None, None, four_runs[3].diverged_at]
    assert data["runs"][2]["hparams"] == {"learning_rate": 0.05}
    row = data["rows"][5]
    assert set(data["columns"]) == set(row)
    assert row["x"] == pytest.approx(four_runs[0].path[5, 0]) and row["m_x"] is None
    last_diverged = [r for r in data["rows"] if r["label"] == four_runs[3].label][-1]
    assert last_diverged["x"] is None and last_diverged["loss"] is None
    # float32 data keeps its short text
    f32_run = type(four_runs[0])(**{**four_runs[0].__dict__, "path": four_runs[0].path.astype(np.float32)})
    assert '"x": -1.5' in W.trajectories_json([f32_run])
    assert json.loads(W.trajectories_json([], indent=2))["rows"] == []


def test_metrics_csv_and_json():
    rows = [
        {"optimizer": "Adam", "final_loss": np.float32(0.125), "steps_to_tol": 42, "diverged_at": None},
        {
            "optimizer": "SGD",
            "final_loss": float("nan"),
            "steps_to_tol": np.int64(7),
            "diverged_at": 37,
            "note": "try a smaller α",
        },
        {"optimizer": "Momentum", "final_loss": math.inf},
    ]
    table = list(csv.reader(io.StringIO(W.metrics_csv(rows))))
    assert table[0] == ["optimizer", "final_loss", "steps_to_tol", "diverged_at", "note"]
    assert table[1] == ["Adam", "0.125", "42", "", ""]
    assert table[2] == ["SGD", "", "7", "37", "try a smaller α"]
    assert table[3][1] == ""
    text = W.metrics_json(rows)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data[0]["final_loss"] == 0.125 and data[1]["final_loss"] is None
    assert data[1]["steps_to_tol"] == 7 and data[2]["final_loss"] is None
