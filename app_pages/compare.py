"""Compare: accuracy against size and against latency, side by side, one colour per strategy."""

import streamlit as st

import ui
from prune_core.learn.glossary import HELP
from prune_core.results import frame as results
from prune_core.results import plots
from prune_core.results.demo import SWEEP as DEMO_SWEEP

ui.start_page()

st.title("Compare")
df = ui.completed_frame()
if df.empty:
    st.info(
        "Nothing to compare yet. Completed runs appear here as points: accuracy against model "
        "size and against latency. Start with the demo sweep — every criterion at 50, 80 and "
        "90 % sparsity, and structured runs that really move latency."
    )
    ui.demo_panel("compare")
    ui.demo_button("compare-demo")
    st.stop()

# Opens on what you did last (the newest own run's model and data, the demo hidden once you have
# runs of your own); the filters are kept for the session.
models, datasets = sorted(df["model"].unique()), sorted(df["dataset"].unique())
own = bool((df["sweep"] != DEMO_SWEEP).any())
focus_models, focus_datasets = results.latest_focus(df)
FILTERS = {
    "compare_models": focus_models,
    "compare_datasets": focus_datasets,
    "compare_sweeps": [],
    "compare_hide_demo": own,
}
ui.init_form("compare", FILTERS)
for key, options in (("compare_models", models), ("compare_datasets", datasets)):
    st.session_state[key] = [v for v in st.session_state[key] if v in options] or options
f1, f2, f3, f4 = st.columns(4)
model = f1.multiselect("Model", models, key="compare_models", help=HELP["filter_model"])
dataset = f2.multiselect("Dataset", datasets, key="compare_datasets", help=HELP["filter_dataset"])
hide_demo = f1.toggle(
    "Hide the bundled demo",
    key="compare_hide_demo",
    disabled=not own,
    help="The demo's runs were measured by this project on the compact EfficientNet and digits.",
)
view = df[df["model"].isin(model) & df["dataset"].isin(dataset)]
if hide_demo and own:
    view = view[view["sweep"] != DEMO_SWEEP]
sweeps = sorted(view["sweep"].unique())
st.session_state["compare_sweeps"] = [s for s in st.session_state["compare_sweeps"] if s in sweeps]
chosen_sweeps = f2.multiselect(
    "Sweep",
    sweeps,
    key="compare_sweeps",
    placeholder="every sweep",
    help="Show only these sweeps (a sweep is one submission: the recipes queued together).",
)
if chosen_sweeps:
    view = view[view["sweep"].isin(chosen_sweeps)]
ui.save_form("compare", FILTERS)
if view.empty:
    st.warning("No runs match these filters.")
    st.stop()
size = f3.selectbox(
    "Size axis",
    results.available(view, results.SIZE_AXES),
    format_func=results.AXES.get,
    help="TFLite sizes appear once runs are exported for deployment (Run detail → Deploy).",
)
latency_axes = results.available(view, results.LATENCY_AXES)
lat = f4.selectbox(
    "Latency axis",
    latency_axes,
    format_func=results.AXES.get,
    index=latency_axes.index(results.default_latency_axis(view, latency_axes))
    if latency_axes
    else 0,
    help="Starts on the most faithful latency every run shown has: LiteRT measured (after export), "
    "then LiteRT predicted by the per-layer table, then Keras on this CPU.",
)
dense = results.dense_reference(view)
full = st.toggle(
    "Full accuracy axis (0–100 %)",
    key="compare_full_range",
    help="Off: the accuracy axis is zoomed to the runs shown, where the differences are.",
)
accuracy = (0.0, 1.02) if full else results.accuracy_range(view, dense)

left, right = st.columns(2)
with left:
    st.markdown("**Accuracy vs size**")
    st.plotly_chart(plots.tradeoff(view, size, dense=dense, y_range=accuracy), width="stretch")
with right:
    st.markdown("**Accuracy vs latency**")
    st.plotly_chart(plots.tradeoff(view, lat, dense=dense, y_range=accuracy), width="stretch")

if lat in ("latency_ms_b1_p50", "latency_ms_b32_p50") and results.latency_unchanged(view, lat):
    st.info(
        "Measured latency did not change beyond measurement noise while sparsity changed. That is "
        "expected: unstructured pruning writes zeros into dense kernels, and dense kernels take "
        "as long "
        "to multiply by zero. The size gain shows up in the compressed (gzip) bytes; real "
        "speedups need "
        "structured (channel) pruning or a sparse runtime."
    )

amounts = results.available(view, results.AMOUNT_AXES)
x3 = st.radio(
    "Third chart: accuracy against",
    amounts,
    format_func=results.AXES.get,
    horizontal=True,
    help="Parameters removed compares single-weight and channel pruning on one axis; weight "
    "sparsity "
    "counts zeros (channel pruning leaves none); budget removed counts the FLOPs, parameters or "
    "LiteRT time that channel pruning took away.",
)
st.plotly_chart(plots.tradeoff(view, x3, dense=None, y_range=accuracy), width="stretch")
st.caption(
    "Colour: strategy; circles and solid lines rank per layer, diamonds and dotted lines globally. "
    "Ringed points on the dashed grey line: the Pareto front (no other run is both "
    "smaller/faster and more "
    "accurate). Error bars on a latency: how far its median moves between measurement rounds "
    "(lowest "
    "to highest); runs whose bars overlap count as equally fast. Star and dotted line: the dense "
    "baseline. Hover a point for its whole recipe."
)

st.subheader("Runs")
st.dataframe(results.table(view), hide_index=True, width="stretch")
st.caption(
    "The table shows the main columns; the CSV holds every measured number and each run's recipe."
)
st.download_button(
    "Download CSV",
    view.drop(columns=["hover"]).to_csv(index=False).encode(),
    "pruning-runs.csv",
    "text/csv",
)
