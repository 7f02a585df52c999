"""Run detail: what one run did — training curves, per-layer sparsity, weight and score
distributions, the recipe as a CLI command, and the pruned model."""

from pathlib import Path

import streamlit as st

import ui
from prune_core import paths
from prune_core.data.preflight import class_count
from prune_core.errors import PruneError
from prune_core.learn.glossary import HELP
from prune_core.measured import (
    EXPORT_MINUTES,
    FASTEST_ROUND_REPEATS,
    MEDIAN_MOVES,
    SINGLE_TIMING_NOISE,
)
from prune_core.results import diagnosis, plots
from prune_core.results.deployment import FORMAT, FORMATS
from prune_core.results.headline import speed_headline
from prune_core.results.tables import deploy_table, stage_table
from prune_core.timing import MIN_ROUND_MS, REPEATS, ROUNDS

who = ui.start_page()

st.title("Run detail")
completed = ui.completed_runs()
if not completed:
    st.info("No completed runs yet. Queue one on the Experiment page.")
    st.stop()

by_id = {j.id: j for j in completed}
wanted = st.query_params.get("job")
ids = list(by_id)
index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in by_id else 0
job_id = st.selectbox(
    "Run", ids, index=index, format_func=lambda i: ui.job_title(by_id[i]), help=HELP["run"]
)
job = by_id[job_id]
r = job.run_result
if job.demo:
    st.info(
        "A bundled demo result: measured by this project's own commands on the compact "
        "EfficientNet and digits (README, \u201cThe dashboard\u201d), not on this machine. Its "
        "numbers are real; there is no model file to download.",
        icon=":material/info:",
    )
for warning in diagnosis.warnings(r, class_count(job.spec.baseline.dataset)):
    st.warning(warning, icon=":material/warning:")


#: This run's export, while it is queued or running: the page follows it and shows its numbers
#: when it has completed.
exporting = [
    j
    for j in ui.store().list(status=("queued", "running"))
    if j.kind == "export" and j.parent == job.id
]


@st.fragment(run_every=2.0)
def export_progress(export_id: int) -> None:
    live = ui.store().get(export_id)
    if live is None or live.status not in ("queued", "running"):
        st.rerun()  # finished: the whole page again, with the export's numbers
    if live.status == "queued":
        st.caption(f":material/schedule: Export queued (job {live.id}); it starts shortly.")
        return
    fraction, text = ui.progress_text(live)
    st.caption(f":material/hourglass_top: Exporting (job {live.id}): {text}")


def _vs_dense(ratio):
    return f"{100 * (ratio - 1):+.0f} % vs dense" if ratio else None


c = st.columns(5)
c[0].metric(
    "top-1", f"{r.top1:.2%}", f"{100 * (r.top1 - r.dense.top1):+.2f} pp vs dense", help=HELP["top1"]
)
c[1].metric(
    "before fine-tune",
    f"{r.top1_before_finetune:.2%}",
    help="Measured right after the first pruning event, on the model that is then fine-tuned "
    "(gradual schedules: at their first, smallest sparsity).",
)
c[2].metric(
    f"{r.unit} removed" if r.structured else "weight sparsity",
    f"{r.achieved:.1%}",
    f"target {r.target:.0%}" if r.target is not None else "threshold mode",
    help=None
    if not r.structured
    else "Weights left are dense: "
    + "; ".join(
        f"{name} {value:.1%}"
        for name, value in (
            ("weight sparsity", r.weight_sparsity),
            ("parameters removed", r.params_removed),
        )
        if value is not None
    )
    + ".",
)
c[3].metric(
    "gzip size",
    ui.bytes_text(r.gzip_bytes),
    _vs_dense(r.ratio("gzip_bytes")),
    delta_color="inverse",
    help=HELP["gzip"],
)
why = (
    " Whole channels were removed: a smaller dense model, so measured latency falls (Keras on "
    "this CPU is overhead-bound at small sizes; LiteRT after export is what a device runs)."
    if r.structured
    else f" Theoretical speedup from skipping zeros: {r.theoretical_speedup:.2f}× (dense / "
    "nonzero FLOPs). Dense kernels do not skip zeros, so measured latency barely moves."
)
speed = speed_headline(r)
if speed is not None:  # the best measured verdict: LiteRT when exported, else Keras
    c[4].metric(
        speed.short_label,
        speed.value,
        f"{speed.verdict if speed.moved else 'within noise'} · {speed.band}",
        delta_color=("inverse" if "slower" in speed.verdict else "normal")
        if speed.moved
        else "off",
        delta_arrow="off",
        help=f"{speed.label}: {speed.verdict}. " + speed.note + why,
    )
