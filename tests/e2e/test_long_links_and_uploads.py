"""Over-long links and oversized uploads against the app started as the README starts it
(`python -m app_pages.serve run app.py`, see tests/e2e/conftest.py), in Debian's Chromium.

- a 100 kB `f=` (over uvicorn's default 16 kB request head) gets the page and a warning, not an
  HTTP error;
- a query string Streamlit drops (over 512 Ki characters, or over 1,000 fields) gets the page
  with its defaults and a message saying why;
- an upload over `server.maxUploadSize` (1 MB) is refused by the server with HTTP 413, while a
  small one through the same route is accepted.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from app_pages.serve import MAX_REQUEST_HEAD_BYTES, streamlit_query_limits

ALERT = '[data-testid="stAlert"]'
TIMEOUT_S = 150.0


@pytest.fixture(scope="module")
def context(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(120_000)
    try:
        yield ctx
    finally:
        ctx.close()


def _alerts_once_idle(page: Any, wanted: str) -> list[str]:
    """The alert texts, once one contains `wanted` and the script has finished (or the time
    is up: then whatever is shown, and the caller's assertion says what is missing)."""
    deadline = time.monotonic() + TIMEOUT_S
    texts: list[str] = []
    while time.monotonic() < deadline:
        texts = page.eval_on_selector_all(ALERT, "els => els.map(e => e.innerText)")
        running = page.query_selector('[data-testid="stStatusWidget"]') is not None
        if not running and any(wanted in t for t in texts):
            break
        page.wait_for_timeout(250)
    exceptions = page.eval_on_selector_all('[data-testid="stException"]', "els => els.map(e => e.innerText)")
    assert not exceptions, exceptions
    return texts


def _open(context: Any, url: str) -> tuple[Any, int | None]:
    page = context.new_page()
    response = page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stApp"]')
    return page, (response.status if response is not None else None)


def test_a_100_kB_formula_gets_the_page_and_a_warning(context, base_url):
    formula = "x" * 100_000
    page, status = _open(context, f"{base_url}/playground?s=custom&f={formula}")
    try:
        assert status == 200
        texts = _alerts_once_idle(page, "The link had values that could not be used")
        assert any("The link had values that could not be used" in t and "f:" in t for t in texts), texts
        assert all(formula[:1000] not in t for t in texts)  # echoed shortened, not in full
    finally:
        page.close()


@pytest.mark.parametrize("kind", ["characters", "fields"])
def test_a_query_string_streamlit_drops_gets_the_page_and_a_message(context, base_url, kind):
    max_chars, max_fields = streamlit_query_limits()
    if kind == "characters":
        query = "steps=300&f=" + "x" * (max_chars + 1000)
        assert len(f"{base_url}/playground?{query}") < MAX_REQUEST_HEAD_BYTES
        fields, chars = 2, len(query)
    else:
        query = "steps=300&" + "&".join(f"z{i}=1" for i in range(max_fields))
        fields, chars = max_fields + 1, len(query)
    page, status = _open(context, f"{base_url}/playground?{query}")
    try:
        assert status == 200
        texts = _alerts_once_idle(page, "This link is too large to read")
        expected = f"This link is too large to read ({fields:,} fields, {chars:,} characters;"
        assert any(expected in t for t in texts), texts
        # The defaults are shown (steps=300 was not read) and the address no longer holds the
        # dropped link.
        page.wait_for_function("() => location.href.length < 2000")
        assert "steps=300" not in page.url
    finally:
        page.close()


def _session_id(page: Any, url: str) -> str:
    """The Streamlit session of a freshly loaded page, from its first WebSocket messages."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    found: list[str] = []

    def on_socket(ws: Any) -> None:
        def on_frame(payload: Any) -> None:
            if isinstance(payload, (bytes, bytearray)) and not found:
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(bytes(payload))
                except Exception:  # noqa: BLE001 - other frames are not ForwardMsgs
                    return
                if msg.WhichOneof("type") == "new_session":
                    found.append(msg.new_session.initialize.session_id)

        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')
    deadline = time.monotonic() + TIMEOUT_S
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert found, "no new_session message seen on the WebSocket"
    return found[0]


def test_the_server_refuses_an_upload_over_the_cap(context, base_url):
    page = context.new_page()
    try:
        session_id = _session_id(page, f"{base_url}/playground")
        cookies = {c["name"]: c["value"] for c in context.cookies(base_url)}
        headers = {"X-Xsrftoken": cookies["_streamlit_xsrf"]} if "_streamlit_xsrf" in cookies else {}

        def upload(file_id: str, size: int) -> int:
            response = page.request.put(
                f"{base_url}/_stcore/upload_file/{session_id}/{file_id}",
                headers=headers,
                multipart={
                    "file": {
                        "name": "setup.json",
                        "mimeType": "application/json",
                        "buffer": b"{" + b" " * (size - 2) + b"}",
                    }
                },
            )
            return response.status

        assert upload("small", 10_000) == 204  # the route, the session and the XSRF token work
        assert upload("big", 1024 * 1024 + 10_000) == 413  # just over server.maxUploadSize
        assert upload("huge", 5 * 1024 * 1024) == 413
    finally:
        page.close()
