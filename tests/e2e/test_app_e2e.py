"""End to end in real headless Chromium: the app started as the README starts it.

Elements are found by stable things (widget labels, aria roles, data-testid, the Plotly graph
div's data), not by layout, because the pages' layout keeps changing. Screenshots for the
README are written to docs/screenshots/ on the way.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import pathlib
import re
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pytest
from PIL import Image

from optim_core import OPTIMIZERS
from surfaces import SURFACES

CHART = ".js-plotly-plot .main-svg"
IDLE_GRACE_S = 15.0  # charts draw a moment after the script ends; more on a busy machine
STATE = """chart => ({
    charts: document.querySelectorAll(chart).length,
    running: !!document.querySelector('[data-testid="stStatusWidget"]'),
    exceptions: Array.from(document.querySelectorAll('[data-testid="stException"]'))
        .map(e => e.innerText)})"""
EXCEPTION = '[data-testid="stException"]'
VISIBLE_CHARTS = f"""n => Array.from(document.querySelectorAll('{CHART}'))
    .filter(e => e.offsetParent !== null).length >= n"""
PATH_LABELS = sorted(spec.label for spec in OPTIMIZERS.values())


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture()
def page(tab: Any) -> Any:
    """This module's tests take turns in one shared tab (conftest's `tab`): each `goto` is
    still its own Streamlit session; the page loads without starting a new renderer."""
    return tab


def open_page(page: Any, url: str, charts: int = 1, timeout_s: float = 120.0) -> None:
    """Load a page and wait until its charts are drawn and the script has finished.

    Fails early (instead of at the timeout) when the page shows an exception, or when the
    script has been idle for a while without drawing the charts (e.g. a page still stubbed).
    """
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_s
    idle_since: float | None = None
    while True:
        state = page.evaluate(STATE, CHART)
        if state["exceptions"]:
            raise AssertionError(f"{url}: {state['exceptions'][0][:600]}")
        if state["charts"] >= charts and not state["running"]:
            break
        now = time.monotonic()
        idle_since = None if state["running"] else (idle_since or now)
        if idle_since is not None and now - idle_since > IDLE_GRACE_S:
            raise AssertionError(
                f"{url}: {state['charts']} charts drawn, {charts} expected "
                f"({IDLE_GRACE_S:.0f} s after the script finished)"
            )
        if now > deadline:
            raise AssertionError(f"{url}: no {charts} charts within {timeout_s:.0f} s")
        page.wait_for_timeout(200)
    wait_idle(page)


def wait_idle(page: Any) -> None:
    """Streamlit shows its status widget while a script runs; wait until it is gone."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000
    )


def assert_no_exception(page: Any) -> None:
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.all_inner_texts()[:1]


def decode(values: Any) -> np.ndarray:
    """Plotly's JSON arrays: plain lists, or typed arrays {'dtype', 'bdata'}."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values if values is not None else [], dtype=float)


READ_FIGURES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd =>
    (gd.data || []).map(t => ({name: t.name === undefined ? null : String(t.name),
                               type: t.type || 'scatter', x: t.x || null, y: t.y || null})))"""


def contour_paths(page: Any) -> dict[str, np.ndarray]:
    """Optimizer paths on the first contour map: legend name -> (n, 2) points."""
    for fig in page.evaluate(READ_FIGURES):
        if any(t["type"] == "contour" or t["name"] in ("click-grid", "click-layer") for t in fig):
            return {
                t["name"]: np.column_stack([decode(t["x"]), decode(t["y"])])
                for t in fig
                if t["type"] == "scatter" and t["name"] and t["name"].split(" #")[0] in PATH_LABELS
            }
    raise AssertionError("no contour map on the page")


def js_signature(page: Any) -> str:
    """Everything the charts hold, as one string (to wait for a change)."""
    return page.evaluate(f"() => JSON.stringify(({READ_FIGURES})())")


def wait_for_change(page: Any, before: str) -> None:
    page.wait_for_function(
        f"before => JSON.stringify(({READ_FIGURES})()) !== before", arg=before, timeout=60_000
    )


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def shoot(page: Any, directory: pathlib.Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"))


def slider(page: Any, label: str) -> Any:
    return page.get_by_role("slider", name=label)


def slider_value(page: Any, label: str) -> float:
    """The value a slider shows (its thumb's aria-valuetext)."""
    return float(slider(page, label).get_attribute("aria-valuetext"))


def wait_for_url_value(page: Any, key: str, value: str) -> None:
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value], timeout=60_000
    )


