"""The app's own CSS, injected once per page run from app.py (every page shares it).

Each rule set answers one need; keep them small and say why beside each.
"""

from __future__ import annotations

import streamlit as st

# Text that must never be clipped or overlap (issue 11: equations, tables, titles).
# The metrics table (app_pages.downloads.METRICS_TABLE_KEY) fits its column: headings wrap
# between words, numbers stay on one line, cells are padded less than Streamlit's default, and
# the font (Streamlit's 0.875rem) shrinks with the column (container query) down to 0.72rem.
TEXT_FIT_CSS = """
.st-key-pg-metrics { container-type: inline-size; }
.st-key-pg-metrics th, .st-key-pg-metrics td {
  padding: 0.3rem 0.45rem;
  font-size: clamp(0.72rem, 2.2cqi, 0.875rem);
}
.st-key-pg-metrics th, .st-key-pg-metrics th * { white-space: normal; overflow-wrap: normal; }
.st-key-pg-metrics th { vertical-align: bottom; }
.st-key-pg-metrics td, .st-key-pg-metrics td * { white-space: nowrap; font-variant-numeric: tabular-nums; }
/* A display equation's box spans its column (Streamlit fits it to the equation, and a rounding
   subpixel then became a scroll bar that hid the equation's last line). */
[data-testid="stMarkdown"] > div:has(.katex-display),
[data-testid="stMarkdownContainer"]:has(> .katex-display) { width: 100%; }
"""

# Phones and narrow windows (issue 11: the map at least 340 px wide on a 390 px phone).
SMALL_SCREEN_CSS = """
@media (max-width: 640px) {
  /* Every tab in sight: the tab row wraps onto a second line instead of scrolling sideways
     behind an arrow (each tab keeps its own underline when selected). */
  [data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; column-gap: 1rem; row-gap: 0.25rem; }
  [data-testid="stTabs"] [role="tablist"] [role="tab"] { flex: 0 0 auto; }
  [data-testid="stTabs"] [role="tablist"] + button,
  [data-testid="stTabs"] button:has(+ [role="tablist"]) { display: none; }
  /* Plotly's tool bar would lie across the chart titles; the downloads have their own tab. */
  .js-plotly-plot .modebar-container { display: none; }
  /* Charts span the screen, edge to edge (ui.chart gives them narrow margins on a phone). */
  .stElementContainer:has([data-testid="stPlotlyChart"]) {
    margin-left: -1rem; margin-right: -1rem; width: calc(100% + 2rem) !important;
    max-width: none;
  }
}
"""

# Contrast and other accessibility fixes (issue 11: axe-core 0 serious, text contrast >= 4.5:1).
ACCESSIBLE_CSS = """
/* Captions at >= 4.5:1 (6:1 here): Streamlit fades them to 60 % opacity, 3.9:1 on white and
   3.8:1 on the sidebar's grey. */
[data-testid="stCaptionContainer"] { color: #5e6067; opacity: 1; }
/* Card buttons named in full for a screen reader, drawn short. A remove button's label
   ("Remove Adam") is read, and a ✕ is drawn in its place (alt text empty: the name stays the
   label); the emphasized part of an edit button's label ("Edit *Adam*") is read, not drawn. */
[class*="st-key-"][class*="-remove"] button [data-testid="stMarkdownContainer"] p,
[class*="st-key-"][class*="-open"] button em {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}
[class*="st-key-"][class*="-remove"] button [data-testid="stMarkdownContainer"]::before {
  content: "✕" / "";
}
"""


def inject() -> None:
    """Add the app's CSS to the page (an invisible element)."""
    css = "\n".join(part for part in (TEXT_FIT_CSS, SMALL_SCREEN_CSS, ACCESSIBLE_CSS) if part.strip())
    if css:
        st.html(f"<style>\n{css}\n</style>")
