"""No clipped or overlapping text (issue 11, item 4), measured in real Chromium.

At 1440x1000 and 1280x800 every text element of
- the Playground's metrics table (Metrics & export tab),
- the open optimizer card's update rule (KaTeX from st.latex),
- the Internals tab's charts (titles, subplot titles, axis titles, ticks, legend),
- the Compare page's small multiples (panel titles),
must fit its box: an HTML element whose content is wider than the element (scrollWidth >
clientWidth) or reaches out of its element is cut off; two SVG texts whose boxes intersect
overlap; an SVG text crossed by a panel's frame line is struck through; an SVG text outside
the chart's SVG is clipped. The exported PNG and PDF keep their whole legend: the PNG's layout
is computed by the same plotly.js in Chromium at the export size, and the PDF's text positions
are read from its content stream (a few lines below: no PDF library is installed).

The tests use the app started as the README starts it (conftest), or the one already running
at E2E_BASE_URL. Screenshots of what was measured go to TEXT_FIT_SHOTS (default: a temp dir).
"""

from __future__ import annotations

import os
import pathlib
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

VIEWPORTS = [(1440, 1000), (1280, 800)]
CHART = ".js-plotly-plot .main-svg"
TOL = 1.0  # px: sub-pixel rounding is not clipping

# --- in-page measurements ----------------------------------------------------------------------

# Every element under `root` whose content is wider than its box (it scrolls or is cut off), or
# that reaches outside `root` horizontally. Hidden elements (no box) do not count.
HTML_OVERFLOW = """(root, tol) => {
  const box = root.getBoundingClientRect();
  const bad = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('[aria-hidden="true"], .katex-mathml')) continue;
    const label = (el.getAttribute('data-testid') || el.className || el.tagName).toString().slice(0, 50);
    const text = (el.innerText || el.textContent || '').trim().slice(0, 60);
    if (el.scrollWidth > el.clientWidth + tol && getComputedStyle(el).overflowX !== 'visible') {
      bad.push(`${label} "${text}": content ${el.scrollWidth} px wide in a ${el.clientWidth} px box`);
    } else if (r.right > box.right + tol || r.left < box.left - tol) {
      bad.push(`${label} "${text}": x ${r.left.toFixed(0)}-${r.right.toFixed(0)} outside ` +
               `${box.left.toFixed(0)}-${box.right.toFixed(0)}`);
    }
  }
  return bad;
}"""

# The text boxes of one Plotly chart (relative to its SVG), its size, and the frame of each
# subplot whose axes draw lines (showline): [x0, y0, x1, y1].
CHART_TEXTS = """gd => {
  const svg = gd.querySelector('.main-svg').getBoundingClientRect();
  const texts = [];
  for (const t of gd.querySelectorAll('.main-svg text')) {
    if (t.closest('.hoverlayer')) continue;
    const s = (t.textContent || '').trim();
    if (!s) continue;
    const cs = getComputedStyle(t);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') continue;
    const r = t.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const g = t.closest('.annotation, .legend, .g-gtitle, .infolayer > g, .xtick, .ytick, .cbaxis, g');
    let kind = 'text';
    if (t.closest('.legend')) kind = 'legend';
    else if (t.closest('.annotation')) kind = 'annotation';
    else if (t.classList.contains('gtitle')) kind = 'title';
    else if (/^[xy]\\d*title$/.test(t.getAttribute('class') || '')) kind = 'axis title';
    else if (t.closest('.colorbar')) kind = 'colorbar';
    else if (t.closest('[class*="tick"]')) kind = 'tick';
    texts.push({kind, text: s.slice(0, 60),
                box: [r.left - svg.left, r.top - svg.top, r.right - svg.left, r.bottom - svg.top]});
  }
  const frames = [];
  const fl = gd._fullLayout || {};
  for (const p of Object.values(fl._plots || {})) {
    const xa = p.xaxis, ya = p.yaxis;
    if (!xa || !ya || !(xa.showline || ya.showline)) continue;
    frames.push([xa._offset, ya._offset, xa._offset + xa._length, ya._offset + ya._length]);
  }
  return {width: svg.width, height: svg.height, texts, frames};
}"""