def step_slider(page: Any, label: str, key: str, presses: int, fmt: str = "{:g}") -> None:
    """Move a slider with the arrow keys on its focused thumb, one step per rerun.

    After each press we wait for the page to write the new value into the URL, so every step
    is one rerun (the quick-presses case has its own test)."""
    thumb = slider(page, label)
    for _ in range(abs(presses)):
        thumb.focus()
        thumb.press("ArrowRight" if presses > 0 else "ArrowLeft")
        value = float(thumb.get_attribute("aria-valuetext"))
        wait_for_url_value(page, key, fmt.format(value))
        wait_idle(page)


def number_input_value(page: Any, label: str) -> float:
    return float(page.get_by_label(label, exact=True).input_value())


# --- every page renders --------------------------------------------------------------------------

PAGES = [
    ("home", "", 1),
    ("playground", "playground", 1),
    ("compare", "compare", 1),
    ("adam", "adam", 1),
    ("mnist", "mnist", 1),
]


@pytest.mark.parametrize(("name", "path", "charts"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_its_charts(
    page: Any, base_url: str, screenshots_dir: pathlib.Path, name: str, path: str, charts: int
) -> None:
    open_page(page, f"{base_url}/{path}", charts)
    assert_no_exception(page)
    assert page.locator(CHART).count() >= charts
    # Charts have real content: a drawn plot area, not an empty frame.
    drawn = page.locator(".js-plotly-plot .plot, .js-plotly-plot .gl-container").count()
    assert drawn >= 1
    shoot(page, screenshots_dir, name)


def test_lessons_page_opens_a_lesson_in_the_playground(
    page: Any, base_url: str, screenshots_dir: pathlib.Path
) -> None:
    open_page(page, f"{base_url}/lessons", charts=0)
    questions = page.get_by_role("radiogroup", name="Your prediction")
    questions.first.wait_for()
    wait_idle(page)
    assert_no_exception(page)
    assert questions.count() >= 6  # every lesson asks first
    links = page.get_by_role("link", name=re.compile("Open this lesson"))
    assert links.count() == 0  # nothing runs before an answer
    questions.first.get_by_role("radio").first.check(force=True)  # predict, then see
    links.first.wait_for(timeout=120_000)
    wait_idle(page)
    assert_no_exception(page)
    shoot(page, screenshots_dir, "lessons")
    links.first.click()
    page.wait_for_url(re.compile(r"/playground\?"))
    page.wait_for_selector(CHART, timeout=90_000)
    wait_idle(page)
    assert_no_exception(page)
    assert query(page).get("lesson"), page.url
    assert page.get_by_text("Lesson:").count() >= 1


# --- the Playground -------------------------------------------------------------------------------


def test_moving_the_steps_slider_changes_the_paths(page: Any, base_url: str) -> None:
    open_page(page, f"{base_url}/playground")
    before = contour_paths(page)
    signature = js_signature(page)
    assert slider_value(page, "Steps") == 500
    step_slider(page, "Steps", "steps", -5)  # 500 -> 450 in steps of 10
    wait_for_change(page, signature)
    wait_idle(page)
    assert_no_exception(page)
    after = contour_paths(page)
    assert set(after) == set(before)
    assert slider_value(page, "Steps") == 450
    for name in before:
        assert len(after[name]) < len(before[name]), name
        np.testing.assert_allclose(after[name][0], before[name][0])  # same start


def test_moving_the_noise_slider_changes_every_path(page: Any, base_url: str) -> None:
    open_page(page, f"{base_url}/playground")
    before = contour_paths(page)
    signature = js_signature(page)
    # Five quick presses, as when a user holds the arrow key: the reruns overlap, and the
    # page must end on the last value (a lagging URL must not undo the later presses).
    thumb = slider(page, "Gradient noise σ")
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowRight")
    wait_for_url_value(page, "noise", "0.05")
    wait_for_change(page, signature)
    page.wait_for_timeout(1500)  # any late rerun would land now
    wait_idle(page)
    assert query(page)["noise"] == ["0.05"]
    wait_idle(page)
    assert_no_exception(page)
    after = contour_paths(page)
    changed = [
        n
        for n in before
        if before[n].shape != after[n].shape or not np.allclose(before[n], after[n], equal_nan=True)
    ]
    assert changed == sorted(before, key=list(before).index)
    assert slider_value(page, "Gradient noise σ") == pytest.approx(0.05)


def test_clicking_the_map_moves_the_start(page: Any, base_url: str, screenshots_dir: pathlib.Path) -> None:
    open_page(page, f"{base_url}/playground")
    shoot(page, screenshots_dir, "playground-paths")
    x_before = number_input_value(page, "start x")
    # The plot area of the contour map, and its axes' data ranges.
    area = page.evaluate("""() => {
        const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
            .find(g => (g.data || []).some(t => t.name === 'click-layer'));
        gd.scrollIntoView();
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        const grid = gd._fullData.find(t => t.name === 'click-layer');
        return {x: box.x, y: box.y, w: box.width, h: box.height,
                xr: gd._fullLayout.xaxis.range, yr: gd._fullLayout.yaxis.range,
                gx: Array.from(grid.x), gy: Array.from(grid.y)};
    }""")
    fx, fy = 0.3, 0.7  # away from the default start and from the paths' ends
    (x0, x1), (y0, y1) = area["xr"], area["yr"]
    target = (x0 + fx * (x1 - x0), y1 - fy * (y1 - y0))
    signature = js_signature(page)
    page.mouse.click(area["x"] + fx * area["w"], area["y"] + fy * area["h"])
    page.wait_for_function("() => new URLSearchParams(location.search).has('x0')", timeout=60_000)
    wait_for_change(page, signature)
    wait_idle(page)
    assert_no_exception(page)
    # The new start is the click grid point nearest the click.
    spacing_x = np.min(np.diff(np.unique(area["gx"])))
    spacing_y = np.min(np.diff(np.unique(area["gy"])))
    new = (number_input_value(page, "start x"), number_input_value(page, "start y"))
    assert new[0] != x_before
    assert abs(new[0] - target[0]) <= spacing_x and abs(new[1] - target[1]) <= spacing_y, (new, target)
    q = query(page)
    assert float(q["x0"][0]) == pytest.approx(new[0], abs=1e-3)
    assert float(q["y0"][0]) == pytest.approx(new[1], abs=1e-3)
    for name, path in contour_paths(page).items():
        np.testing.assert_allclose(path[0], new, atol=1e-3, err_msg=name)


SHARED = {
    "s": "ravine",
    "sp.condition": "30",
    "steps": "200",
    "x0": "-2",
    "y0": "1.5",
    "noise": "0.1",
    "o": ["sgd(learning_rate=0.01)", "adam(b1=0.5)@keras"],
}


def test_share_link_restores_the_setup(page: Any, base_url: str) -> None:
    open_page(page, f"{base_url}/playground?{urlencode(SHARED, doseq=True)}")
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlertContentWarning"]').count() == 0
    assert slider_value(page, "Steps") == 200
    assert slider_value(page, "Gradient noise σ") == pytest.approx(0.1)
    assert number_input_value(page, "start x") == -2.0
    assert number_input_value(page, "start y") == 1.5
    assert page.get_by_role("combobox", name="Loss surface").input_value() == SURFACES["ravine"].label
    found = contour_paths(page)
    assert set(found) == {"SGD", "Adam"}
    for path in found.values():
        np.testing.assert_allclose(path[0], (-2.0, 1.5), atol=1e-4)
    q = query(page)  # the page keeps the link as it was given
    for key in ("s", "steps", "x0", "y0", "o"):
        assert q[key] == (SHARED[key] if isinstance(SHARED[key], list) else [SHARED[key]]), key


def test_tabs_render_their_charts(page: Any, base_url: str, screenshots_dir: pathlib.Path) -> None:
    open_page(page, f"{base_url}/playground")
    for tab, name, charts in (
        ("Animation", "playground-animation", 1),
        ("3D view", "playground-3d", 1),
        ("Curves", "playground-curves", 3),
        ("Internals", "playground-internals", 3),
    ):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_function(VISIBLE_CHARTS, arg=charts, timeout=90_000)
        wait_idle(page)
        assert_no_exception(page)
        page.wait_for_timeout(500)  # let WebGL (3D) paint before the screenshot
        shoot(page, screenshots_dir, name)


def test_changing_a_control_with_another_tab_open(page: Any, base_url: str) -> None:
    open_page(page, f"{base_url}/playground")
    page.get_by_role("tab", name="Curves").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('pg.tab')")
    wait_idle(page)
    signature = js_signature(page)
    slider(page, "Steps").press("ArrowLeft")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('steps') === '490'"
        " || document.querySelector('[data-testid=\"stException\"]')"
    )
    wait_idle(page)
    assert_no_exception(page)
    assert js_signature(page) != signature


# --- downloads ---------------------------------------------------------------------------------------


class _HTMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def check_file(name: str, data: bytes) -> str:
    """Validate a downloaded file by its extension; returns the kind checked."""
    kind = name.rsplit(".", 1)[-1].lower()
    assert data, f"{name} is empty"
    if kind == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        with Image.open(io.BytesIO(data)) as image:
            assert image.width >= 200 and image.height >= 200, (name, image.size)
    elif kind == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg"), (name, root.tag)
    elif kind == "pdf":
        assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:], name
    elif kind == "html":
        parser = _HTMLCheck()
        parser.feed(data.decode("utf-8"))
        assert {"html", "script"} <= parser.tags and b"plotly" in data.lower(), name
    elif kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        assert len(rows) >= 2 and len(rows[0]) >= 2, name
        assert all(len(r) == len(rows[0]) for r in rows), f"{name}: ragged rows"
    elif kind == "json":
        assert json.loads(data), name
    elif kind == "py":  # the setup exported as an optax / PyTorch / Keras 3 script
        compile(data.decode("utf-8"), name, "exec")
    elif kind == "gif":
        assert data[:6] in (b"GIF87a", b"GIF89a"), name
        with Image.open(io.BytesIO(data)) as image:
            assert getattr(image, "n_frames", 1) >= 5, (name, getattr(image, "n_frames", 1))
    else:
        raise AssertionError(f"unexpected download {name}")
    return kind


