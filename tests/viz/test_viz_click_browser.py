"""The clickable contour in a real browser: a click lands on the invisible grid as a selection
(what st.plotly_chart(on_select="rerun", selection_mode="points") reports), paths stay visible."""

from __future__ import annotations

import plotly.io as pio
import pytest

from viz import figures as F

pytestmark = [pytest.mark.e2e]  # the root conftest's `browser` fails (never skips) without Chromium

LISTEN = """<script>
var gd = document.getElementById('plot'); window.events = [];
gd.on('plotly_selected', function (e) { if (e) window.events.push(
    e.points.map(function (p) { return {c: p.curveNumber, x: p.x, y: p.y}; })); });
</script></body>"""


def test_click_on_the_map_selects_a_grid_point(tmp_path, four_runs, rosenbrock, browser):
    fig = F.contour_figure(rosenbrock, four_runs[:3])
    fig.update_layout(width=700, height=640)
    page_file = tmp_path / "click.html"
    html = pio.to_html(fig, include_plotlyjs=True, full_html=True, div_id="plot")
    page_file.write_text(html.replace("</body>", LISTEN), encoding="utf-8")
    grid_index = [t.name for t in fig.data].index(F.CLICK_GRID_NAME)
    context = browser.new_context(viewport={"width": 800, "height": 700})
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg")
        target = page.evaluate("""() => {
            var gd = document.getElementById('plot'), r = gd.getBoundingClientRect();
            var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return {x: r.left + xa._offset + xa.l2p(0.5), y: r.top + ya._offset + ya.l2p(-0.4)};
        }""")
        page.mouse.click(target["x"], target["y"])
        page.wait_for_function("window.events.length > 0", timeout=5000)
        points = page.evaluate("window.events[0]")
        opacities = page.evaluate("""() => Array.from(
            document.querySelectorAll('.scatterlayer .trace')).map(function (t) {
                var pts = t.querySelectorAll('.point');
                return pts.length ? parseFloat(getComputedStyle(pts[0]).opacity) : 1; })""")
    finally:
        context.close()
    assert len(points) == 1 and points[0]["c"] == grid_index
    assert points[0]["x"] == pytest.approx(0.5, abs=0.06)
    assert points[0]["y"] == pytest.approx(-0.4, abs=0.06)
    selection = {
        "selection": {"points": [{"curve_number": points[0]["c"], "x": points[0]["x"], "y": points[0]["y"]}]}
    }
    assert F.clicked_point(fig, selection) == (points[0]["x"], points[0]["y"])
    # no path marker was dimmed by the selection (the grid itself stays invisible: opacity 0)
    visible = [o for o in opacities if o > 0]
    assert visible and min(visible) == 1.0