def intersect(a: list[float], b: list[float], tol: float = TOL) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def chart_problems(chart: dict[str, Any], where: str) -> list[str]:
    """Clipped (outside the SVG), overlapping, or struck through (a frame line across it)."""
    problems: list[str] = []
    texts = chart["texts"]
    w, h = chart["width"], chart["height"]
    for t in texts:
        x0, y0, x1, y1 = t["box"]
        if x0 < -TOL or y0 < -TOL or x1 > w + TOL or y1 > h + TOL:
            problems.append(f"{where}: {t['kind']} {t['text']!r} is cut off by the chart's edge {t['box']}")
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            if intersect(a["box"], b["box"]):
                problems.append(f"{where}: {a['kind']} {a['text']!r} overlaps {b['kind']} {b['text']!r}")
    for t in texts:
        # A panel's title (an annotation just above a frame, centred over it) stays over its
        # own panel and clear of the frame line: wider, it runs over the neighbour's frame.
        x0, y0, x1, y1 = t["box"]
        centre = (x0 + x1) / 2
        for fx0, fy0, fx1, _ in chart["frames"] if t["kind"] == "annotation" else []:
            if fx0 < centre < fx1 and fy0 - 40 < y1 <= fy0 + TOL:
                if x0 < fx0 - TOL or x1 > fx1 + TOL or y1 > fy0 - 2:
                    problems.append(f"{where}: panel title {t['text']!r} reaches past its frame {t['box']}")
    for t in texts:
        if t["kind"] in ("tick", "colorbar", "legend"):
            continue  # ticks sit against the frame by design; the legend has its own box
        x0, y0, x1, y1 = t["box"]
        for fx0, fy0, fx1, fy1 in chart["frames"]:
            across_x = x0 + TOL < fx0 < x1 - TOL or x0 + TOL < fx1 < x1 - TOL
            across_y = y0 + TOL < fy0 < y1 - TOL or y0 + TOL < fy1 < y1 - TOL
            overlaps_x = x1 > fx0 + TOL and x0 < fx1 - TOL
            overlaps_y = y1 > fy0 + TOL and y0 < fy1 - TOL
            if (across_y and overlaps_x) or (across_x and overlaps_y):
                problems.append(f"{where}: {t['kind']} {t['text']!r} is struck through by a panel frame")
                break
    return problems


# --- fixtures and page helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def url(request: pytest.FixtureRequest) -> str:
    running = os.environ.get("E2E_BASE_URL", "").rstrip("/")
    return running or str(request.getfixturevalue("base_url"))


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = pathlib.Path(os.environ.get("TEXT_FIT_SHOTS") or tmp_path_factory.mktemp("text_fit"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(params=VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def sized_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(90_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def wait_idle(page: Any) -> None:
    """The script has finished (no status widget) and the charts have had a frame to draw."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                 .every(gd => gd._fullLayout && gd.querySelector('.main-svg'))"""
    )
    page.wait_for_timeout(300)


def open_page(page: Any, link: str, ready: str = CHART) -> None:
    page.goto(link)
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_selector(ready)
    wait_idle(page)
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()[:1]


def size_tag(page: Any) -> str:
    v = page.viewport_size
    return f"{v['width']}x{v['height']}"


def shoot(page: Any, locator: Any, shots: pathlib.Path, name: str) -> None:
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(shots / f"{name}_{size_tag(page)}.png"))


def charts_problems(page: Any, charts: Any, shots: pathlib.Path, name: str) -> list[str]:
    problems: list[str] = []
    for i in range(charts.count()):
        gd = charts.nth(i)
        shoot(page, gd, shots, f"{name}_{i}")
        data = gd.evaluate(CHART_TEXTS)
        assert data["texts"], f"{name} chart {i} has no text to check"
        problems += chart_problems(data, f"{name} chart {i} at {size_tag(page)}")
    return problems


# --- the app -----------------------------------------------------------------------------------


def test_metrics_table_shows_every_column_whole(sized_page: Any, url: str, shots: pathlib.Path) -> None:
    page = sized_page
    open_page(page, f"{url}/playground?pg.tab=Metrics+%26+export", ready="text=oscillation")
    table = page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]').filter(
        has_text="oscillation"
    )
    if not table.count():  # a canvas grid has no text in the DOM: find it by its neighbours
        table = page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]')
    table = table.first
    shoot(page, table, shots, "metrics_table")
    container = table.locator("xpath=ancestor::*[@data-testid='stElementContainer'][1]")
    problems = container.evaluate(HTML_OVERFLOW, TOL)
    headings = table.locator("th").all_inner_texts()
    assert problems == [], problems
    # Every heading is written out in the page (not painted on a canvas the test cannot read).
    for heading in ("optimizer", "final loss", "oscillation", "zig-zag", "diverged at"):
        assert any(heading == h.strip().replace("\n", " ") for h in headings), (heading, headings)


