"""Run detail: what one run did — training curves, per-layer sparsity, weight and score
distributions, the recipe as a CLI command, and the pruned model."""
from pathlib import Path

import streamlit as st

import ui
from prune_core import cli, plots

st.title("Run detail")
completed = ui.store().list(status=("completed",))
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
c[2].metric("sparsity", f"{r['achieved_sparsity']:.3f}",
            f"target {r['target_sparsity']:.2f}" if r.get("target_sparsity") is not None else "threshold mode")
c[3].metric("gzip size", ui.bytes_text(r["gzip_bytes"]),
            f"{100 * (r['gzip_bytes'] / r['dense_gzip_bytes'] - 1):+.0f} % vs dense" if r.get("dense_gzip_bytes")
            else None, delta_color="inverse")
c[4].metric("latency, batch 1", f"{r['latency_ms_b1_p50']:.2f} ms",
            f"{100 * (r['latency_ms_b1_p50'] / r['dense_latency_ms_b1_p50'] - 1):+.0f} % vs dense"
            if r.get("dense_latency_ms_b1_p50") else None, delta_color="inverse",
            help=f"Theoretical speedup from skipping zeros: {r['theoretical_speedup']:.2f}× "
                 "(dense / nonzero FLOPs). Dense kernels do not skip zeros, so measured latency barely moves.")

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

st.markdown("**Recipe**")
st.code(cli.command_for(job.spec), language="bash")
path = Path(r.get("model_path", ""))
if path.is_file():
    st.download_button("Download the pruned model (.keras)", path.read_bytes(), f"pruned-job{job.id}.keras")
