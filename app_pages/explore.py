"""Explore: move a sparsity slider and see, at once, what every criterion does before
fine-tuning — measured once per criterion by a background profile, then read without TensorFlow
and without a new job."""

import pandas as pd
import streamlit as st

import ui
from prune_core.errors import PruneError
from prune_core.learn.glossary import HELP
from prune_core.recipe.spec import CRITERIA, RunSpec
from prune_core.results import explore, explore_plots

ui.start_page()
ui.init_form("explore", ui.profiles.EXPLORE_FORM)
state = st.session_state

st.title("Explore")
st.caption(
    "What-if curves measured once per criterion: every level of pruning applied to the trained "
    "baseline with no fine-tuning and scored on the validation split, every layer pruned alone, "
    "and "
    "an automatic per-layer sparsity chosen from those measurements. Moving the slider reads the "
    "stored numbers: nothing is queued until you ask to fine-tune a point."
)

VIEWS = {
    "simple": "Simple: one criterion",
    "full": "Full comparison: every criterion and ranking",
}
simple = (
    st.segmented_control(
        "View",
        list(VIEWS),
        format_func=VIEWS.get,
        key="explore_view",
        help="Simple draws one criterion with its rankings, for a first look or a class; the "
        "full comparison draws every criterion you choose on the same axes.",
    )
    != "full"
)
c1, c2 = st.columns([1, 2])
with c1:
    model, dataset = ui.model_and_data_inputs("explore_")
    pixels = ui.pixels_input(model, "explore_")
CRITERIA_HELP = (
    "magnitude |w|; gradient |∂L/∂w|; taylor |w·∂L/∂w|; fisher ½·F·w²; wanda |w|·‖input‖; "
    "random, the baseline every criterion must beat."
)
if simple:
    criteria = [
        c2.selectbox("Criterion", list(CRITERIA), key="explore_criterion", help=CRITERIA_HELP)
    ]
else:
    criteria = c2.multiselect(
        "Criteria", list(CRITERIA), key="explore_criteria", help=CRITERIA_HELP
    )
if missing := ui.missing_input(model, dataset):
    st.info(missing)
    st.stop()
if not ui.show_what_was_read(model, dataset, c1, pixels):
    st.stop()
try:
    base = RunSpec.of(model=model, dataset=dataset, pixels=pixels)
except PruneError as exc:
    st.error(ui.escape_md(str(exc).capitalize()))
    st.stop()
if not criteria:
    st.info("Choose at least one criterion.")
    st.stop()

profile, pending = ui.profiles.profiles_for(base, criteria)
have = set(profile.criteria) if profile else set()
demo_profiles = sorted(
    name for name, job in ui.profiles.newest_profiles(base, criteria).items() if job.demo
)
if demo_profiles:
    c2.caption(
        f":orange-badge[demo] The profiles of {', '.join(demo_profiles)} are bundled demo "
        f"results, measured by "
        "this project on the same model and data (remove the demo on Home to measure your own)."
    )
missing = [c for c in criteria if c not in have and c not in pending]
for name, error in ui.profiles.failed_profiles(base, missing).items():
    c2.error(f"The last profile of {name} did not finish: {ui.escape_md(error)}")
if missing:
    c2.info(
        f"Not profiled yet on this model and data: {', '.join(missing)}. A profile is one "
        "background job per criterion (about a minute each on the compact EfficientNet and "
        "digits, after the baseline is trained once)."
    )
    if note := ui.baseline_note([base]):
        c2.caption(f":material/model_training: {ui.escape_md(note)}")
    if c2.button(f"Profile {', '.join(missing)}", type="primary"):
        with c2:
            if ui.queue([base.with_(strategy=c) for c in missing], kind="profile"):
                st.rerun()


@st.fragment(run_every=2.0 if pending else None)
def pending_profiles():
    live = {j.id: j for j in ui.store().list(status=("queued", "running")) if j.kind == "profile"}
    for name, job in pending.items():
        job = live.get(job.id)
        if job is None:
            st.rerun()  # finished: show its curves
        fraction, text = ui.progress_text(job)
        if job.status == "queued":
            st.caption(f":material/schedule: profile {name}: queued (job {job.id})")
        elif fraction is None:
            st.caption(f":material/hourglass_top: profile {name}: {text}")
        else:
            st.progress(fraction, text=f"profile {name}: {text}")


if pending:
    with c2:
        pending_profiles()

ui.save_form("explore", ui.profiles.EXPLORE_FORM)
if profile is None:
    ui.demo_panel("explore")  # nothing measured yet: the bundled profiles show at once
    st.stop()

dense = profile.dense
s1, s2, s3 = st.columns([5, 2, 3])
target = s1.slider(
    "Sparsity: share of the prunable weights removed",
    0.0,
    0.98,
    step=0.01,
    format="percent",
    key="explore_sparsity",
    help=HELP["explore_sparsity"],
)
batchnorm = s2.toggle(
    "Re-estimate BN",
    key="explore_batchnorm",
    help="After pruning, re-estimate BatchNorm's running statistics on training images (no "
    "weight changes, a fraction of a second; runs do it too before fine-tuning). Off: the "
    "masks alone.",
)
if simple:  # one criterion: all its rankings, told apart by their line styles
    scopes = ["auto", "global", "layerwise"]
else:
    scopes = s3.multiselect(
        "Ranking",
        ["auto", "global", "layerwise"],
        key="explore_scopes",
        format_func=explore.SCOPE_LABELS.get,
        help=HELP["explore_scopes"],
    )
