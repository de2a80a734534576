"""Links carrying markup, in Debian's Chromium: what the pages echo is shown as text.

Each link puts one payload of issue 7 into one key of one page (Markdown bold, an image from a
server the link's author picks, a javascript: link, KaTeX with \\href, Streamlit's :red[]
directive). For each link the test waits until the page has finished and its warning echoes
the value, then asserts:

- the warning shows the payload literally (the characters the link's author typed);
- nothing was rendered from it: no <img> or <a> built from it anywhere on the page, no .katex
  and no coloured text inside the alert boxes;
- the browser asked no other origin for anything (page.on("request"): only the app's own
  origin, data: and blob:), and no dialog opened.

One app server and one browser context serve every link.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

BOLD = "**ZZ**"
IMAGE = "![x](//127.1:81/i)"
LINK = "[ZZ](javascript:alert(1))"
KATEX = "$\\href{//127.1:81/k}{ZZ}$"
COLOR = ":red[ZZ]"

# (page, key, payload, text the page must show): the keys of the issue, on every page that
# reads values from links.
CASES = [
    ("playground", "steps", BOLD, BOLD),
    ("playground", "s", IMAGE, IMAGE),
    ("playground", "noise", LINK, LINK),
    ("playground", "o", KATEX, KATEX),
    ("playground", "classroom", COLOR, COLOR),
    ("playground", "o", f"adam(learning_rate={BOLD})", BOLD),
    ("playground", "o", f"momentum(momentum={IMAGE})", IMAGE),
    ("compare", "steps", BOLD, BOLD),
    ("compare", "cmp.panels", IMAGE, IMAGE),
    ("compare", "cmp.tol", LINK, LINK),
    ("compare", "cmp.sw", KATEX, KATEX),
    ("compare", "cmp.bm.z", COLOR, COLOR),
    ("compare", "o", f"sgd(learning_rate={LINK})", LINK),
    ("adam", "adam.seed", BOLD, BOLD),
    ("adam", "adam.gd.batch", IMAGE, IMAGE),
    ("adam", "adam.gd.lr", LINK, LINK),
    ("adam", "adam.mom.stream", KATEX, KATEX),
    ("adam", "adam.adam.bc", COLOR, COLOR),
    ("mnist", "epochs", BOLD, BOLD),
    ("mnist", "model", IMAGE, IMAGE),
    ("mnist", "batch", LINK, LINK),
    ("mnist", "o", KATEX, KATEX),
    ("mnist", "data", COLOR, COLOR),
]

ALERT = '[data-testid="stAlert"]'
TIMEOUT_S = 150.0

# Everything on the page that the payloads could have produced, as plain data.
RENDERED = """() => {
    const alerts = Array.from(document.querySelectorAll('[data-testid="stAlert"]'));
    const colored = [];
    for (const alert of alerts) {
        const base = getComputedStyle(alert.querySelector('[data-testid="stMarkdownContainer"]')
                                      || alert).color;
        for (const el of alert.querySelectorAll('*')) {
            const own = Array.from(el.childNodes).some(
                n => n.nodeType === 3 && n.textContent.includes('ZZ'));
            if (own && getComputedStyle(el).color !== base) colored.push(el.outerHTML.slice(0, 200));
        }
    }
    return {
        alerts: alerts.map(a => a.innerText),
        images: Array.from(document.querySelectorAll('img')).map(i => i.getAttribute('src') || ''),
        links: Array.from(document.querySelectorAll('a')).map(
            a => [a.getAttribute('href') || '', a.innerText]),
        katexInAlerts: alerts.flatMap(a => Array.from(a.querySelectorAll('.katex'))
                                            .map(k => k.innerText)),
        katexWithPayload: Array.from(document.querySelectorAll('.katex'))
            .map(k => k.innerText).filter(t => t.includes('ZZ')),
        colored: colored,
        strongInAlerts: alerts.flatMap(a => Array.from(a.querySelectorAll('strong, b, em'))
            .map(s => s.innerText).filter(t => t.includes('ZZ'))),
    };
}"""


@pytest.fixture(scope="module")
def context(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(120_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def page(context: Any, base_url: str) -> Any:
    """One tab for every link, recording every request and dialog it makes."""
    pg = context.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("request", lambda request: pg.requests.append(request.url))
    pg.on("dialog", lambda dialog: (pg.dialogs.append(dialog.message), dialog.dismiss()))
    # Nothing may leave for another host; if something tries, it fails fast instead of waiting.
    own = urlsplit(base_url)
    pg.route(
        "**/*", lambda route: route.continue_() if _same_origin(route.request.url, own) else route.abort()
    )
    yield pg
    pg.close()


def _same_origin(url: str, own: Any) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (
        parts.scheme in ("http", "https", "ws", "wss")
        and parts.port == own.port
        and parts.hostname in ("127.0.0.1", "localhost")
    )


def _wait_for_echo(page: Any, shown: str) -> dict[str, Any]:
    """The page's rendered state once an alert echoes `shown` and the script has finished (or
    the time is up: the caller's assertions then say what is missing)."""
    deadline = time.monotonic() + TIMEOUT_S
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        running = page.query_selector('[data-testid="stStatusWidget"]') is not None
        state = page.evaluate(RENDERED)
        if not running and any(shown in text for text in state["alerts"]):
            page.wait_for_timeout(500)  # let late elements (KaTeX, images) appear
            return page.evaluate(RENDERED)
        page.wait_for_timeout(300)
    return state


@pytest.mark.parametrize(
    ("page_name", "key", "payload", "shown"), CASES, ids=[f"{p}-{k}-{v[:12]}" for p, k, v, _ in CASES]
)
def test_markup_from_a_link_is_shown_as_text(page, base_url, page_name, key, payload, shown):
    own = urlsplit(base_url)
    page.requests.clear()
    page.dialogs.clear()
    url = f"{base_url}/{page_name}?{quote(key, safe='.')}={quote(payload, safe='')}"
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]')
    state = _wait_for_echo(page, shown)
    where = f"/{page_name}?{key}={payload}"

    assert any(shown in text for text in state["alerts"]), (
        f"{where}: no warning shows the value literally; alerts: {state['alerts']}"
    )
    assert not [s for s in state["images"] if "127.1" in s or ":81" in s], (
        f"{where}: an image was rendered from the link: {state['images']}"
    )
    assert not [h for h, _ in state["links"] if h.lower().startswith("javascript:") or "127.1" in h], (
        f"{where}: a link was rendered from the link: {state['links']}"
    )
    assert not [t for h, t in state["links"] if "ZZ" in t], (
        f"{where}: a link was rendered from the link: {state['links']}"
    )
    assert not state["katexInAlerts"] and not state["katexWithPayload"], (
        f"{where}: KaTeX was rendered from the link: {state['katexInAlerts']}"
    )
    assert not state["colored"], f"{where}: coloured text from the link: {state['colored']}"
    assert not state["strongInAlerts"], f"{where}: bold/italic text from the link: {state['strongInAlerts']}"
    others = [u for u in page.requests if not _same_origin(u, own)]
    assert not others, f"{where}: the browser asked another origin: {others}"
    assert not page.dialogs, f"{where}: a dialog opened: {page.dialogs}"
