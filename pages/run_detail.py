"""Run detail: what one run did — training curves, per-layer sparsity, weight and score
distributions, the recipe as a CLI command, and the pruned model."""
from pathlib import Path

import streamlit as st

import ui
from prune_core import cli, plots
from prune_core.results import deploy_table

st.title("Run detail")
completed = [j for j in ui.store().list(status=("completed",)) if j.kind == "run" and j.result]
if not completed:
    st.info("No completed runs yet. Queue one on the Experiment page.")
    st.stop()

by_id = {j.id: j for j in completed}
wanted = st.query_params.get("job")
ids = list(by_id)
index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in by_id else 0
job_id = st.selectbox("Run", ids, index=index, format_func=lambda i: f"job {i} · {by_id[i].label}")
job = by_id[job_id]
r = job.result

c = st.columns(5)
c[0].metric("top-1", f"{r['top1']:.4f}", f"{100 * (r['top1'] - r['top1_dense']):+.2f} pp vs dense")
c[1].metric("before fine-tune", f"{r['top1_before_finetune']:.4f}")
structured = job.spec.granularity == "structured"
c[2].metric(f"{job.spec.budget} removed" if structured else "sparsity", f"{r['achieved_sparsity']:.3f}",
            f"target {r['target_sparsity']:.2f}" if r.get("target_sparsity") is not None else "threshold mode")
c[3].metric("gzip size", ui.bytes_text(r["gzip_bytes"]),
            f"{100 * (r['gzip_bytes'] / r['dense_gzip_bytes'] - 1):+.0f} % vs dense" if r.get("dense_gzip_bytes")
            else None, delta_color="inverse")
c[4].metric("latency, batch 1", f"{r['latency_ms_b1_p50']:.2f} ms",
            f"{100 * (r['latency_ms_b1_p50'] / r['dense_latency_ms_b1_p50'] - 1):+.0f} % vs dense"
            if r.get("dense_latency_ms_b1_p50") else None, delta_color="inverse",
            help=("Whole channels were removed: a smaller dense model, so measured latency falls (Keras on "
                  "this CPU is noisy and overhead-bound at small sizes; the Deploy section measures LiteRT)."
                  if structured else
                  f"Theoretical speedup from skipping zeros: {r['theoretical_speedup']:.2f}× "
                  "(dense / nonzero FLOPs). Dense kernels do not skip zeros, so measured latency barely moves."))

left, right = st.columns(2)
with left:
    st.markdown("**Fine-tuning**")
    st.plotly_chart(plots.training_curves(r.get("history", [])), use_container_width=True)
with right:
    st.markdown("**Sparsity per layer**")
    st.plotly_chart(plots.layer_sparsity_bars(r.get("layer_sparsity", {})), use_container_width=True)

dist = r.get("distributions", {})
cols = st.columns(3)
for col, key, title in zip(cols, ("weights_before", "weights_after", "scores"),
                           ("|weights| before", "|weights| after", f"{job.spec.strategy} scores")):
    if dist.get(key):
        col.plotly_chart(plots.histogram(dist[key], threshold=job.spec.threshold if key == "scores" else None,
                                         title=title), use_container_width=True)

st.subheader("Deploy")
if r.get("litert_ms_predicted"):
    measured = r.get("litert_1t_ms_b1_p50")
    st.caption(f"LiteRT latency predicted by the per-layer table (1 thread, batch 1): "
               f"{r['litert_ms_predicted']:.2f} ms, dense {r['dense_litert_ms_predicted']:.2f} ms "
               f"({r['dense_litert_ms_predicted'] / r['litert_ms_predicted']:.2f}× faster)"
               + (f"; measured after export: {measured:.2f} ms." if measured else "; export to measure it."))
if r.get("tflite_float_bytes"):
    st.plotly_chart(plots.format_sizes(r), use_container_width=True)
    st.dataframe(deploy_table(r), hide_index=True, use_container_width=True)
    st.caption(f"LiteRT (ai-edge-litert, XNNPACK) at batch 1, p50 over 30 runs; 'all threads' = "
               f"{r.get('litert_threads', '?')}. Sparse storage makes the file smaller; it does not make this CPU "
               "faster: XNNPACK only has sparse kernels for 1×1 convolutions with at least 2/3 zeros in a graph "
               "shape EfficientNet's stem does not meet, and turns them off on x86 CPUs with AVX. "
               f"Theoretical speedup from the zeros: {r['theoretical_speedup']:.2f}×.")
    folder = Path(r.get("export_dir", ""))
    downloads = st.columns(5)
    for col, (name, label) in zip(downloads, (("model.keras", ".keras"), ("model.h5", ".h5"),
                                              ("model-float.tflite", "TFLite float32"),
                                              ("model-sparse.tflite", "TFLite sparse"),
                                              ("model-int8.tflite", "TFLite int8"))):
        if (folder / name).is_file():
            col.download_button(label, (folder / name).read_bytes(), f"job{job.id}-{name}", key=f"dl-{name}")
else:
    st.write("Not exported yet. Export converts the pruned model to TFLite (float32, sparse storage, int8 with "
             "a representative set from the training split) and measures size, accuracy and LiteRT latency — "
             "about a minute on the compact model, in the background.")
    if st.button("Export for deployment", type="primary"):
        ui.store().submit_export(job.id)
        ui.resume_queue()
        st.success("Queued. The numbers appear here when the export job has completed (see Runs).")

st.markdown("**Recipe**")
st.code(cli.command_for(job.spec), language="bash")
path = Path(r.get("model_path", ""))
if path.is_file():
    st.download_button("Download the pruned model (.keras)", path.read_bytes(), f"pruned-job{job.id}.keras")
