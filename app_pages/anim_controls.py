"""One-step controls for the animations: "◀ Step back" and "Step forward ▶" buttons.

Plotly's own buttons can only play, pause or jump to a named frame, never to the frame before
or after the current one. This small component (two HTML buttons) finds the animated chart on
the page by its step slider (`viz.contour.ANIMATION_SLIDER_NAME`), keeps track of the frame it
shows (Plotly's animation and slider events), and on a click animates it one frame back or
forward with the slider's own options: in the browser, with no rerun of the script. The
slider's thumb follows.
"""

from __future__ import annotations

import streamlit as st

from viz.contour import ANIMATION_SLIDER_NAME

_HTML = """
<div class="steps" role="group" aria-label="Step through the animation one frame at a time">
  <button type="button" data-step="-1" aria-label="One step back">◀ Step back</button>
  <button type="button" data-step="1" aria-label="One step forward">Step forward ▶</button>
</div>
"""

_CSS = """
.steps { display: flex; gap: 0.5rem; margin: 0.1rem 0 0.25rem 0; }
.steps button {
  font: inherit; font-size: 0.95rem; color: #222222; background: #ffffff;
  border: 1px solid #8a8a8a; border-radius: 0.4rem; padding: 0.3rem 0.8rem; cursor: pointer;
}
.steps button:hover { border-color: #0072B2; color: #0072B2; }
.steps button:focus-visible { outline: 2px solid #0072B2; outline-offset: 2px; }
"""

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const is3d = (gd) => (gd.data || []).some((t) => t.type === 'scatter3d');
  const slider = (gd) => ((gd.layout || {}).sliders || []).find((s) => s.name === data.slider);
  function findChart() {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (typeof gd.on !== 'function' || !slider(gd)) continue;
      if (is3d(gd) === Boolean(data.three_d)) return gd;
    }
    return null;
  }
  function track(gd) {
    // The frame shown now: set by playing (animatingframe), by the slider, and by our steps.
    if (gd.__stepButtons) return;
    gd.__stepButtons = true;
    gd.on('plotly_animatingframe', (e) => { if (e && e.name != null) gd.__frameNow = String(e.name); });
    gd.on('plotly_sliderchange', (e) => {
      if (e && e.slider && e.slider.name === data.slider && e.step && e.step.args) {
        gd.__frameNow = String(e.step.args[0][0]);
      }
    });
  }
  function step(delta) {
    const gd = findChart();
    const Plotly = window.Plotly;
    if (!gd || !Plotly) return;
    track(gd);
    const s = slider(gd);
    const names = s.steps.map((st) => String(st.args[0][0]));
    let i = names.indexOf(gd.__frameNow);
    if (i < 0) i = Number(s.active) || 0;
    const next = Math.max(0, Math.min(names.length - 1, i + delta));
    gd.__frameNow = names[next];
    Plotly.animate(gd, [names[next]], s.steps[next].args[1]);
  }
  const buttons = [...parentElement.querySelectorAll('button[data-step]')];
  const handlers = buttons.map((b) => {
    const fn = () => step(Number(b.dataset.step));
    b.addEventListener('click', fn);
    return [b, fn];
  });
  const bind = () => { const gd = findChart(); if (gd) track(gd); else timer = setTimeout(bind, 200); };
  let timer = setTimeout(bind, 0);
  return () => {
    clearTimeout(timer);
    for (const [b, fn] of handlers) b.removeEventListener('click', fn);
  };
}
"""

_STEPS = st.components.v2.component("optim_playground.anim_steps", html=_HTML, css=_CSS, js=_JS)


def step_buttons(key: str, three_d: bool = False) -> None:
    """Mount the step buttons for the animated chart of this tab: the 2D animation
    (`animated_contour_figure`), or with `three_d` the animated 3D view
    (`surface3d_figure(..., animate=True)`). They send nothing to the server."""
    _STEPS(key=key, data={"slider": ANIMATION_SLIDER_NAME, "three_d": three_d})
