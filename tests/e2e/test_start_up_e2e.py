"""The first page asks for Plotly's code before its first chart arrives (app_pages.serve), in
Chromium: Streamlit's page loads its Plotly chunk only when a chart arrives, which cost about
1-1.5 s of the first chart after a server start. The timings are bench/bench_app.py (b)."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

CHART = ".js-plotly-plot .main-svg"
PLOTLY_CHUNK = "/static/js/PlotlyChart."


def test_the_page_loads_plotly_once_and_before_the_first_chart_arrives(base_url: str, page: Any) -> None:
    from streamlit.proto import ForwardMsg_pb2

    with urllib.request.urlopen(base_url + "/playground", timeout=30) as response:
        page_html = response.read().decode()
    head = page_html[: page_html.index("</head>")]
    assert f'rel="modulepreload" crossorigin href=".{PLOTLY_CHUNK}' in head

    events: list[tuple[float, str]] = []

    def on_frame(payload: bytes | str) -> None:
        msg = ForwardMsg_pb2.ForwardMsg()
        msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            events.append((time.monotonic(), "element:" + (msg.delta.new_element.WhichOneof("type") or "")))

    def on_request(request: Any) -> None:
        if PLOTLY_CHUNK in request.url:
            events.append((time.monotonic(), "plotly"))

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.on("request", on_request)
    page.goto(base_url + "/playground")
    page.wait_for_selector(CHART, timeout=120_000)
    kinds = [kind for _, kind in sorted(events)]
    assert "element:plotly_chart" in kinds
    assert kinds.index("plotly") < kinds.index("element:plotly_chart"), kinds
    assert kinds.count("plotly") == 1  # the preloaded module is the one the chart used
    assert page.locator('[data-testid="stException"]').count() == 0
