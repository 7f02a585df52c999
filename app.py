"""Streamlit entry point: page config, the sign-in gate (shared mode) and routing only (pages stay
thin; no TensorFlow here)."""

import streamlit as st

import ui

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/tune:"),
    st.Page("app_pages/experiment.py", title="Experiment", icon=":material/science:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/pending_actions:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/scatter_plot:"),
    st.Page("app_pages/run_detail.py", title="Run detail", icon=":material/search:"),
]

st.set_page_config(
    page_title="Pruning trade-offs", page_icon=":material/content_cut:", layout="wide"
)
# Shared mode: nothing but the sign-in until the visitor signs in (a deep link is kept through it).
ui.access.sidebar(ui.access.gate(PAGES))
st.navigation(PAGES).run()
