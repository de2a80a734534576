"""The Paths map's bridge to the server: where the live scrub's thumb was released, and where
the map was clicked.

Both happen in the browser without a round trip: the scrub moves paths through Plotly frames
(`viz.scrub`), and the map is a picture under a transparent heatmap (`viz.contour`,
CLICK_LAYER_NAME) that Streamlit's selection does not report. This small component (no
visible element) listens to the map's Plotly events and reports, once each:

- the scrub's step index when the thumb is released (or a key press has left it still for a
  moment): the page then sets the real hyperparameter slider, and with it the link;
- the point of a click on the map (not on a path): the page starts every optimizer there.

It also makes the open card's own sliders live. For each of them the page names where to fetch
that optimizer's path at every stop of the slider (`preview` entries; computed only once the
pointer or the keyboard comes near that slider: the bridge asks for it with `want`). While the
thumb moves, and at once when it is released, the map redraws that path for the value under
the thumb; the rerun that the release starts then confirms the same picture.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
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
  const undo = [];
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
    bindMap(gd);
    bindPreviews();
  }
  function bindMap(gd) {
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
  // The open card's sliders: each one's stops fetched once it is near the pointer or focused,
  // then the map follows its thumb. A release of any other slider makes these stops stale (they
  // were computed with that slider's old value) until the next run names new ones.
  const fetched = (window.__previewFetched = window.__previewFetched || new Map());
  function bindPreviews() {
    const previews = data.previews || [];
    const sliders = [];
    for (const p of previews) {
      const box = document.querySelector('.' + CSS.escape(p.cls));
      const input = box && box.querySelector('input[type=range]');
      if (!input) continue;
      const s = { p, box, input, stale: false, shown: null, asked: false };
      sliders.push(s);
      const near = () => {
        if (s.stale) return;
        if (!p.url) {
          if (!s.asked) { s.asked = true; setTriggerValue('want', p.hp); }
          return;
        }
        if (!fetched.has(p.url)) {
          if (fetched.size > 8) fetched.delete(fetched.keys().next().value);
          fetched.set(p.url, fetch(p.url).then((r) => (r.ok ? r.json() : null)).catch(() => null));
        }
      };
      const show = () => {
        if (s.stale || !p.url || !fetched.has(p.url)) return;
        fetched.get(p.url).then((stops) => {
          if (!stops || s.stale || stopped) return;
          const raw = Number(input.value);
          let i = -1;
          if (p.kind === 'index') {
            // The slider's options are the stops, in order (else this is not that slider).
            if (Number(input.max) + 1 === stops.values.length) i = raw;
          }
          else {
            let best = Infinity;
            stops.values.forEach((v, k) => {
              const d = Math.abs(v - raw);
              if (d < best) { best = d; i = k; }
            });
            if (best > p.step / 2) i = -1;
          }
          if (!(i >= 0 && i < stops.updates.length) || i === s.shown) return;
          const chart = findChart();  // the page may have drawn the map anew since binding
          if (!chart) return;
          s.shown = i;
          const own = [];
          chart.data.forEach((t, k) => { if (t.legendgroup === stops.group) own.push(k); });
          const next = chart.data.slice();
          stops.updates[i].forEach((u, n) => {
            const k = own[n];
            if (k === undefined) return;
            const t = next[k];
            next[k] = Object.assign({}, t, u, { marker: Object.assign({}, t.marker || {}, u.marker || {}) });
          });
          window.Plotly.react(chart, next, chart.layout);
        });
      };
      const watch = new MutationObserver(show);
      watch.observe(input, { attributes: true, attributeFilter: ['value', 'aria-valuetext'] });
      const released = () => {
        for (const other of sliders) if (other !== s) other.stale = true;
      };
      box.addEventListener('pointerenter', near);
      box.addEventListener('focusin', near);
      box.addEventListener('pointerup', released);
      box.addEventListener('change', released);
      undo.push(() => {
        watch.disconnect();
        box.removeEventListener('pointerenter', near);
        box.removeEventListener('focusin', near);
        box.removeEventListener('pointerup', released);
        box.removeEventListener('change', released);
      });
      if (box.matches(':hover') || box.contains(document.activeElement)) near();
    }
  }
  // One binding of the card sliders at a time, however Streamlit calls this function again.
  if (window.__previewUndo) window.__previewUndo();
  const cleanup = () => { stopped = true; clearTimeout(timer); for (const f of undo) f(); undo.length = 0; };
  window.__previewUndo = cleanup;
  bind();
  return cleanup;
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


def widget_class(widget_key: str) -> str:
    """The CSS class Streamlit gives the element of the widget with key `widget_key`."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", widget_key.strip())


def preview(hparam: str, widget_key: str, log: bool, step: float, url: str | None) -> dict[str, Any]:
    """One card slider the map follows: `url` serves its stops (`viz.scrub.preview_json`), or
    None until the browser asks for them. A log slider reports the index of its option, a
    linear one its value (matched to a stop within half a step)."""
    return {
        "hp": hparam,
        "cls": widget_class(widget_key),
        "kind": "index" if log else "value",
        "step": float(step),
        "url": url,
    }


def wanted(state: Any, allowed: Collection[str]) -> str | None:
    """The hyperparameter whose stops the browser asked for, if it is one of `allowed`."""
    value = _payload(state, "want")
    return value if isinstance(value, str) and value in allowed else None


def bridge(
    key: str,
    token: str,
    on_release: Callable[[], None],
    on_click: Callable[[], None],
    previews: Sequence[Mapping[str, Any]] = (),
    on_want: Callable[[], None] | None = None,
) -> None:
    """Mount the bridge for the map drawn on this run (`token` names the scrub's values, "" when
    there is no scrub; `previews` the open card's sliders, see `preview`)."""
    _BRIDGE(
        key=key,
        data={
            "slider": SCRUB_SLIDER_NAME,
            "layer": CLICK_LAYER_NAME,
            "token": token,
            "previews": list(previews),
        },
        on_released_change=on_release,
        on_clicked_change=on_click,
        on_want_change=on_want if on_want is not None else _ignore,
    )


def _ignore() -> None:
    return None