def test_every_download_returns_a_valid_file(page: Any, base_url: str, screenshots_dir: pathlib.Path) -> None:
    open_page(page, f"{base_url}/playground?{urlencode({'steps': '200'})}")
    page.get_by_role("tab", name="Metrics & export").click()
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    buttons.first.wait_for(timeout=60_000)
    wait_idle(page)
    shoot(page, screenshots_dir, "playground-export")
    count = buttons.count()
    assert count >= 15, f"only {count} download buttons"
    kinds: dict[str, int] = {}
    names: list[str] = []
    for i in range(count):
        button = buttons.nth(i)
        assert button.is_enabled(), f"download {button.inner_text()!r} is disabled"
        with page.expect_download(timeout=180_000) as info:
            button.click()
        download = info.value
        assert download.failure() is None, (download.suggested_filename, download.failure())
        data = pathlib.Path(download.path()).read_bytes()
        kind = check_file(download.suggested_filename, data)
        kinds[kind] = kinds.get(kind, 0) + 1
        names.append(download.suggested_filename)
    assert_no_exception(page)
    assert {"png", "svg", "pdf", "html", "csv", "json", "gif", "py"} <= set(kinds), kinds
    assert kinds["py"] == 3, kinds
    assert len(set(names)) == len(names), f"duplicate file names: {names}"
    # Every file is named after the setup it shows (surface, optimizers, then what it is).
    stem = "rosenbrock_sgd-momentum-rmsprop-adam_"
    assert stem + "setup.json" in names and stem + "paths.png" in names, names
    assert all(n.startswith(stem) or n.startswith("playground_rosenbrock_") for n in names), names


