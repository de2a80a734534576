"""Streamlit's floor for bench/bench_app.py (issue 10): one slider, one Plotly line, nothing else.

    .venv/bin/python -m streamlit run bench/floor_app.py

The 200-point line depends on the slider's value, so every release sends and draws a new chart:
the least any Streamlit page can do per slider move, measured beside the Playground in one run.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

value = st.slider("Floor value", 0, 100, 50)
x = np.linspace(0.0, 10.0, 200)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(x * (1 + value / 20)), mode="lines")), width="stretch")
