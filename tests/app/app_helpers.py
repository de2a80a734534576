"""Shared helpers of the AppTest suites: open a page of the whole app, find widgets, check."""

from __future__ import annotations

import base64
import json
import pathlib
import re
import time
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WIDGET_KINDS = (
    "slider",
    "select_slider",
    "number_input",
    "selectbox",
    "text_input",
    "toggle",
    "checkbox",
    "multiselect",
    "radio",
    "file_uploader",
    "button",
)


def open_page(page: str, query: dict[str, Any] | None = None, timeout: float = 180) -> AppTest:
    """The whole app (app.py, navigation) opened on `page` with `query` in the URL, as a
    visitor's first request would. The timeout covers a cold first JAX compile."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def finish_job(at: AppTest, job_key: str, timeout_s: float = 300.0) -> AppTest:
    """Rerun (as the page's own polling does) until the background job kept at `job_key` has
    ended and handed over its result."""
    deadline = time.monotonic() + timeout_s
    while job_key in at.session_state:
        assert time.monotonic() < deadline, "the training did not finish in time"
        time.sleep(0.2)
        at.run()
        assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _find(at: AppTest, key: str) -> Any:
    for kind in WIDGET_KINDS:
        for w in at.get(kind):
            if getattr(w, "key", None) == key:
                return w
    return None


CARD_KEY = re.compile(r"^(pg\.e\.\d+)\.")


def widget(at: AppTest, key: str) -> Any:
    """The widget with this session-state key, whatever kind it is.

    A Playground optimizer card draws its widgets only while it is open: a widget of a closed
    card is reached as a user reaches it, by pressing that card's Edit button first.
    """
    found = _find(at, key)
    if found is None and (card := CARD_KEY.match(key)) is not None:
        edit = _find(at, card.group(1) + ".open")
        if edit is not None:
            edit.click().run()
            found = _find(at, key)
    if found is None:
        raise KeyError(f"no widget with key {key!r} on the page")
    return found


def is_map(fig: dict[str, Any]) -> bool:
    """A map of the surface: a vector contour trace, or the surface picture (a layout image)
    under the paths, as the live Playground draws it."""
    return any(t.get("type") == "contour" for t in fig["data"]) or bool(fig["layout"].get("images"))


def figures(at: AppTest) -> list[dict[str, Any]]:
    """Every Plotly figure on the page, as the JSON Streamlit sends to the browser."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def decode(values: Any) -> np.ndarray:
    """Plotly's JSON arrays: plain lists, or typed arrays {'dtype', 'bdata'[, 'shape']}."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        if "shape" in values:
            array = array.reshape([int(s) for s in str(values["shape"]).split(",")])
        return array.astype(float)
    return np.asarray(values, dtype=float)