else:  # a result from before runs were timed against dense: one timing, ±noise
    ratio = r.ratio("latency_ms_b1_p50")
    c[4].metric(
        "latency, batch 1",
        f"{r.latency_ms_b1_p50:.2f} ms",
        f"{100 * (ratio - 1):+.0f} % vs dense (one timing)" if ratio else None,
        delta_color="off",
        delta_arrow="off",
        help="Timed once, not against the dense model: differences under "
        f"±{SINGLE_TIMING_NOISE:.0%} are noise on this machine." + why,
    )

notes = []
if r.pattern_violations is not None:
    pattern = job.spec.pruning.sparsity_pattern
    notes.append(
        f"{pattern} after fine-tuning: "
        + (
            f"every group of {pattern.m} input weights holds at least {pattern.n} zeros."
            if r.pattern_violations == 0
            else f"**{r.pattern_violations:,} groups** hold fewer than {pattern.n} zeros."
        )
    )
if r.regrown_weights is not None:
    notes.append(
        f"RigL moved {r.regrown_weights:,} weights during fine-tuning (each regrown at zero)."
    )
for note in notes:
    st.caption(note)
if r.stages:
    st.markdown("**Stages of this combined recipe**")
    st.dataframe(
        stage_table(r),
        hide_index=True,
        placeholder="–",
        width="stretch",
        column_config={
            "top-1": st.column_config.NumberColumn(format="percent"),
            "× smaller than dense (gzip)": st.column_config.NumberColumn(format="%.1f×"),
        },
    )
    st.caption(
        "Top-1 of each cut is measured before fine-tuning; int8 appears once the run is exported."
    )

left, right = st.columns(2)
with left:
    st.markdown("**Fine-tuning**")
    st.plotly_chart(plots.training_curves(r.history), width="stretch")
with right:
    if r.structured:
        st.markdown("**Channels removed per layer**")
        st.plotly_chart(
            plots.layer_bars(r.layer_channels_removed, "share of output channels removed"),
            width="stretch",
        )
    else:
        st.markdown("**Sparsity per layer**")
        st.plotly_chart(plots.layer_bars(r.layer_sparsity, "weight sparsity"), width="stretch")

dist = r.distributions
cols = st.columns(3)
for col, key, title in zip(
    cols,
    ("weights_before", "weights_after", "scores"),
    ("|weights| before", "|weights| after", f"{job.spec.pruning.strategy} scores"),
):
    if dist.get(key):
        col.plotly_chart(
            plots.histogram(
                dist[key],
                threshold=job.spec.pruning.threshold if key == "scores" else None,
                title=title,
            ),
            width="stretch",
        )

st.subheader("Deploy")
if r.litert_ms_predicted:
    measured = r.deployment.get("float", "ms_1t_b1_lo") if r.deployment else None
    dense_predicted = r.dense.litert_ms_predicted
    st.caption(
        f"LiteRT latency predicted by the per-layer table (1 thread, batch 1): "
        f"{r.litert_ms_predicted:.2f} ms, dense {dense_predicted:.2f} ms "
        f"({dense_predicted / r.litert_ms_predicted:.2f}× faster)"
        + (
            f"; measured after export: {measured:.2f} ms."
            if measured
            else "; export to measure it."
        )
    )
