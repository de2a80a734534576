"""Accessibility in real Chromium: axe-core on every page, chart text contrast, control names.

axe-core comes from the npm registry through the project's own files: tests/e2e/npm holds its
package.json and lock file, and `bash scripts/setup.sh requirements-dev.txt` (which the test
command runs first) installs it into .venv/npm. The test reads axe.min.js from there and injects
it into each page; nothing is downloaded while the tests run. Under CI=true a missing axe-core
fails the test.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
from test_app_e2e import CHART, open_page, wait_idle

ROOT = pathlib.Path(__file__).resolve().parents[2]
AXE_JS = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
MIN_CONTRAST = 4.5  # WCAG AA, normal-size text

# (name, path, charts to wait for)
PAGES = [
    ("home", "", 1),
    ("playground", "playground", 1),
    ("compare", "compare", 1),
    ("adam", "adam", 1),
    ("lessons", "lessons", 0),
    ("mnist", "mnist", 1),
]

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
    }));
}"""

# Every visible text of every Plotly chart: its colour, opacity and the figure's background.
CHART_TEXTS = """() => {
    const out = [];
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        if (gd.offsetParent === null || !gd._fullLayout) continue;
        const paper = gd._fullLayout.paper_bgcolor;
        for (const t of gd.querySelectorAll('text')) {
            const text = (t.textContent || '').trim();
            const box = t.getBoundingClientRect();
            if (!text || box.width === 0) continue;
            const cs = getComputedStyle(t);
            if (cs.visibility === 'hidden' || cs.display === 'none') continue;
            let opacity = 1;
            for (let e = t; e && e !== gd; e = e.parentElement) {
                opacity *= parseFloat(getComputedStyle(e).opacity || '1');
            }
            out.push({text, fill: cs.fill, fillOpacity: parseFloat(cs.fillOpacity || '1'),
                      opacity, paper, inLegend: !!t.closest('.legend'),
                      legendBg: gd._fullLayout.legend ? gd._fullLayout.legend.bgcolor : null});
        }
    }
    return out;
}"""


