"""Streamlit entry point: page config and routing only (pages stay thin; no TensorFlow here)."""
import streamlit as st

st.set_page_config(page_title="Pruning trade-offs", page_icon="✂️", layout="wide")

navigation = st.navigation([st.Page("pages/home.py", title="Home", icon="🏠", default=True)])
navigation.run()
