"""Runs: every job with its state and live progress; cancel, retry, delete. Refreshes itself
while jobs are active (and only then)."""
import streamlit as st

import ui
from prune_core.result import Deployment

ui.through_router()

st.title("Runs")
jobs_store = ui.store()
jobs_store.recover()
active = bool(jobs_store.list(status=("queued", "running"), limit=1))


shown = st.select_slider("Show the latest", [25, 50, 100, 200, 500], value=50, key="runs-shown")


@st.fragment(run_every=2.0 if active else None)
def job_table():
    jobs = jobs_store.list(limit=shown)
    if not jobs:
        st.info("No runs yet. Queue one on the Experiment page, or start with the demo sweep: every criterion "
                "at 50, 80 and 90 % sparsity on the default model.")
        ui.demo_button("runs-demo")
        return
    counts = jobs_store.counts()
    if counts.get("queued"):
        ui.resume_queue()  # a submit that raced a dispatcher shutting down must not wait forever
    st.caption(" · ".join(f"{ui.STATUS_ICONS[s]} {s} {n}" for s, n in sorted(counts.items())))
    for job in jobs:
        p = job.progress or {}
        with st.container(border=True):
            head, actions = st.columns([5, 2])
            with head:
                st.markdown(f"**{ui.STATUS_ICONS.get(job.status, '')} job {job.id}** · {job.label} · "
                            f"`{job.spec.model}` on `{job.spec.dataset}`" + (f" · {job.sweep}" if job.sweep else ""))
                if job.status == "running":
                    detail = [p.get("phase", "starting")]
                    if p.get("epochs"):
                        detail.append(f"epoch {p.get('epoch')}/{p.get('epochs')}")
                    if p.get("sparsity") is not None:
                        detail.append(f"sparsity {p['sparsity']:.3f}")
                    if p.get("accuracy") is not None:
                        detail.append(f"train accuracy {p['accuracy']:.3f}")
                    detail.append(f"{job.elapsed:.0f} s")
                    st.progress(min(float(p.get("fraction", 0.0)), 1.0), text=" · ".join(detail))
                elif job.status == "completed" and job.kind == "export" and job.result:
                    exported = Deployment.from_dict(job.result)
                    st.write(f"exported job {job.parent}: TFLite float "
                             f"{ui.bytes_text(exported.get('float', 'bytes') if exported else None)}, int8 "
                             f"{ui.bytes_text(exported.get('int8', 'bytes') if exported else None)} · {job.elapsed:.0f} s")
                elif job.status == "completed" and job.result:
                    st.write(ui.result_line(job))
                elif job.error:
                    st.write(f"{job.status}: {job.error}")
                else:
                    st.write(job.status)
            with actions:
                if job.active:
                    if st.button("Cancel", key=f"cancel-{job.id}", disabled=job.cancel_requested):
                        jobs_store.request_cancel(job.id)
                        st.rerun()
                else:
                    a, b = st.columns(2)
                    if a.button("Retry", key=f"retry-{job.id}"):
                        try:
                            jobs_store.retry(job.id)
                            ui.resume_queue()
                            st.rerun()
                        except ValueError as exc:  # an export whose run was deleted
                            st.error(str(exc))
                    if b.button("Delete", key=f"delete-{job.id}"):
                        jobs_store.delete(job.id)
                        st.rerun()
                if job.status == "completed" and job.kind == "run":
                    st.page_link("pages/run_detail.py", label="Details", query_params={"job": job.id})
    if active and not jobs_store.list(status=("queued", "running"), limit=1):
        st.rerun()  # everything finished: stop polling and show final states


job_table()
