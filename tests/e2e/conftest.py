"""Fixtures of the browser tests: the app started as the README starts it, and Debian's Chromium.

The app runs as `.venv/bin/python -m app_pages.serve run app.py` with a free port appended (what
`bash scripts/run_app.sh --server.port N` ends in, minus the one-time setup). Playwright drives
/usr/bin/chromium and never downloads a browser. Under CI=true these tests must run: a missing
Chromium or Playwright fails them instead of skipping.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT_S = 90.0
VIEWPORT = {"width": 1400, "height": 1000}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here as e2e; skip them only off CI when Chromium is missing."""
    here = pathlib.Path(__file__).parent
    missing = not pathlib.Path(CHROMIUM).exists()
    for item in items:
        if here in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            if missing and not _in_ci():
                reason = f"{CHROMIUM} not found (with CI=true these tests fail instead)"
                item.add_marker(pytest.mark.skip(reason=reason))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    """A running `streamlit run app.py` in its own process group."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: pathlib.Path
    started_at: float  # time.monotonic() just before the process was spawned

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Kill the whole process group (streamlit may have children), politely first."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


def start_app(
    log_path: pathlib.Path, env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()
) -> AppServer:
    """Start the app like the README and wait until /_stcore/health answers."""
    port = free_port()
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():  # e.g. a CI image with the packages installed system-wide
        python = pathlib.Path(sys.executable)
    # app_pages.serve is `streamlit` with long links answered by the page (see its docstring).
    cmd = [
        str(python),
        "-m",
        "app_pages.serve",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        # Other people edit the sources while the suite runs: a file watcher would only add
        # "source changed" banners and inotify floods; the app itself behaves the same.
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    started_at = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    server = AppServer(process, f"http://127.0.0.1:{port}", log_path, started_at)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the app did not answer /_stcore/health within {START_TIMEOUT_S} s:\n{server.log()}")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    server = start_app(tmp_path_factory.mktemp("app") / "streamlit.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_starter() -> Any:
    """start_app itself, for tests that need a server of their own (call .stop() after)."""
    return start_app


@pytest.fixture(scope="session")
def base_url(app_server: AppServer) -> str:
    return app_server.url


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (its own Streamlit session), downloads allowed."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


class SharedTab:
    """One browser tab that a test process's tests take turns in (the `tab` fixture)."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.context: Any = None
        self.page: Any = None

    def get(self) -> Any:
        if self.context is None:
            self.context = self.browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        if self.page is None or self.page.is_closed():
            self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.set_viewport_size(VIEWPORT)
        return self.page

    def leave(self) -> None:
        """End the test's Streamlit session: open the health URL of the app the tab shows (the
        WebSocket closes; the renderer stays), or about:blank when that server is gone."""
        for other in self.context.pages:
            if other is not self.page:
                other.close()
        parts = urlsplit(self.page.url)
        try:
            if parts.scheme not in ("http", "https"):
                raise OSError(self.page.url)
            self.page.goto(f"{parts.scheme}://{parts.netloc}/_stcore/health", timeout=15_000)
        except Exception:  # noqa: BLE001 - the app's server was stopped, or the tab broke
            self.page.goto("about:blank", timeout=15_000)

    def discard(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context = self.page = None


@pytest.fixture(scope="session")
def _shared_tab(browser: Any) -> Iterator[SharedTab]:
    shared = SharedTab(browser)
    try:
        yield shared
    finally:
        shared.discard()


@pytest.fixture()
def tab(_shared_tab: SharedTab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Like `page` (viewport 1400x1000, downloads allowed, 60 s timeouts, and every `goto` of
    the app its own Streamlit session), but in one tab the test process's tests share.

    Chromium then keeps the tab's renderer with its cache and compiled scripts: the Playground
    loads in about 1.2 s instead of 3.5 s in a new tab or context. After each test the tab
    leaves the app, which ends the test's session; after a failed test the tab's context is
    closed, so the next test starts in a new one. Tests that leave something on the page
    object beyond the test (`page.on` listeners, routes, init scripts, exposed functions) or
    in the context (cookies, permissions) take `page` instead.
    """
    pg = _shared_tab.get()
    try:
        yield pg
    finally:
        if request.node.stash.get(_FAILED, False):
            _shared_tab.discard()
        else:
            try:
                _shared_tab.leave()
            except Exception:  # noqa: BLE001 - a tab that cannot even leave is not reused
                _shared_tab.discard()


@pytest.fixture(scope="session")
def screenshots_dir() -> pathlib.Path:
    path = ROOT / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