if r.deployment is not None:
    st.plotly_chart(plots.format_sizes(r.deployment), width="stretch")
    st.dataframe(
        deploy_table(r),
        hide_index=True,
        placeholder="–",
        width="stretch",
        column_config={"top-1": st.column_config.NumberColumn(format="percent")},
    )
    ship = r.deployment.int8_to_ship()
    if ship == "int8_qat":
        st.info(
            f"For an int8 deployment, take **{FORMAT['int8_qat'].label}**: top-1 "
            f"{r.deployment.get('int8_qat', 'top1'):.2%} against "
            f"{r.deployment.get('int8', 'top1'):.2%} after post-training int8 (float32 "
            f"{r.deployment.get('float', 'top1') or r.top1:.2%}).",
            icon=":material/recommend:",
        )
    elif ship == "int8" and r.deployment.get("int8_qat", "top1") is not None:
        st.caption(
            "Quantization-aware int8 measured no better than post-training int8 here: take the "
            "post-training file (no extra training behind it)."
        )
    st.caption(
        f"LiteRT (ai-edge-litert, XNNPACK) at batch 1: the fastest of {ROUNDS} rounds' medians "
        f"(each round "
        f"at least {REPEATS} invocations and {MIN_ROUND_MS:.0f} ms; interference only ever adds "
        f"time, so the "
        f"fastest round repeats within about {FASTEST_ROUND_REPEATS:.0%} where the median moves "
        f"up to "
        f"{MEDIAN_MOVES:.0%}); at 1 thread each format is timed in alternation with the dense "
        f"float32 "
        f"model, and a speedup is named only when every round agrees (its band leaves 1.0). 'all "
        f"threads' = "
        f"{r.deployment.litert_threads or '?'}. Sparse storage makes the file smaller; it does "
        f"not make this "
        "CPU faster: XNNPACK only has sparse kernels for 1×1 convolutions with at least 2/3 "
        "zeros in particular graph shapes, and turns them off on x86 CPUs with AVX. "
        f"Theoretical speedup from the zeros: {r.theoretical_speedup:.2f}×."
    )
    downloads = st.columns(len(FORMATS))
    for col, fmt in zip(downloads, FORMATS):
        served = (
            paths.servable(str(Path(r.deployment.export_dir) / fmt.filename))
            if r.deployment.export_dir
            else None
        )
        if served is not None:
            col.download_button(
                f"Download {fmt.label} ({Path(fmt.filename).suffix})",
                served.read_bytes(),
                f"job{job.id}-{fmt.filename}",
                key=f"dl-{fmt.key}",
                icon=":material/download:",
            )
else:
    st.write(
        "Not exported yet. Export converts the pruned model to TFLite (float32, sparse storage, "
        "int8 with a representative set from the training split) and measures size, accuracy and "
        f"LiteRT latency in the background — about {EXPORT_MINUTES} minute(s) for the compact "
        "EfficientNet; a larger model takes longer."
    )
    if paths.servable(r.model_path) is None:
        st.caption(
            "This run's model file is not on this dashboard (a demo or imported result), so it "
            "cannot be exported here."
        )
    elif exporting:
        export_progress(exporting[0].id)
    elif not who.may_manage(job.owner):
        st.caption(
            f"Only {ui.escape_md(job.owner or 'the server')} or an admin can export this run."
        )
    elif st.button("Export for deployment", type="primary"):
        try:
            ui.queue_export(job)
            st.rerun()  # shows the export's progress, and its numbers once it has completed
        except PruneError as exc:
            st.error(f"Nothing was queued: {ui.escape_md(exc)}")

st.markdown("**Recipe**")
if who.may_manage(job.owner):
    st.code(job.spec.command(), language="bash")
else:  # its paths are another visitor's files on this server
    st.caption(
        f"{ui.escape_md(job.owner or 'the server')}'s recipe; its command names their files."
    )
# only files in this data directory's run folders, whatever the result says; a private model
# only for its owner and admins
served = paths.servable(r.model_path) if who.may_manage(job.owner) else None
if served is not None:
    st.download_button(
        "Download the pruned model (.keras)", served.read_bytes(), f"pruned-job{job.id}.keras"
    )
