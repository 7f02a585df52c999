"""Compare: accuracy against size and against speed, side by side, one panel per model × dataset
(each with its own dense baseline, accuracy axis and Pareto front); a click opens a run."""

import streamlit as st

import ui
from prune_core.learn.glossary import HELP
from prune_core.results import frame as results
from prune_core.results.demo import SWEEP as DEMO_SWEEP

ui.start_page()

st.title("Compare")
df = ui.completed_frame()
if df.empty:
    st.info(
        "Nothing to compare yet. Completed runs appear here as points: accuracy against model "
        "size and against speed. Start with the demo sweep — every criterion at 50, 80 and "
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
speedups = results.available(view, results.SPEEDUP_AXES)
latencies = results.available(view, results.LATENCY_AXES)
speed_axes = speedups + latencies
first = results.default_speedup_axis(view, speedups) or results.default_latency_axis(
    view, latencies
)
lat = f4.selectbox(
    "Speed axis",
    speed_axes,
    format_func=results.AXES.get,
    index=speed_axes.index(first) if first in speed_axes else 0,
    help="A speedup against the dense model timed beside each run (round by round, so machine "
    "load cancels out), with its band: how far it moved between rounds. LiteRT (after export) "
    "is what a phone or board runs; Keras on this CPU is what the server measured. The "
    "millisecond axes further down are absolute times, which drift between runs measured at "
    "different times.",
)
full = st.toggle(
    "Full accuracy axis (0–100 %)",
    key="compare_full_range",
    help="Off: the accuracy axis is zoomed to the runs shown, where the differences are.",
)
amounts = results.available(view, results.AMOUNT_AXES)
x3 = st.radio(
    "Third chart: accuracy against",
    amounts,
    format_func=results.AXES.get,
    horizontal=True,
    help="Parameters removed compares single-weight and channel pruning on one axis; weight "
    "sparsity counts zeros (channel pruning leaves none); budget removed counts the FLOPs, "
    "parameters or LiteRT time that channel pruning took away.",
)


def clickable(figure, key: str) -> None:
    """A chart whose points open their run's Run detail when clicked."""
    ui.open_selected(
        st.plotly_chart(
            figure, width="stretch", on_select="rerun", selection_mode="points", key=key
        )
    )


def speed_panel(runs, dense, accuracy, key: str) -> None:
    """The speed chart, or one sentence when it would only draw noise."""
    name = results.SPEEDUP_NAMES.get(lat)
    measured = int(runs[lat].notna().sum())
    if name and not results.leaves_noise(runs, lat):
        elsewhere = [
            results.SPEEDUP_NAMES[a]
            for a in results.available(runs, results.SPEEDUP_AXES)
            if a != lat and results.leaves_noise(runs, a)
        ]
        st.info(
            f"No run here is measurably faster or slower than the dense model on {name}: all "
            f"{measured} speedup bands contain 1.0×, so a chart would only draw measurement "
            "noise. Zeros in dense kernels take as long to multiply; speed comes from removing "
            "whole channels (Experiment → Channels)."
            + (f" Some runs do leave the noise on {', '.join(elsewhere)}." if elsewhere else ""),
            icon=":material/speed:",
        )
        return
    clickable(ui.tradeoff_chart(runs, lat, dense=dense, y_range=accuracy), f"speed-{key}")
    if name and measured < len(runs):
        st.caption(
            f"{measured} of {len(runs)} runs have a {name} speedup"
            + (
                " (LiteRT is measured when a run is exported: Run detail → Deploy)."
                if name.startswith("LiteRT")
                else "."
            )
        )
    if lat in ("latency_ms_b1_p50", "latency_ms_b32_p50") and results.latency_unchanged(runs, lat):
        st.caption(
            "Measured latency did not change beyond measurement noise while sparsity changed: "
            "dense kernels take as long to multiply by zero."
        )


panels = results.panels(view)
for number, (model_name, dataset_name, runs) in enumerate(panels):
    if len(panels) > 1:
        st.subheader(f"{model_name} · {dataset_name}", divider="gray")
    dense = results.dense_reference(runs)
    accuracy = (0.0, 1.02) if full else results.accuracy_range(runs, dense)
    key = f"{number}-{model_name}-{dataset_name}"
    left, right = st.columns(2)
    with left:
        st.markdown("**Accuracy vs size**")
        if runs[size].notna().any():
            clickable(ui.tradeoff_chart(runs, size, dense=dense, y_range=accuracy), f"size-{key}")
        else:
            st.caption(f"No run here has {results.AXES[size]}.")
    with right:
        st.markdown("**Accuracy vs speed**")
        if runs[lat].notna().any():
            speed_panel(runs, dense, accuracy, key)
        else:
            st.caption(f"No run here has {results.AXES[lat]}: export one from its Run detail.")
    if x3 and runs[x3].notna().any():
        clickable(ui.tradeoff_chart(runs, x3, dense=None, y_range=accuracy), f"amount-{key}")

st.caption(
    "Colour: strategy; circles and solid lines rank per layer, diamonds and dotted lines globally. "
    "Ringed points on the dashed grey line: the Pareto front (no other run, nor the dense model, "
    "is both smaller/faster beyond measurement noise and more accurate). Error bars: how far a "
    "speedup or latency moved between measurement rounds (lowest to highest). Star and dotted "
    "line: the dense baseline. Click a point, or a table row, to open that run."
)

st.subheader("Runs")
table = results.table(view)
picked = st.dataframe(
    table,
    hide_index=True,
    placeholder="–",
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="compare-table",
)
ui.open_selected(picked, table["job"].tolist())
st.caption(
    "The table shows the main columns; the CSV holds every measured number and each run's recipe."
)
csv_rows = view.drop(columns=["hover"])
st.download_button(
    "Download CSV",
    lambda: csv_rows.to_csv(index=False).encode(),  # written when clicked, not on every rerun
    "pruning-runs.csv",
    "text/csv",
)
