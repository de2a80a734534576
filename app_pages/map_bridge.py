"""The Paths map's bridge to the server: where the live scrub's thumb was released, and where
the map was clicked.

Both happen in the browser without a round trip: the scrub moves paths through Plotly frames
(`viz.scrub`), and the map is a picture under a transparent heatmap (`viz.contour`,
CLICK_LAYER_NAME) that Streamlit's selection does not report. This small component (no
visible element) listens to the map's Plotly events and reports, once each:

- the scrub's step index when the thumb is released (or a key press has left it still for a
  moment): the page then sets the real hyperparameter slider, and with it the link;
- the point of a click on the map (not on a path): the page starts every optimizer there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import streamlit as st

from viz.contour import CLICK_LAYER_NAME
from viz.scrub import SCRUB_SLIDER_NAME

_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  let stopped = false;
  let timer = null;
  function findChart() {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (typeof gd.on !== 'function') continue;
      if ((gd.data || []).some((t) => t.name === data.layer)) return gd;
    }
    return null;
  }
  function bind() {
    if (stopped) return;
    const gd = findChart();
    if (!gd) { setTimeout(bind, 100); return; }  // the chart is drawn after this element
    const old = gd.__mapBridge;
    if (old) {
      if (old.token === data.token) return;
      for (const [name, fn] of old.handlers) gd.removeListener(name, fn);
    }
    let dragging = false;
    const send = (step) => {
      clearTimeout(timer);
      setTriggerValue('released', { index: Number(step.value), token: data.token });
    };
    const ours = (e) => e && e.slider && e.slider.name === data.slider;
    const handlers = [
      ['plotly_sliderstart', (e) => { if (ours(e)) dragging = true; }],
      ['plotly_sliderend', (e) => { if (!ours(e)) return; dragging = false; if (e.step) send(e.step); }],
      // A key press moves the thumb without start/end events: report it once it rests.
      ['plotly_sliderchange', (e) => {
        if (!ours(e) || dragging || !e.interaction || !e.step) return;
        clearTimeout(timer);
        timer = setTimeout(() => send(e.step), 400);
      }],
      // Where the pointer was, in data units: a click near a path counts too (the event's
      // points then name the path, not the layer under it).
      ['plotly_click', (e) => {
        const layout = gd._fullLayout;
        const area = gd.querySelector('.nsewdrag');
        if (!e || !e.event || !layout || !area) return;
        const box = area.getBoundingClientRect();
        const x = layout.xaxis.p2d(e.event.clientX - box.left);
        const y = layout.yaxis.p2d(e.event.clientY - box.top);
        setTriggerValue('clicked', { x: Number(x), y: Number(y) });
      }],
    ];
    for (const [name, fn] of handlers) gd.on(name, fn);
    gd.__mapBridge = { token: data.token, handlers };
  }
  bind();
  return () => { stopped = true; clearTimeout(timer); };
}
"""

_BRIDGE = st.components.v2.component("optim_playground.map_bridge", js=_JS)


def _payload(state: Any, name: str) -> Any:
    return state.get(name) if isinstance(state, Mapping) else getattr(state, name, None)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def released_index(state: Any, token: str, count: int) -> int | None:
    """The step index a release reported, if it belongs to the scrub now shown (`token`) and is
    one of its `count` steps; anything else from the browser is ignored."""
    payload = _payload(state, "released")
    if not isinstance(payload, Mapping) or payload.get("token") != token:
        return None
    index = _finite(payload.get("index"))
    if index is None or index != int(index):
        return None
    return int(index) if 0 <= int(index) < count else None


def clicked_point(
    state: Any, domain: tuple[tuple[float, float], tuple[float, float]], points: int
) -> tuple[float, float] | None:
    """The point of the map's `points` x `points` click grid nearest a click, if the click is a
    pair of finite numbers inside `domain` (the map's own extent); anything else from the
    browser is ignored."""
    payload = _payload(state, "clicked")
    if not isinstance(payload, Mapping):
        return None
    x, y = _finite(payload.get("x")), _finite(payload.get("y"))
    (x0, x1), (y0, y1) = domain
    if x is None or y is None or not (x0 <= x <= x1 and y0 <= y <= y1):
        return None
    xs, ys = np.linspace(x0, x1, points), np.linspace(y0, y1, points)
    return (float(xs[np.abs(xs - x).argmin()]), float(ys[np.abs(ys - y).argmin()]))


def bridge(key: str, token: str, on_release: Callable[[], None], on_click: Callable[[], None]) -> None:
    """Mount the bridge for the map drawn on this run (`token` names the scrub's values, "" when
    there is no scrub)."""
    _BRIDGE(
        key=key,
        data={"slider": SCRUB_SLIDER_NAME, "layer": CLICK_LAYER_NAME, "token": token},
        on_released_change=on_release,
        on_clicked_change=on_click,
    )