@pytest.fixture()
def page(tab: Any) -> Any:
    """This module's tests take turns in one shared tab (conftest's `tab`): each `goto` is
    still its own Streamlit session; the page loads without starting a new renderer."""
    return tab


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `bash scripts/setup.sh requirements-dev.txt` (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def parse_color(css: str) -> tuple[float, float, float, float]:
    """'rgb(1, 2, 3)', 'rgba(1, 2, 3, 0.5)' or '#rrggbb' -> (r, g, b, alpha), 0-255 and 0-1."""
    css = css.strip()
    if css.startswith("#"):
        h = css[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return float(int(h[0:2], 16)), float(int(h[2:4], 16)), float(int(h[4:6], 16)), 1.0
    numbers = [float(x) for x in re.findall(r"[\d.]+", css)]
    if len(numbers) < 3:
        raise ValueError(f"not a colour: {css!r}")
    return numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) > 3 else 1.0


def over(fg: tuple[float, float, float, float], bg: tuple[float, float, float]) -> tuple[float, ...]:
    """`fg` with its alpha laid over an opaque `bg`."""
    a = fg[3]
    return tuple(a * f + (1 - a) * b for f, b in zip(fg[:3], bg, strict=True))


def luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_helpers_match_known_ratios() -> None:
    white = (255.0, 255.0, 255.0)
    assert contrast((0.0, 0.0, 0.0), white) == pytest.approx(21.0)
    assert contrast(parse_color("#808495")[:3], white) == pytest.approx(3.8, abs=0.1)
    assert contrast(parse_color("#767676")[:3], white) == pytest.approx(4.54, abs=0.02)
    half_black = over(parse_color("rgba(0, 0, 0, 0.5)"), white)
    assert half_black == pytest.approx((127.5, 127.5, 127.5))


def chart_text_failures(page: Any) -> list[str]:
    """Chart texts under MIN_CONTRAST against their figure's background."""
    failures = []
    for t in page.evaluate(CHART_TEXTS):
        paper = parse_color(t["paper"])
        background = over(paper, (255.0, 255.0, 255.0))
        if t["inLegend"] and t["legendBg"]:
            background = over(parse_color(t["legendBg"]), background)
        fill = parse_color(t["fill"])
        alpha = fill[3] * t["fillOpacity"] * t["opacity"]
        ratio = contrast(over((*fill[:3], alpha), background), background)
        if ratio < MIN_CONTRAST:
            failures.append(f"{t['text'][:30]!r}: {t['fill']} at {alpha:.2f} on {t['paper']} = {ratio:.2f}:1")
    return failures


@pytest.mark.parametrize(("name", "path", "charts"), PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_no_serious_or_critical_violation(
    page: Any, base_url: str, name: str, path: str, charts: int
) -> None:
    open_page(page, f"{base_url}/{path}", charts)
    if name == "lessons":  # the lesson cards ask first: wait for them
        page.get_by_role("radiogroup").first.wait_for()
        wait_idle(page)
    page.add_script_tag(content=axe_source())
    violations = page.evaluate(RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    report = [
        f"{v['impact']} {v['id']} ({v['help']}): "
        + "; ".join(f"{n['target']} -> {n['summary'][:200]}" for n in v["nodes"][:5])
        for v in blocking
    ]
    assert not blocking, f"{name}:\n" + "\n".join(report)
    # Text inside the charts (axes, titles, legends, colour bars), which axe leaves out.
    if charts:
        assert page.locator(CHART).count() >= charts
        failures = chart_text_failures(page)
        assert not failures, f"{name}: chart text under {MIN_CONTRAST}:1:\n" + "\n".join(failures[:20])


ROLES = ("slider", "spinbutton", "combobox", "switch", "checkbox", "button", "textbox", "tab", "radio")


def control_names(scope: Any) -> list[tuple[str, str]]:
    """(role, accessible name) of every visible control in `scope` (Playwright's computation)."""
    out = []
    for role in ROLES:
        for element in scope.get_by_role(role).all():
            if element.is_visible():
                name = element.evaluate(
                    "e => e.getAttribute('aria-label') || (e.labels && e.labels[0] ? "
                    "e.labels[0].innerText : '') || e.innerText || ''"
                )
                out.append((role, " ".join(str(name).split())))
    return out


def test_playground_controls_have_plain_unique_names(page: Any, base_url: str) -> None:
    """Every control has a plain-text name (no LaTeX), a card's sliders say whose they are, the
    card buttons name their optimizer, and no two sliders or number boxes share a name."""
    open_page(page, f"{base_url}/playground?o=adam&o=sgd")
    main = page.locator('[data-testid="stMain"]')
    names = control_names(main) + control_names(page.locator('[data-testid="stSidebar"]'))
    for role, name in names:
        assert name.strip(), f"a {role} has no name"
        assert "$" not in name and "\\" not in name, f"{role} {name!r} is LaTeX, not plain text"
    # The open card (the first) draws its widgets, each named after the card's optimizer.
    # (Streamlit's slider repeats its label in its name, "Adam learning rate α Adam learning
    # rate α": matched as a part of the name.)
    alpha = page.get_by_role("slider", name="Adam learning rate α")
    assert alpha.count() == 1
    assert page.get_by_role("spinbutton", name="Adam learning rate α, exact value").count() == 1
    assert page.get_by_role("slider", name="Adam b1 β₁").count() == 1
    assert page.get_by_role("combobox", name="Adam optimizer", exact=True).count() == 1
    assert page.get_by_role("combobox", name="Adam preset", exact=True).count() == 1
    per_role: dict[str, list[str]] = {}
    for role, name in names:
        per_role.setdefault(role, []).append(name)
    for role in ("slider", "spinbutton"):
        seen = per_role.get(role, [])
        assert len(seen) == len(set(seen)), f"{role}s share a name: {sorted(seen)}"
    # The card buttons: ✕ is drawn, "Remove SGD" is read; "Edit" names its optimizer.
    remove = page.get_by_role("button", name="Remove SGD", exact=True)
    assert remove.count() == 1 and remove.is_visible()
    box = remove.bounding_box()
    assert box is not None and box["width"] <= 64, box  # drawn as a small ✕, not as its name
    assert page.get_by_role("button", name="Remove Adam", exact=True).count() == 1
    edit = page.get_by_role("button", name="Edit SGD", exact=True)
    assert edit.count() == 1 and edit.is_visible()
    hidden = edit.locator("em").bounding_box()  # "SGD" is read, not drawn (the card says it)
    assert hidden is not None and hidden["width"] <= 1 and hidden["height"] <= 1, hidden
    page.add_script_tag(content=axe_source())
    names_rule = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['button-name', 'label', 'aria-input-field-name',
            'select-name', 'input-button-name']})).violations.map(v => v.id)"""
    )
    assert names_rule == []
