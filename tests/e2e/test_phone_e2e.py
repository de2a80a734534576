"""The Playground on a phone (390 × 844, a phone's User-Agent, touch), in real Chromium.

Measured, not eyeballed: the map's plot area is at least 340 px wide and inside the screen; the
surface picker and the steps slider are in the page itself (reached by scrolling, the sidebar
stays closed); every tab is in sight without scrolling the tab row, and each one opens on a
tap. Screenshots go to docs/screenshots/ (phone-playground*.png).
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from test_app_e2e import CHART, VISIBLE_CHARTS, assert_no_exception, open_page, wait_idle

PHONE = {"width": 390, "height": 844}
# A phone's browser says so in its User-Agent ("Mobile"): the pages lay out for it (ui.is_phone).
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36"
)
MIN_MAP_PX = 340
TABS = ["Paths", "Animation", "3D view", "Curves", "Internals", "Metrics & export"]

MAP_BOX = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    const area = gd && gd.querySelector('.nsewdrag');
    if (!area) return null;
    const b = area.getBoundingClientRect();
    return {x: b.x, width: b.width, height: b.height};
}"""


@pytest.fixture()
def phone(browser: Any) -> Any:
    context = browser.new_context(
        viewport=PHONE, user_agent=PHONE_AGENT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def in_main(page: Any) -> Any:
    return page.locator('[data-testid="stMain"]')


def assert_in_screen(page: Any, element: Any, what: str) -> None:
    """Scroll `element` into view (the page's own scrolling) and check it lies on the screen."""
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box is not None, f"{what} is not drawn"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, f"{what} sticks out: {box}"
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"] + 0.5, f"{what} is off screen: {box}"


def sidebar_is_closed(page: Any) -> bool:
    box = page.locator('[data-testid="stSidebar"]').bounding_box()
    return box is None or box["width"] < 1 or box["x"] + box["width"] <= 0


def test_playground_on_a_phone(phone: Any, base_url: str, screenshots_dir: pathlib.Path) -> None:
    page = phone
    open_page(page, f"{base_url}/playground")
    assert_no_exception(page)
    assert sidebar_is_closed(page)
    # Nothing wider than the screen: no sideways scrolling of the page.
    widths = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return [document.documentElement.scrollWidth, m.scrollWidth, m.clientWidth]; }"""
    )
    assert widths[0] <= PHONE["width"] and widths[1] <= widths[2], widths

    # The map: a square plot area at least 340 px wide, inside the screen.
    box = page.evaluate(MAP_BOX)
    assert box is not None
    assert box["width"] >= MIN_MAP_PX, f"the map's plot area is {box['width']:.0f} px wide"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert abs(box["height"] - box["width"]) <= 2, box  # equal units on both axes still
    page.screenshot(path=str(screenshots_dir / "phone-playground.png"))

    # Every tab in sight (the tab row wraps instead of scrolling) and each opens on a tap.
    tablist = in_main(page).get_by_role("tablist").first
    scroll = tablist.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll[0] <= scroll[1] + 1, f"the tab row scrolls: {scroll}"
    for name in TABS:
        tab = in_main(page).get_by_role("tab", name=name, exact=True)
        tab_box = tab.bounding_box()
        assert tab_box is not None, name
        assert tab_box["x"] >= 0 and tab_box["x"] + tab_box["width"] <= PHONE["width"], (name, tab_box)
        assert tab_box["width"] >= 24 and tab_box["height"] >= 24, (name, tab_box)  # a tap target
    for name in TABS[1:]:
        tab = in_main(page).get_by_role("tab", name=name, exact=True)
        tab.scroll_into_view_if_needed()
        tab.tap()
        page.wait_for_function(
            "name => Array.from(document.querySelectorAll('[role=tab]')).some("
            "t => t.innerText.trim() === name && t.getAttribute('aria-selected') === 'true')",
            arg=name,
        )
        if name != "Metrics & export":
            page.wait_for_function(VISIBLE_CHARTS, arg=1, timeout=90_000)
        wait_idle(page)
        assert_no_exception(page)
        if name == "Curves":
            page.screenshot(path=str(screenshots_dir / "phone-playground-curves.png"))
    in_main(page).get_by_role("tab", name="Paths", exact=True).tap()
    page.wait_for_function(VISIBLE_CHARTS, arg=1, timeout=90_000)
    wait_idle(page)

    # The surface and the steps: in the page, reached by scrolling, the sidebar still closed.
    surface = in_main(page).get_by_role("combobox", name="Loss surface")
    steps = in_main(page).get_by_role("slider", name="Steps")
    assert surface.count() == 1, "the surface picker is not in the page (only in the closed sidebar?)"
    assert steps.count() == 1, "the steps slider is not in the page (only in the closed sidebar?)"
    assert_in_screen(page, surface, "the surface picker")
    assert_in_screen(page, steps, "the steps slider")
    assert sidebar_is_closed(page)
    page.screenshot(path=str(screenshots_dir / "phone-playground-settings.png"))
    assert page.locator(CHART).count() >= 1
