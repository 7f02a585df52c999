"""Home: what the tool does, and three doors — learn, explore, run an experiment."""

import streamlit as st

import ui

ui.start_page()

st.title("Pruning trade-offs")
st.markdown(
    "How far can a network shrink before it stops being good enough? This tool prunes Keras models "
    "(EfficientNet by default) with different criteria, fine-tunes them and **measures** what "
    "you gain — "
    "size, FLOPs, latency on CPU and on-device — and what it costs in accuracy. Nothing here is "
    "estimated "
    "without saying so."
)
doors = st.columns(3)
for column, (page, title, icon, text) in zip(
    doors,
    [
        (
            "app_pages/learn.py",
            "Learn",
            ":material/school:",
            "What pruning does, in five small interactive pictures: magnitude, Fisher, channels, "
            "schedules, "
            "fine-tuning. Ten minutes, no waiting.",
        ),
        (
            "app_pages/explore.py",
            "Explore",
            ":material/tune:",
            "Move a slider and see every criterion's accuracy against size and latency at once, "
            "from a measured "
            "profile of the model.",
        ),
        (
            "app_pages/experiment.py",
            "Run an experiment",
            ":material/science:",
            "Prune, fine-tune and measure for real: any criterion, amount, schedule or channel "
            "budget, in the "
            "background.",
        ),
    ],
):
    with column.container(border=True):
        st.subheader(title)
        st.write(text)
        st.page_link(page, label=f"Open {title}", icon=icon)

st.subheader("Results to look at right away")
jobs = ui.store()
if not jobs.counts().get("completed"):
    st.write(
        "This dashboard has no results yet. The bundled demo results were measured by this "
        "project on "
        "the compact EfficientNet and the digits dataset; load them to see Compare, Run detail "
        "and Explore "
        "with real curves now, and remove them whenever you like."
    )
ui.demo_panel("home")
