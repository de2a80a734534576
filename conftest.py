"""Root conftest: makes the project's packages importable in every test, configures JAX (the
persistent compilation cache) before any test compiles, as every entry point does, and holds
the one Playwright browser of a test process. AppTest's scan of the installed packages for
Streamlit components is done once per test process.

Playwright's sync API runs an event loop for as long as it is open, so a second
`sync_playwright()` in the same process fails; every browser test (tests/e2e, the viz click
test) takes the session's `browser` fixture instead.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from optim_core import configure_jax

configure_jax()


def _scan_installed_components_once() -> None:
    """Streamlit's AppTest, at each new AppTest's first run, reads the metadata of every
    installed distribution (~330 here, parsed as e-mail headers) looking for custom components:
    ~0.3 s of CPU per AppTest, for a list that cannot change during the test session. Keep the
    first scan's result (each AppTest still registers it in a component manager of its own)."""
    from streamlit.components.v2 import manifest_scanner

    scan = functools.cache(manifest_scanner.scan_component_manifests)

    def scan_once(max_workers: int | None = None) -> list[Any]:
        return list(scan(max_workers))

    manifest_scanner.scan_component_manifests = scan_once


_scan_installed_components_once()

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser); fails when missing."""
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
