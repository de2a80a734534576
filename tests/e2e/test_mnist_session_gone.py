"""Nothing outlives its visitor: closing the tabs that train ends their training within seconds.

Two visitors start long CNN trainings (20 epochs of 8000 images: minutes of work) and so hold
both of the server's training slots; then both close their tabs. Measured from outside the
server, through the OS: every training job runs in a thread named `mnist-job-N`, a name the
job also gives its native thread, so `/proc/<server pid>/task/*/comm` lists it while the job
runs. The test waits for those threads to appear, closes the browser contexts (the WebSocket
goes, Streamlit marks the session inactive), and waits until they are gone, printing how long
that took. Then a third visitor's training must start at once: the slots are free.
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

JOB_PREFIX = "mnist-job-"
VIEWPORT = {"width": 1400, "height": 1000}
# Minutes of CNN training each, if nothing stopped them (the issue saw 200+ s).
LONG = [
    {"model": "cnn", "o": ["adam@keras"], "n": "8000", "epochs": "20", "batch": "16"},
    {"model": "cnn", "o": ["sgd@keras"], "n": "8000", "epochs": "20", "batch": "16"},
]
TINY = {"o": ["adam@keras"], "n": "500", "epochs": "1", "batch": "64"}
# The bound the test enforces: well under the trainings' own length, well over the design
# figure (DISCONNECT_GRACE_S = 3 s, plus one chunk and the thread's exit).
STOP_WITHIN_S = 45.0


@pytest.fixture()
def server(app_starter: Any, tmp_path: pathlib.Path) -> Iterator[Any]:
    """A server of its own (no other test's training threads in its task list) with two
    training slots, whatever the machine's cores (the default is one per core but one)."""
    srv = app_starter(tmp_path / "streamlit.log", env={"OPTIM_PLAYGROUND_TRAINING_SLOTS": "2"})
    try:
        yield srv
    finally:
        srv.stop()


def job_threads(pid: int) -> list[str]:
    """Native names of the server's training threads (read from /proc, outside the server).
    Threads a job starts (train()'s worker pool) inherit its name: each name counts once."""
    names = set()
    for comm in pathlib.Path(f"/proc/{pid}/task").glob("*/comm"):
        try:
            name = comm.read_text().strip()
        except OSError:  # that thread has just ended
            continue
        if name.startswith(JOB_PREFIX):
            names.add(name)
    return sorted(names)


def start_training(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(120_000)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="▶ Run").click()
    # The live view shows progress: the job is queued, compiling or training.
    page.locator('[data-testid="stProgress"]').first.wait_for()
    return context, page


def test_closing_the_tabs_ends_their_trainings_and_frees_the_slots(browser: Any, server: Any) -> None:
    if not pathlib.Path(f"/proc/{server.process.pid}/task").is_dir():
        pytest.fail("this test reads the server's threads from /proc (Linux)")
    pid = server.process.pid
    visitors = [start_training(browser, f"{server.url}/mnist?{urlencode(q, doseq=True)}") for q in LONG]
    # Both trainings are really under way (past the compile, counting batches).
    for _, page in visitors:
        page.get_by_text("Training 1 optimizer side by side").wait_for(timeout=240_000)
    assert len(job_threads(pid)) == 2, job_threads(pid)
    for _, page in visitors:
        assert page.locator('[data-testid="stException"]').count() == 0

    for context, _ in visitors:
        context.close()
    closed = time.monotonic()
    while job_threads(pid):
        elapsed = time.monotonic() - closed
        assert elapsed < STOP_WITHIN_S, (
            f"training threads {job_threads(pid)} still run {elapsed:.0f} s after their "
            f"visitors left\n{server.log()}"
        )
        time.sleep(0.1)
    stopped_after = time.monotonic() - closed
    print(f"\n[session-gone] both training threads ended {stopped_after:.1f} s after the tabs were closed")

    # A third visitor: the slots are free, so the training starts without queueing.
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/mnist?{urlencode(TINY, doseq=True)}")
        page.get_by_role("button", name="▶ Run").click()
        deadline = time.monotonic() + 180
        while not page.get_by_text("Results", exact=True).is_visible():
            assert not page.get_by_text("Waiting for a free slot").is_visible(), (
                "a closed visitor's training still holds a slot"
            )
            assert time.monotonic() < deadline, "the third visitor's training did not finish"
            page.wait_for_timeout(100)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
    assert job_threads(pid) == []