def test_open_cards_update_rule_fits_its_box(sized_page: Any, url: str, shots: pathlib.Path) -> None:
    page = sized_page
    open_page(page, f"{url}/playground")
    card = (
        page.locator('[data-testid="stVerticalBlock"]')
        .filter(has=page.get_by_role("button", name="Edit"))
        .filter(has_text="Adam")
        .last
    )
    card.get_by_role("button", name="Edit").click()
    page.wait_for_selector(".katex-display >> text=β")
    wait_idle(page)
    equations = page.locator(".katex-display")
    assert equations.count() >= 1
    problems: list[str] = []
    for i in range(equations.count()):
        eq = equations.nth(i)
        shoot(page, eq.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]"), shots, f"rule_{i}")
        box = eq.locator("xpath=ancestor::*[@data-testid='stElementContainer'][1]")
        problems += box.evaluate(HTML_OVERFLOW, TOL)
    assert problems == [], problems


def test_internals_titles_neither_overlap_nor_leave_the_chart(
    sized_page: Any, url: str, shots: pathlib.Path
) -> None:
    page = sized_page
    # Adam (the 4th default optimizer) at step 5: every moment panel has its title.
    open_page(page, f"{url}/playground?focus=3&scrub=5&pg.tab=Internals")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3")
    wait_idle(page)
    charts = page.locator(".js-plotly-plot")
    problems = charts_problems(page, charts, shots, "internals")
    assert problems == [], "\n".join(problems)


def test_compare_panel_titles_are_clear_of_the_frames(sized_page: Any, url: str, shots: pathlib.Path) -> None:
    page = sized_page
    open_page(page, f"{url}/compare")
    charts = page.locator(".js-plotly-plot").filter(has_text="same start, same steps")
    assert charts.count() == 1
    problems = charts_problems(page, charts, shots, "compare_panels")
    assert problems == [], "\n".join(problems)


# --- exported files ----------------------------------------------------------------------------


def _loss_figures() -> dict[str, Any]:
    """The Playground's loss figure as downloaded: the default setup, and eight optimizers."""
    from optim_core import OPTIMIZERS
    from playground import exports
    from playground.compute import run_setup
    from playground.setup import OptimizerEntry, Setup
    from viz.colors import resolve_colors

    many = Setup(steps=120, optimizers=tuple(OptimizerEntry.default(n) for n in list(OPTIMIZERS)[:8]))
    out = {}
    for name, setup in (("default", Setup()), ("eight", many)):
        result = run_setup(setup)
        colors = resolve_colors(len(setup.optimizers), None)
        surface = setup.resolved_surface()
        out[name] = exports.download_figures(result, surface, dict(setup.surface_params), colors)["loss"]()
    return out


@pytest.fixture(scope="module")
def loss_figures() -> dict[str, Any]:
    return _loss_figures()


_NUM = r"-?\d*\.?\d+(?:[eE]-?\d+)?"


