"""Shared helpers of the AppTest suites: open a page of the whole app, find widgets, check."""

from __future__ import annotations

import base64
import json
import pathlib
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


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def widget(at: AppTest, key: str) -> Any:
    """The widget with this session-state key, whatever kind it is."""
    for kind in WIDGET_KINDS:
        for w in at.get(kind):
            if getattr(w, "key", None) == key:
                return w
    raise KeyError(f"no widget with key {key!r} on the page")


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
