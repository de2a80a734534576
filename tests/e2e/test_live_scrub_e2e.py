"""The live scrub and the cached surface picture, in real headless Chromium (issue 10).

What the browser does on its own is told apart from what goes to the server by the page's
WebSocket: every frame the page sends or receives is recorded, and the frames it sends are
decoded as Streamlit's BackMsg (a `rerun_script` one is a rerun request). Nothing here is
timed: each step waits for a condition (the URL, the status widget, the chart's data).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

CHART = ".js-plotly-plot .main-svg"
SCRUB = "live-scrub"  # viz.scrub.SCRUB_SLIDER_NAME
SCRUBBED = "Adam"  # the live scrub's default: the last optimizer, and its α
OTHERS = ("SGD", "Momentum (heavy ball)", "RMSprop")
NOT_RUNNING = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
EXCEPTION = '[data-testid="stException"]'
CONTOUR = re.compile(rb'"type"\s*:\s*"contour"')
SCATTER = re.compile(rb'"type"\s*:\s*"scatter"')  # the same search finds the traces that are sent
MIN_DISTINCT_PATHS = 10

# A chart by what it holds: "map" (the Paths map: its click grid), "frames" (an animation), or
# the name of a Plotly slider on it.
FIND_CHART = """(which) => Array.from(document.querySelectorAll('.js-plotly-plot')).find(gd =>
    which === 'map' ? (gd.data || []).some(t => t.name === 'click-layer')
    : which === 'frames' ? !!(gd._transitionData && (gd._transitionData._frames || []).length)
    : ((gd.layout && gd.layout.sliders) || []).some(s => s.name === which))"""

# What is drawn: each scatter trace's name -> its SVG line and markers, as drawn now.
DRAWN = f"""(name) => {{
    const gd = ({FIND_CHART})(name);
    const out = {{}};
    for (const el of gd.querySelectorAll('.scatterlayer .trace')) {{
        const trace = el.__data__ && el.__data__[0] && el.__data__[0].trace;
        if (!trace || trace.name === undefined) continue;
        const line = el.querySelector('.js-line');
        const points = Array.from(el.querySelectorAll('.point')).map(p => p.getAttribute('transform'));
        out[String(trace.name)] = (line ? line.getAttribute('d') : '') + '|' + points.join(';');
    }}
    return out;
}}"""

# A trace's data as the chart holds it now (after any frame the browser applied).
TRACE_DATA = f"""([name, trace]) => {{
    const gd = ({FIND_CHART})(name);
    const t = gd._fullData.find(t => t.name === trace);
    return t ? [Array.from(t.x || [], Number), Array.from(t.y || [], Number)] : null;
}}"""

SLIDER_STATE = f"""(name) => {{
    const gd = ({FIND_CHART})(name);
    const s = gd._fullLayout.sliders[0];
    const current = gd.querySelector('.slider-group > .slider-label');
    return {{active: s.active, label: s.steps[s.active].label,
             text: current ? current.textContent : null, steps: s.steps.length}};
}}"""

IMAGE_SOURCE = f"""(name) => {{
    const gd = ({FIND_CHART})(name);
    return ((gd.layout.images || [])[0] || {{}}).source || null;
}}"""


# --- the wire --------------------------------------------------------------------------------------


@dataclass
class Wire:
    """Every WebSocket frame the page sends and receives, in order."""

    sent: list[bytes] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def on_socket(ws: Any) -> None:
            ws.on("framesent", lambda payload: self.sent.append(_as_bytes(payload)))
            ws.on("framereceived", lambda payload: self.received.append(_as_bytes(payload)))

        page.on("websocket", on_socket)

    def mark(self) -> tuple[int, int]:
        return len(self.sent), len(self.received)

    def sent_since(self, mark: tuple[int, int]) -> list[bytes]:
        return self.sent[mark[0] :]

    def received_since(self, mark: tuple[int, int]) -> list[bytes]:
        return self.received[mark[1] :]

    def reruns_since(self, mark: tuple[int, int]) -> int:
        return sum(_kind(frame) == "rerun_script" for frame in self.sent_since(mark))


def _as_bytes(payload: str | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else payload.encode()


def _kind(frame: bytes) -> str | None:
    """What a frame the page sent asks for (BackMsg's `type`: `rerun_script`, ...)."""
    try:
        return BackMsg.FromString(frame).WhichOneof("type")
    except Exception:  # not a BackMsg: counted as sent, never as a rerun
        return None


def kinds(frames: list[bytes]) -> list[str | None]:
    return [_kind(f) for f in frames]


# --- helpers -----------------------------------------------------------------------------------------


def wait_idle(page: Any) -> None:
    """Wait until Streamlit's status widget (shown while a script runs) is gone, and no error."""
    page.wait_for_timeout(300)  # a rerun that was just asked for shows its widget after a moment
    page.wait_for_function(NOT_RUNNING, timeout=120_000)
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, errors.all_inner_texts()[:1]


def open_playground(page: Any, base_url: str, wire: Wire) -> None:
    wire.attach(page)
    page.goto(f"{base_url}/playground")
    page.wait_for_selector(CHART, timeout=120_000)
    wait_idle(page)


def turn_on_live_scrub(page: Any) -> None:
    page.get_by_text("Scrub live", exact=True).click()
    page.wait_for_function(f"() => !!({FIND_CHART})({json.dumps(SCRUB)})", timeout=120_000)
    page.locator(".slider-grip-rect").first.wait_for()
    wait_idle(page)
    # The bridge binds to the chart once both are drawn; it polls every 100 ms until then.
    page.wait_for_function(
        f"() => {{ const gd = ({FIND_CHART})({json.dumps(SCRUB)});"
        " return !!(gd && gd.__mapBridge && gd.__mapBridge.token); }",
        timeout=30_000,
    )


def slider_state(page: Any, name: str = SCRUB) -> dict[str, Any]:
    return dict(page.evaluate(SLIDER_STATE, name))


def drawn(page: Any, name: str = SCRUB) -> dict[str, str]:
    return dict(page.evaluate(DRAWN, name))


def trace_data(page: Any, trace: str, name: str = SCRUB) -> Any:
    return page.evaluate(TRACE_DATA, [name, trace])


def others(page: Any) -> dict[str, str]:
    """The optimizers that are not scrubbed: their paths and end markers."""
    return {t: json.dumps(trace_data(page, t)) for n in OTHERS for t in (n, f"{n} end")}


def center(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def adam_learning_rate_in_url(page: Any) -> float:
    entries = [o for o in parse_qs(urlparse(page.url).query).get("o", []) if o.startswith("adam")]
    assert len(entries) == 1, page.url
    found = re.search(r"learning_rate=([^,)]+)", entries[0])
    assert found, f"no learning_rate in {entries[0]!r}"
    return float(found.group(1))


def wait_for_adam_learning_rate(page: Any, value: float) -> None:
    page.wait_for_function(
        """(v) => new URLSearchParams(location.search).getAll('o').some(o => {
            const m = /^adam\\(.*learning_rate=([^,)]+)/.exec(o);
            return m && Math.abs(Number(m[1]) - v) <= 1e-9 * Math.abs(v);
        })""",
        arg=value,
        timeout=120_000,
    )


def learning_rate_slider(page: Any) -> Any:
    """Adam's α slider, the open card's (named "Adam learning rate α"; "α · learning_rate"
    before issue 11's names). By Adam's name: another card's α may still be on the page while a
    rerun replaces it."""
    return page.get_by_role("slider", name=re.compile(r"(· learning_rate|Adam learning rate α)$"))


def assert_adam_card_shows(page: Any, value: float) -> None:
    assert page.get_by_role("combobox", name=f"{SCRUBBED} optimizer", exact=True).input_value() == SCRUBBED
    thumb = learning_rate_slider(page)
    assert thumb.count() == 1
    shown = float(thumb.get_attribute("aria-valuetext"))
    assert shown == pytest.approx(value, rel=1e-9), (shown, value)


def release_and_check(
    page: Any,
    wire: Wire,
    mark: tuple[int, int],
    released: dict[str, Any],
    image_before: str,
    others_before: dict[str, str],
) -> None:
    """After a release (frames counted from `mark`, taken before it): exactly one rerun, the
    value the slider shows is in the link and on Adam's own slider, and the map was sent again
    with the same picture of the surface and no contour trace."""
    value = float(released["label"])
    wait_for_adam_learning_rate(page, value)
    wait_idle(page)
    # The rerun that the release asked for is drawn: the map opens at the released step.
    page.wait_for_function(
        f"(a) => ({FIND_CHART})({json.dumps(SCRUB)})._fullLayout.sliders[0].active === a",
        arg=released["active"],
    )
    assert adam_learning_rate_in_url(page) == pytest.approx(value, rel=1e-9)
    assert_adam_card_shows(page, value)
    after = slider_state(page)
    assert after["label"] == released["label"], (after, released)
    assert others(page) == others_before, "the release changed another optimizer's path"
    assert page.evaluate(IMAGE_SOURCE, SCRUB) == image_before, "the surface picture was re-sent"
    received = wire.received_since(mark)
    assert any(SCATTER.search(frame) for frame in received), "the map was not sent again"
    for frame in received:
        assert not CONTOUR.search(frame), "a contour trace was sent on the release"
    assert wire.reruns_since(mark) == 1, kinds(wire.sent_since(mark))


# --- tests ---------------------------------------------------------------------------------------------


def test_live_scrub_moves_the_path_in_the_browser_and_the_release_sets_the_value(
    page: Any, base_url: str
) -> None:
    wire = Wire()
    open_playground(page, base_url, wire)
    turn_on_live_scrub(page)
    start = slider_state(page)
    assert start["steps"] >= 41
    others_before = others(page)
    image_before = page.evaluate(IMAGE_SOURCE, SCRUB)
    assert image_before and not str(image_before).startswith("data:"), image_before
    assert start["label"] != "1e-05", "the default α is the slider's lowest stop: the drag goes left"

    grip = page.locator(".slider-grip-rect").first
    rail = page.locator(".slider-rail-rect").first.bounding_box()
    grip.scroll_into_view_if_needed()
    x, y = center(grip.bounding_box())
    mark = wire.mark()
    paths = {drawn(page)[SCRUBBED]}
    page.mouse.move(x, y)
    page.mouse.down()
    # Small moves from the thumb towards the rail's left end (lower α).
    target = rail["x"] + 0.1 * rail["width"]
    moves = 60
    for k in range(1, moves + 1):
        page.mouse.move(x + (target - x) * k / moves, y)
        paths.add(drawn(page)[SCRUBBED])
    page.wait_for_timeout(600)  # held still, thumb down: still no message (the bridge's key delay is 400 ms)
    released = slider_state(page)
    during = wire.sent_since(mark)
    assert during == [], f"{len(during)} frames sent while dragging: {kinds(during)}"
    assert len(paths) >= MIN_DISTINCT_PATHS, f"only {len(paths)} distinct Adam paths drawn"
    assert released["active"] < start["active"]
    assert released["text"] is not None and released["text"].endswith(f"= {released['label']}")
    # The drawn path is that step's frame, and nothing else moved.
    assert others(page) == others_before

    page.mouse.up()
    release_and_check(page, wire, mark, released, image_before, others_before)


def test_a_click_on_the_rail_sets_the_value_with_one_rerun(page: Any, base_url: str) -> None:
    wire = Wire()
    open_playground(page, base_url, wire)
    turn_on_live_scrub(page)
    start = slider_state(page)
    others_before = others(page)
    image_before = page.evaluate(IMAGE_SOURCE, SCRUB)
    path_before = drawn(page)[SCRUBBED]

    rail = page.locator(".slider-rail-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    mark = wire.mark()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)
    released = slider_state(page)
    assert released["active"] > start["active"], (released, start)
    release_and_check(page, wire, mark, released, image_before, others_before)
    assert drawn(page)[SCRUBBED] != path_before


def test_a_slider_move_does_not_resend_the_surface(page: Any, base_url: str) -> None:
    wire = Wire()
    open_playground(page, base_url, wire)
    image_before = page.evaluate(IMAGE_SOURCE, "map")
    assert image_before and not str(image_before).startswith("data:"), image_before
    adam_before = trace_data(page, SCRUBBED, "map")
    mark = wire.mark()
    thumb = page.get_by_role("slider", name="Gradient noise σ")
    thumb.focus()
    thumb.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('noise') === '0.01'")
    wait_idle(page)
    page.wait_for_function(
        f"""(before) => {{
            const t = ({FIND_CHART})('map')._fullData.find(t => t.name === 'Adam');
            const now = [Array.from(t.x, Number), Array.from(t.y, Number)];
            return JSON.stringify(now) !== JSON.stringify(before);
        }}""",
        arg=adam_before,
    )
    assert wire.reruns_since(mark) == 1, kinds(wire.sent_since(mark))
    received = wire.received_since(mark)
    # The map was sent again (its paths moved) but without a contour trace, and with the same
    # picture of the surface (same URL: the browser does not fetch it again).
    assert any(b'"click-layer"' in frame for frame in received), "the map was not re-sent"
    assert any(SCATTER.search(frame) for frame in received)
    for frame in received:
        assert not CONTOUR.search(frame), "a contour trace was sent on a slider move"
    assert page.evaluate(IMAGE_SOURCE, "map") == image_before
    assert trace_data(page, SCRUBBED, "map") != adam_before


def test_the_animation_plays_and_scrubs_in_the_browser(page: Any, base_url: str) -> None:
    wire = Wire()
    open_playground(page, base_url, wire)
    page.get_by_role("tab", name="Animation").click()
    page.wait_for_function(f"() => !!({FIND_CHART})('frames')", timeout=120_000)
    wait_idle(page)
    chart = page.locator(".js-plotly-plot").filter(has=page.locator(".slider-grip-rect"))
    chart.scroll_into_view_if_needed()
    start = slider_state(page, "frames")
    first = drawn(page, "frames")
    image = page.evaluate(IMAGE_SOURCE, "frames")

    # Drag the step slider in small moves: a new frame is drawn on the way, no message sent.
    mark = wire.mark()
    grip = chart.locator(".slider-grip-rect").first
    rail = chart.locator(".slider-rail-rect").first.bounding_box()
    x, y = center(grip.bounding_box())
    seen = {json.dumps(first, sort_keys=True)}
    page.mouse.move(x, y)
    page.mouse.down()
    moves = 30
    for k in range(1, moves + 1):
        page.mouse.move(x + (rail["x"] + 0.9 * rail["width"] - x) * k / moves, y)
        seen.add(json.dumps(drawn(page, "frames"), sort_keys=True))
    page.mouse.up()
    page.wait_for_timeout(600)  # a message after the release would be on its way by now
    dragged = slider_state(page, "frames")
    assert dragged["active"] > start["active"]
    assert len(seen) >= MIN_DISTINCT_PATHS, f"only {len(seen)} distinct frames drawn"
    assert wire.sent_since(mark) == [], kinds(wire.sent_since(mark))

    # Back to the start, then play: the frames advance in the browser.
    mark = wire.mark()
    page.mouse.click(rail["x"] + 1, rail["y"] + rail["height"] / 2)
    at_start = slider_state(page, "frames")["active"]
    chart.locator(".updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(
        f"(a) => ({FIND_CHART})('frames')._fullLayout.sliders[0].active >= a + 5", arg=at_start
    )
    chart.locator(".updatemenu-button").filter(has_text="Pause").click()
    assert drawn(page, "frames") != first
    assert wire.sent_since(mark) == [], kinds(wire.sent_since(mark))
    assert page.evaluate(IMAGE_SOURCE, "frames") == image


# What the map draws for one run (its legend group: the path, then its end marker).
GROUP_DRAWN = f"""(group) => {{
    const gd = ({FIND_CHART})('map');
    return Array.from(gd.querySelectorAll('.scatterlayer .trace')).filter(el => {{
        const trace = el.__data__ && el.__data__[0] && el.__data__[0].trace;
        return trace && trace.legendgroup === group;
    }}).map(el => Array.from(el.querySelectorAll('path')).map(p =>
        (p.getAttribute('d') || '') + '@' + (p.getAttribute('transform') || '')).join(';')).join('|');
}}"""


def test_the_map_follows_the_open_cards_slider_before_the_release_and_the_rerun_agrees(
    page: Any, base_url: str
) -> None:
    """Issue 10: a card's own slider redraws its path while the thumb moves, with no rerun asked
    for; the rerun that the release starts draws the very same picture and sets the link."""
    wire = Wire()
    open_playground(page, base_url, wire)
    page.get_by_role("button", name=re.compile(r"^Edit")).last.click()  # Adam: the fourth card
    thumb = learning_rate_slider(page)
    thumb.wait_for()
    wait_idle(page)
    # The pointer nears the slider: the page asks once for its stops, then fetches them.
    thumb.hover(force=True)
    page.wait_for_function(
        "() => window.__previewFetched && window.__previewFetched.size > 0", timeout=120_000
    )
    assert page.evaluate(
        "async () => { const all = await Promise.all(window.__previewFetched.values());"
        " return all.every(s => s && s.updates.length === s.values.length); }"
    )
    wait_idle(page)
    before = page.evaluate(GROUP_DRAWN, "run3")
    value0 = thumb.get_attribute("aria-valuetext")
    mark = wire.mark()
    box = thumb.bounding_box()
    assert box is not None
    x, y = center(box)
    page.mouse.move(x, y)
    page.mouse.down()
    shown = value0
    for step in range(1, 200):  # leftwards until the thumb shows a new value
        page.mouse.move(x - 2 * step, y)
        shown = thumb.get_attribute("aria-valuetext")
        if shown != value0:
            break
    assert shown != value0, "the thumb never moved"
    # Still pressed: the path is redrawn for the value under the thumb, and nothing went out.
    page.wait_for_function(f"(b) => ({GROUP_DRAWN})('run3') !== b", arg=before, timeout=30_000)
    during = page.evaluate(GROUP_DRAWN, "run3")
    assert wire.reruns_since(mark) == 0, kinds(wire.sent_since(mark))
    page.mouse.up()
    wait_for_adam_learning_rate(page, float(shown))
    wait_idle(page)
    assert wire.reruns_since(mark) >= 1
    assert_same_picture(page.evaluate(GROUP_DRAWN, "run3"), during)


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def assert_same_picture(after: str, during: str) -> None:
    """The same drawing up to a twentieth of a pixel (float32 runs batched in groups of other
    sizes agree to ~1e-5 of the view: at most the last of SVG's two decimals differs)."""
    assert NUMBER.sub("#", after) == NUMBER.sub("#", during), "the rerun drew other shapes than the preview"
    a = [float(v) for v in NUMBER.findall(after)]
    b = [float(v) for v in NUMBER.findall(during)]
    worst = max((abs(p - q) for p, q in zip(a, b, strict=True)), default=0.0)
    assert worst <= 0.05, f"the rerun moved a point by {worst} px"


# The step slider's position of the animated chart on show (the 2D animation or the 3D view).
ACTIVE = f"""() => {{
    const gd = ({FIND_CHART})('frames');
    return gd && gd._fullLayout && gd._fullLayout.sliders ? gd._fullLayout.sliders[0].active : null;
}}"""
IS_3D = f"""(three) => {{
    const gd = ({FIND_CHART})('frames');
    return !!(gd && gd._fullLayout && (gd.data || []).some(t => t.type === 'scatter3d') === three);
}}"""


def test_step_buttons_move_the_playgrounds_animations_one_frame_without_a_message(
    page: Any, base_url: str
) -> None:
    """Issue 11: on the Playground itself, ◀ Step back / Step forward ▶ under the Animation and
    the animated 3D view move one frame in the browser, and the page sends nothing."""
    wire = Wire()
    open_playground(page, base_url, wire)
    for tab in ("Animation", "3D view"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_function(IS_3D, arg=tab == "3D view", timeout=120_000)
        wait_idle(page)
        start = page.evaluate(ACTIVE)
        assert start == 0, (tab, start)
        mark = wire.mark()
        for expected, label in ((1, "One step forward"), (2, "One step forward"), (1, "One step back")):
            page.get_by_role("button", name=label).locator("visible=true").click()
            page.wait_for_function(f"(a) => ({ACTIVE})() === a", arg=expected)
        assert wire.sent_since(mark) == [], (tab, kinds(wire.sent_since(mark)))
