import streamlit as st

st.title("adam_explained")
st.info("This page is being built.")
