"""A class opens the link together on a freshly started server (issue 13), in Chromium.

Every student's page must show the Playground, none an error: the first script runs of many
sessions used to import the same modules in several threads at once, and Python's import locks
then handed some of them a half-initialized module ("partially initialized module 'pandas' has
no attribute 'Series'"). app_pages.serve now loads those modules in one thread first.
"""

from __future__ import annotations

import pathlib
from typing import Any

STUDENTS = 6
CHART = ".js-plotly-plot .main-svg"
EXCEPTION = '[data-testid="stException"]'
SHOWN = f"() => !!document.querySelector('{CHART}') || !!document.querySelector('{EXCEPTION}')"


def test_a_class_opening_the_link_on_a_fresh_server_gets_no_error_page(
    app_starter: Any, browser: Any, tmp_path: pathlib.Path
) -> None:
    server = app_starter(tmp_path / "fresh.log")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(STUDENTS)]
    try:
        pages = [c.new_page() for c in contexts]
        for page in pages:  # all sessions start before the first script has finished
            page.goto(f"{server.url}/playground", wait_until="commit")
        for page in pages:
            page.wait_for_function(SHOWN, timeout=240_000)
        errors = [p.locator(EXCEPTION).all_inner_texts() for p in pages]
        assert not any(errors), (errors, server.log()[-3000:])
        assert all(p.locator(CHART).count() >= 1 for p in pages)
        assert "partially initialized module" not in server.log()
    finally:
        for c in contexts:
            c.close()
        server.stop()
