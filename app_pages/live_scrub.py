"""The live scrub's bridge: tells the server where the map's slider thumb was released.

The scrub itself happens in the browser (Plotly frames, `viz.scrub`): no rerun while the thumb
moves. This small component (no visible element) listens to that slider and, when the thumb is
released (or a key press has left it still for a moment), reports the step index once; the page
then sets the real hyperparameter slider, and with it the link, to that value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from viz.scrub import SCRUB_SLIDER_NAME

_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  let stopped = false;
  let timer = null;
  function findChart() {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const sliders = (gd.layout && gd.layout.sliders) || [];
      if (typeof gd.on === 'function' && sliders.some((s) => s.name === data.slider)) return gd;
    }
    return null;
  }
  function bind() {
    if (stopped) return;
    const gd = findChart();
    if (!gd) { setTimeout(bind, 100); return; }  // the chart is drawn after this element
    const old = gd.__liveScrub;
    if (old) {
      if (old.token === data.token) return;
      for (const [name, fn] of old.handlers) gd.removeListener(name, fn);
    }
    let dragging = false;
    const send = (step) => {
      clearTimeout(timer);
      setTriggerValue('released', { index: Number(step.value), token: data.token });
    };
    const handlers = [
      ['plotly_sliderstart', () => { dragging = true; }],
      ['plotly_sliderend', (e) => { dragging = false; if (e && e.step) send(e.step); }],
      // A key press moves the thumb without start/end events: report it once it rests.
      ['plotly_sliderchange', (e) => {
        if (dragging || !e || !e.interaction || !e.step) return;
        clearTimeout(timer);
        timer = setTimeout(() => send(e.step), 400);
      }],
    ];
    for (const [name, fn] of handlers) gd.on(name, fn);
    gd.__liveScrub = { token: data.token, handlers };
  }
  bind();
  return () => { stopped = true; clearTimeout(timer); };
}
"""

_BRIDGE = st.components.v2.component("optim_playground.live_scrub", js=_JS)


def released_index(state: Any, token: str, count: int) -> int | None:
    """The step index a release reported, if it belongs to the scrub now shown (`token`) and is
    one of its `count` steps; anything else from the browser is ignored."""
    payload = state.get("released") if isinstance(state, Mapping) else getattr(state, "released", None)
    if not isinstance(payload, Mapping) or payload.get("token") != token:
        return None
    index = payload.get("index")
    if isinstance(index, bool) or not isinstance(index, (int, float)) or not math.isfinite(index):
        return None
    if index != int(index):
        return None
    return int(index) if 0 <= int(index) < count else None


def bridge(key: str, token: str, on_release: Callable[[], None]) -> None:
    """Mount the bridge for the live-scrub map drawn on this run (`token` names its values)."""
    _BRIDGE(key=key, data={"slider": SCRUB_SLIDER_NAME, "token": token}, on_released_change=on_release)