def _mul(a: list[float], b: list[float]) -> list[float]:
    """PDF matrices [a b c d e f]: a then b."""
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def _apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def pdf_text_boxes(pdf: bytes) -> tuple[list[float], list[dict[str, Any]]]:
    """The page's MediaBox and every shown text run: its page-space box (font ascent/descent,
    an approximate 0.5 em per glyph) and the clip rectangle in force when it was drawn.

    Enough of PDF for Chromium's (Skia's) output: q/Q, cm, re + W/W* n, BT/ET, Tf, Tm, Td, Tj.
    """
    media = [float(v) for v in re.search(rb"/MediaBox\s*\[([^\]]*)\]", pdf).group(1).split()]  # type: ignore[union-attr]
    page_box = [media[0], media[1], media[2], media[3]]
    runs: list[dict[str, Any]] = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        start = match.end()
        end = pdf.find(b"endstream", start)
        try:
            content = zlib.decompress(pdf[start:end]).decode("latin-1")
        except zlib.error:
            continue
        if " Tf" not in content:
            continue
        ctm = [1.0, 0, 0, 1.0, 0, 0]
        clip = list(page_box)
        stack: list[tuple[list[float], list[float]]] = []
        operands: list[str] = []
        pending_rect: list[float] | None = None
        size, tm, line = 12.0, [1.0, 0, 0, 1.0, 0, 0], [1.0, 0, 0, 1.0, 0, 0]
        for tok in re.findall(r"<[0-9A-Fa-f]*>|\([^)]*\)|/[^\s/<>\[\]()]+|[^\s<>\[\]()/]+|\[|\]", content):
            if re.fullmatch(_NUM, tok) or tok.startswith(("/", "<", "(")) or tok in "[]":
                operands.append(tok)
                continue
            nums = [float(v) for v in operands if re.fullmatch(_NUM, v)]
            if tok == "q":
                stack.append((list(ctm), list(clip)))
            elif tok == "Q" and stack:
                ctm, clip = stack.pop()
            elif tok == "cm":
                ctm = _mul(nums[-6:], ctm)
            elif tok == "re":
                x, y, w, h = nums[-4:]
                corners = [_apply(ctm, x + dx, y + dy) for dx in (0, w) for dy in (0, h)]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                pending_rect = [min(xs), min(ys), max(xs), max(ys)]
            elif tok in ("W", "W*") and pending_rect is not None:
                clip = [
                    max(clip[0], pending_rect[0]),
                    max(clip[1], pending_rect[1]),
                    min(clip[2], pending_rect[2]),
                    min(clip[3], pending_rect[3]),
                ]
            elif tok == "BT":
                tm, line = [1.0, 0, 0, 1.0, 0, 0], [1.0, 0, 0, 1.0, 0, 0]
            elif tok == "Tf":
                size = nums[-1]
            elif tok == "Tm":
                tm = line = nums[-6:]
            elif tok == "Td":
                line = _mul([1.0, 0, 0, 1.0, nums[-2], nums[-1]], line)
                tm = line
            elif tok in ("Tj", "TJ"):
                glyphs = sum((len(v) - 2) // 4 for v in operands if v.startswith("<"))
                m = _mul(tm, ctm)
                # Text space: y up from the baseline (Chromium flips with Tm's -1, m handles it).
                corners = [
                    _apply(m, x, y) for x in (0, 0.5 * size * glyphs) for y in (-0.2 * size, 0.75 * size)
                ]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                runs.append(dict(box=[min(xs), min(ys), max(xs), max(ys)], clip=list(clip), size=size))
            if tok not in ("re", "W", "W*"):
                pending_rect = None  # a rectangle clips only when W follows it at once
            operands = []
    return page_box, runs


def inside(box: list[float], outer: list[float], tol: float = 0.5) -> bool:
    return (
        box[0] >= outer[0] - tol
        and box[1] >= outer[1] - tol
        and box[2] <= outer[2] + tol
        and box[3] <= outer[3] + tol
    )


@pytest.mark.parametrize("which", ["default", "eight"])
def test_exported_pdf_keeps_every_text_and_the_whole_legend(loss_figures: dict[str, Any], which: str) -> None:
    from viz import export as vx

    fig = loss_figures[which]
    pdf = vx.to_pdf(fig)
    page_box, runs = pdf_text_boxes(pdf)
    legend_names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    legend_runs = [r for r in runs if abs(r["size"] - 13) < 0.5]  # the legend's 13 px font
    assert len(legend_runs) >= len(legend_names), (len(legend_runs), legend_names)
    cut = [r for r in runs if not (inside(r["box"], page_box) and inside(r["box"], r["clip"]))]
    assert cut == [], f"{len(cut)} of {len(runs)} text runs cut off by the page: {cut[:3]} (page {page_box})"


LEGEND_LAYOUT = """async ([fig, w, h]) => {
  const gd = document.createElement('div');
  document.body.appendChild(gd);
  await Plotly.newPlot(gd, fig.data, {...fig.layout, width: w, height: h}, {staticPlot: true});
  return gd;
}"""


@pytest.mark.parametrize("which", ["default", "eight"])
def test_exported_png_layout_keeps_the_whole_legend(
    browser: Any, loss_figures: dict[str, Any], which: str
) -> None:
    """Kaleido draws the PNG with this plotly.js at the export size: lay it out the same way in
    Chromium and check the legend lies inside the image and clear of every other text."""
    import io

    import plotly
    from PIL import Image

    from viz import export as vx

    fig = vx.for_export(loss_figures[which])
    width = int(fig.layout.width or vx.DEFAULT_WIDTH)
    height = int(fig.layout.height or vx.DEFAULT_HEIGHT)
    png = Image.open(io.BytesIO(vx.to_png(fig)))
    assert png.size == (2 * width, 2 * height)
    plotly_js = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    context = browser.new_context(viewport={"width": width + 40, "height": height + 40})
    try:
        page = context.new_page()
        page.set_content("<html><body style='margin:0'></body></html>")
        page.add_script_tag(path=str(plotly_js))
        gd = page.evaluate_handle(LEGEND_LAYOUT, [fig.to_plotly_json(), width, height])
        chart = gd.evaluate(CHART_TEXTS)
        legend = gd.evaluate(
            """gd => { const s = gd.querySelector('.main-svg').getBoundingClientRect();
                       const r = gd.querySelector('.legend').getBoundingClientRect();
                       return [r.left - s.left, r.top - s.top, r.right - s.left, r.bottom - s.top]; }"""
        )
    finally:
        context.close()
    assert inside(legend, [0, 0, width, height]), (legend, width, height)
    legend_texts = [t for t in chart["texts"] if t["kind"] == "legend"]
    names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    assert len(legend_texts) == len(names)
    problems = chart_problems(chart, f"exported {which} loss figure")
    assert problems == [], "\n".join(problems)