# --- the app's start -------------------------------------------------------------------------------------


def test_deep_link_as_first_request_uses_the_app_navigation(
    page: Any, tmp_path: pathlib.Path, app_starter: Any
) -> None:
    """A fresh server whose first visitor opens a shared Playground link."""
    server = app_starter(tmp_path / "fresh.log")
    try:
        open_page(page, f"{server.url}/playground?{urlencode(SHARED, doseq=True)}")
        assert_no_exception(page)
        nav = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        assert any("Home" in t for t in nav), nav
        assert page.title() == "Playground" or "Optimizer Playground" in page.title(), page.title()
    finally:
        server.stop()


@pytest.mark.parametrize("viewport", [(1440, 1000), (1280, 800)])
def test_the_map_stays_in_view_while_the_last_cards_slider_is_moved(
    page: Any, base_url: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, f"{base_url}/playground")
    page.get_by_role("button", name="Edit").last.click()  # Adam's card, the last one
    # Adam's own (another card's α slider may still be on the page while the rerun replaces it)
    alpha = page.get_by_role("slider", name="Adam learning rate α")
    alpha.wait_for()
    wait_idle(page)
    alpha.scroll_into_view_if_needed()
    page.wait_for_function(
        """() => { const gd = document.querySelector('.js-plotly-plot');
                   const r = gd.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight / 2; }""",
        timeout=10_000,
    )
    chart = page.locator(".js-plotly-plot").first.bounding_box()
    slider = alpha.bounding_box()
    assert chart is not None and slider is not None
    assert 0 <= slider["y"] <= height and 0 <= chart["y"] and chart["y"] + chart["height"] / 2 <= height
    # The log slider is as wide as the linear β1 slider of the same card.
    beta1 = page.get_by_role("slider", name="b1 β₁").bounding_box()
    track = lambda s: s.locator("xpath=..").bounding_box()["width"]  # noqa: E731
    assert beta1 is not None and track(alpha) >= 0.9 * track(page.get_by_role("slider", name="b1 β₁"))
