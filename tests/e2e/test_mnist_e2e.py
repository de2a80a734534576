"""The MNIST page in real headless Chromium, against the app started as the README starts it.

A short training is set up through the link (as a shared link would), started with Run, and
the curves must appear as Plotly charts with one trace per optimizer. A longer one checks the
live view (drawn by a fragment that polls the server-side training) and Stop.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

EXCEPTION = '[data-testid="stException"]'
TRACE_NAMES = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(gd => gd.offsetParent !== null)
    .map(gd => (gd.data || []).map(t => String(t.name)))"""
TINY = {"o": ["adam@keras", "sgd@keras"], "n": "500", "epochs": "1", "batch": "64"}


@pytest.fixture()
def page(tab: Any) -> Any:
    """This module's tests take turns in one shared tab (conftest's `tab`): each `goto` is
    still its own Streamlit session; the page loads without starting a new renderer."""
    return tab


def open_mnist(page: Any, base_url: str, query: dict[str, Any]) -> None:
    page.goto(f"{base_url}/mnist?{urlencode(query, doseq=True)}")
    page.get_by_role("button", name="▶ Run").wait_for(timeout=90_000)
    assert_no_exception(page)


def assert_no_exception(page: Any) -> None:
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.all_inner_texts()[:1]


def wait_for_curves(page: Any, names: set[str], timeout_s: float = 180.0) -> list[list[str]]:
    """Wait until a visible Plotly chart has a trace for every optimizer in `names`."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert_no_exception(page)
        charts = page.evaluate(TRACE_NAMES)
        if any(names <= set(traces) for traces in charts):
            return charts
        assert time.monotonic() < deadline, f"no curves for {names}; charts: {charts}"
        page.wait_for_timeout(250)


def test_run_a_short_training_and_see_the_curves(page: Any, base_url: str) -> None:
    open_mnist(page, base_url, TINY)
    page.locator(".js-plotly-plot").first.wait_for()  # the digits, before any training
    assert not any({"Adam", "SGD"} & set(t) for t in page.evaluate(TRACE_NAMES))
    page.get_by_role("button", name="▶ Run").click()
    charts = wait_for_curves(page, {"Adam", "SGD"})
    (traces,) = [t for t in charts if "Adam" in t]
    assert traces.count("Adam") == 4 and traces.count("SGD") == 4  # one per panel
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    page.get_by_text("Results", exact=True).wait_for()
    assert_no_exception(page)
    q = parse_qs(urlparse(page.url).query)
    assert q["o"] == ["adam@keras", "sgd@keras"] and q["n"] == ["500"]


def test_live_curves_then_stop_keeps_the_partial_run(page: Any, base_url: str) -> None:
    """20 epochs of 8000 images at batch 16: the curves grow while it trains; Stop ends it
    early and the page keeps what was trained."""
    open_mnist(
        page,
        base_url,
        {"o": ["adam@keras", "sgd@keras"], "n": "8000", "epochs": "20", "batch": "16", "seed": "5"},
    )
    page.get_by_role("button", name="▶ Run").click()
    stop = page.get_by_role("button", name="■ Stop")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('button'))"
        ".some(b => b.innerText.includes('Stop') && !b.disabled)",
        timeout=60_000,
    )
    wait_for_curves(page, {"Adam", "SGD"})  # drawn by the polling fragment, mid-training
    page.get_by_text("Training 2 optimizers side by side").wait_for()
    stop.click()
    page.get_by_text("Stopped because you pressed Stop").wait_for(timeout=120_000)
    wait_for_curves(page, {"Adam", "SGD"})
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    assert page.get_by_role("button", name="▶ Run").is_enabled()
    assert_no_exception(page)