chosen = [c for c in criteria if c in have]
curves = explore.curves(profile, batchnorm)
curves = curves[curves["criterion"].isin(chosen) & curves["scope"].isin(scopes)]
all_points = explore.points_at(profile, target, batchnorm)
points = (
    all_points[all_points["criterion"].isin(chosen) & all_points["scope"].isin(scopes)]
    if not all_points.empty
    else all_points
)
channels = explore.structured_curves(profile)
channels = channels[channels["criterion"].isin(chosen)] if not channels.empty else channels
latency_ms = explore.dense_latency(profile)
removed = None  # the FLOPs slider's value, where a channel curve was measured
if not channels.empty:
    state["explore_flops"] = min(state["explore_flops"], float(channels["budget_removed"].max()))
    removed = s1.slider(
        "Channels: share of the FLOPs removed (whole channels, a smaller dense model)",
        0.0,
        float(channels["budget_removed"].max()),
        step=0.01,
        format="percent",
        key="explore_flops",
        help=HELP["explore_flops"],
    )
    channel_points = explore.structured_points_at(profile, removed)
    channel_points = (
        channel_points[channel_points["criterion"].isin(chosen)]
        if not channel_points.empty
        else channel_points
    )
    shown_curves = pd.concat([curves, channels], ignore_index=True)
    shown_points = pd.concat(
        [points.assign(litert_ms_predicted=latency_ms), channel_points], ignore_index=True
    )
else:
    shown_curves, shown_points = curves, points
finetuned = ui.profiles.finetuned_frame(base, chosen)
low = min(shown_curves["top1"].min(), dense["top1"]) if not shown_curves.empty else 0.0
y_range = (max(0.0, low - 0.03), 1.01)

# What the charts show beyond the completed jobs (a class on the defaults builds them once).
shown = (base.baseline_key(), tuple(criteria), tuple(chosen), tuple(scopes), batchnorm, target)
shown += (removed,)
left, right = st.columns(2)
left.plotly_chart(
    ui.shared_figure(
        lambda: explore_plots.explore_curves(
            shown_curves,
            shown_points,
            "gzip_bytes",
            dense=dense,
            finetuned=finetuned,
            y_range=y_range,
        ),
        "explore",
        "gzip_bytes",
        *shown,
    ),
    width="stretch",
)
if latency_ms is not None:
    right.plotly_chart(
        ui.shared_figure(
            lambda: explore_plots.explore_curves(
                shown_curves,
                shown_points,
                "litert_ms_predicted",
                dense=dense,
                finetuned=finetuned,
                y_range=y_range,
                dense_x=latency_ms,
            ),
            "explore",
            "litert_ms_predicted",
            *shown,
        ),
        width="stretch",
    )
    speed_note = (
        f"On the right, LiteRT latency as the per-layer table predicts it (dense "
        f"{latency_ms:.3f} ms): "
        "only removing channels moves it; unstructured zeros leave dense kernels as slow as before "
        "(measured: Compare and the Deploy benchmark), so every unstructured point sits on the "
        "dense line."
    )
else:
    right.plotly_chart(
        explore_plots.explore_curves(
            curves, points, "theoretical_speedup", dense=dense, finetuned=finetuned, y_range=y_range
        ),
        width="stretch",
    )
    speed_note = (
        "On the right, the speedup hardware that skips zeros could reach; dense kernels on this "
        "CPU do "
        "not skip them (Compare shows the measured latency)."
    )
st.caption(
    "Lines: solid = automatic per layer, dotted = global ranking, dashed = uniform per layer, "
    "dash-dot = whole channels removed by one global ranking, long dashes = whole channels "
    "allocated per group from their measured sensitivity. Dense: top-1 "
    f"{dense['top1']:.1%} on the validation split, "
    f"{ui.bytes_text(dense['gzip_bytes'])} gzipped. {speed_note} Crosses: runs fine-tuned from "
    f"the same "
    "baseline (test split)."
)

if not points.empty:
    shown = points.assign(ranking=points["scope"].map(explore.SCOPE_LABELS)).sort_values(
        "top1", ascending=False
    )
    st.dataframe(
        shown[
            ["criterion", "ranking", "top1", "gzip_bytes", "nonzero_params", "theoretical_speedup"]
        ],
        hide_index=True,
        placeholder="–",
        width="stretch",
        column_config={
            "top1": st.column_config.NumberColumn(
                f"top-1 before fine-tuning, {target:.0%}", format="percent"
            ),
            "gzip_bytes": st.column_config.NumberColumn("gzip bytes", format="%,d"),
            "nonzero_params": st.column_config.NumberColumn("nonzero parameters", format="%,d"),
            "theoretical_speedup": st.column_config.NumberColumn(
                "theoretical speedup", format="%.2f×"
            ),
        },
    )
if not channels.empty and not channel_points.empty:
    st.dataframe(
        channel_points.assign(
            ranking=channel_points["scope"].map(explore.CHANNEL_LABELS)
        ).sort_values("top1", ascending=False)[
            ["criterion", "ranking", "top1", "gzip_bytes", "params", "litert_ms_predicted"]
        ],
        hide_index=True,
        placeholder="–",
        width="stretch",
        column_config={
            "top1": st.column_config.NumberColumn(
                f"top-1 before fine-tuning, {removed:.0%} of FLOPs removed", format="percent"
            ),
            "gzip_bytes": st.column_config.NumberColumn("gzip bytes", format="%,d"),
            "params": st.column_config.NumberColumn("parameters", format="%,d"),
            "litert_ms_predicted": st.column_config.NumberColumn(
                "LiteRT ms (predicted)", format="%.3f"
            ),
        },
    )

ui.explore_sections.layers(profile, chosen, target, all_points, simple)
ui.explore_sections.fine_tune_point(base, chosen, channels, target, removed)
