"""The app's own CSS, injected once per page run from app.py (every page shares it).

Each rule set answers one need; keep them small and say why beside each.
"""

from __future__ import annotations

import streamlit as st

# Text that must never be clipped or overlap (issue 11: equations, tables, titles).
TEXT_FIT_CSS = ""

# Phones and narrow windows (issue 11: the map at least 340 px wide on a 390 px phone).
SMALL_SCREEN_CSS = ""

# Contrast and other accessibility fixes (issue 11: axe-core 0 serious, text contrast >= 4.5:1).
ACCESSIBLE_CSS = ""


def inject() -> None:
    """Add the app's CSS to the page (an invisible element)."""
    css = "\n".join(part for part in (TEXT_FIT_CSS, SMALL_SCREEN_CSS, ACCESSIBLE_CSS) if part.strip())
    if css:
        st.html(f"<style>\n{css}\n</style>")
