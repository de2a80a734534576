"""Figure builders (data in, go.Figure out) and exports. No Streamlit here: pages show figures."""
