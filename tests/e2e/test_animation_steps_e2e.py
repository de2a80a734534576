"""The animations' step buttons and the animated 3D view, in real headless Chromium (issue 11).

A small page (anim_steps_app.py) shows the Rosenbrock lesson's 2D animation and animated 3D
view, each under its step buttons (app_pages.anim_controls), and counts its own script runs:
a step must move the chart one frame in the browser and never rerun the script. Nothing is
timed: each check waits for a condition.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, free_port

APP = pathlib.Path(__file__).with_name("anim_steps_app.py")
SLIDER = "animation-steps"  # viz.contour.ANIMATION_SLIDER_NAME

# The animated chart of a kind ("2d" or "3d"), found by its step slider.
FIND = """(kind) => Array.from(document.querySelectorAll('.js-plotly-plot')).find(gd =>
    ((gd.layout && gd.layout.sliders) || []).some(s => s.name === 'animation-steps')
    && (gd.data || []).some(t => t.type === 'scatter3d') === (kind === '3d'))"""

# What the chart shows now: the slider's position, and the heads' x (the "position now" trace).
STATE = f"""(kind) => {{
    const gd = ({FIND})(kind);
    if (!gd || !gd._fullLayout || !gd._fullLayout.sliders) return null;
    const heads = gd._fullData.find(t => t.name === 'position now');
    const surface = kind === '3d'
        ? gd._fullData.filter(t => t.type === 'surface').length
        : gd.querySelectorAll('.imagelayer image').length;
    return {{
        active: gd._fullLayout.sliders[0].active,
        label: Array.from(gd.querySelectorAll('text'), t => t.textContent).find(t => /^step /.test(t)) || '',
        heads: heads ? Array.from(heads.x, Number) : null,
        surface,
    }};
}}"""


@pytest.fixture(scope="module")
def anim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """anim_steps_app.py served by Streamlit (port: E2E_PORT if set, else a free one)."""
    port = int(os.environ.get("E2E_PORT") or free_port())
    log = open(tmp_path_factory.mktemp("anim") / "streamlit.log", "wb")  # noqa: SIM115
    python = ROOT / ".venv" / "bin" / "python"
    cmd = [
        str(python if python.exists() else sys.executable),
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "the test page's server exited"
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the test page's server did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def state(page: Any, kind: str) -> dict[str, Any]:
    return page.evaluate(STATE, kind)


def runs(page: Any) -> str:
    return page.get_by_text("script runs:").inner_text()


def click_until(page: Any, kind: str, label: str, active: int) -> dict[str, Any]:
    page.get_by_role("button", name=label).locator("visible=true").click()
    page.wait_for_function(f"(kind) => (({STATE})(kind) || {{}}).active === {active}", arg=kind)
    return state(page, kind)


def test_step_buttons_move_one_frame_without_a_rerun(browser: Any, anim_url: str) -> None:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(anim_url)
        page.wait_for_function(f"() => !!(({FIND})('2d') || {{}})._fullLayout")
        before = runs(page)
        start = state(page, "2d")
        assert start["active"] == 0 and start["surface"] > 0
        one = click_until(page, "2d", "One step forward", 1)
        two = click_until(page, "2d", "One step forward", 2)
        assert one["heads"] != start["heads"] and two["heads"] != one["heads"]
        back = click_until(page, "2d", "One step back", 1)
        assert back["heads"] == one["heads"]
        assert back["label"].strip().startswith("step") and back["label"] != start["label"]
        assert back["surface"] > 0  # the surface stays while stepping
        # Back at the first frame a step back stays there.
        click_until(page, "2d", "One step back", 0)
        assert click_until(page, "2d", "One step back", 0)["heads"] == start["heads"]

        # The 3D view plays the same animation and steps the same way.
        page.get_by_role("tab", name="3D view").click()
        page.wait_for_function(f"() => !!(({FIND})('3d') || {{}})._fullLayout")
        first = state(page, "3d")
        assert first["active"] == 0 and first["surface"] == 1
        moved = click_until(page, "3d", "One step forward", 1)
        assert moved["heads"] != first["heads"] and moved["surface"] == 1
        assert runs(page) == before, "a step button reran the script"
    finally:
        page.context.close()
