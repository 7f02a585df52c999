"""Small helpers the Streamlit pages share: the job store, submitting, formatting.
Streamlit-side only; never imports TensorFlow."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from prune_core import worker
from prune_core.jobs import JobStore, db_path
from prune_core.specs import RunSpec

STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
                "completed": ":material/check_circle:", "failed": ":material/error:",
                "canceled": ":material/cancel:", "interrupted": ":material/warning:"}


@st.cache_resource(show_spinner=False)
def _store(path: str) -> JobStore:
    return JobStore(Path(path))


def store() -> JobStore:
    """The job store of this $PRUNE_HOME, opened once per server process (each call opens its own
    short-lived SQLite connection, so one store object serves every session)."""
    return _store(str(db_path()))


@st.cache_data(max_entries=4, show_spinner=False)
def _completed_frame(path: str, fingerprint: tuple):
    from prune_core import results

    return results.frame(JobStore(path).list(status=("completed",)))


def completed_frame():
    """Every completed run as a DataFrame; re-read only when the set of completed jobs changes."""
    jobs = store()
    return _completed_frame(str(jobs.path), jobs.fingerprint())


def completed_runs() -> list:
    """Completed run jobs whose result reads as a `RunResult` (others are left out, never a traceback)."""
    from prune_core.result import ResultError

    jobs = []
    for job in store().list(status=("completed",)):
        if job.kind != "run" or not job.result_json:
            continue
        try:
            job.run_result
        except (ResultError, ValueError):
            continue
        jobs.append(job)
    return jobs


def submit(specs: list[RunSpec], sweep: str | None = None) -> list[int]:
    """Queue recipes and make sure a dispatcher is draining the queue."""
    jobs = store()
    ids = [jobs.submit(spec, sweep) for spec in specs]
    resume_queue()
    return ids


def resume_queue() -> None:
    worker.ensure_dispatcher(store().path.parent)


def demo_specs() -> list[RunSpec]:
    """The demo sweep: every criterion at 50 / 80 / 90 % on the default model and data, plus taylor
    removing whole channels (30 and 50 % of the FLOPs), the runs that move latency."""
    return ([RunSpec.of(strategy=s, sparsity=p, scope="global")
             for s in ("magnitude", "taylor", "fisher", "random") for p in (0.5, 0.8, 0.9)]
            + [RunSpec.of(strategy="taylor", sparsity=p, scope="global", granularity="structured") for p in (0.3, 0.5)])


def demo_button(key: str) -> None:
    if st.button("Run the demo sweep", type="primary", key=key,
                 help="magnitude, taylor, fisher and random at 50, 80 and 90 % sparsity, and taylor removing "
                      "whole channels (30 and 50 % of the FLOPs), on the compact EfficientNet and the bundled "
                      "digits (about 15 minutes on 2 cores)"):
        ids = submit(demo_specs(), sweep="demo")
        st.success(f"Queued {len(ids)} runs. Watch them on the Runs page.")


def result_line(job) -> str:
    """One line about a completed run: accuracy against dense, what was pruned, size, time."""
    from prune_core.result import ResultError

    try:
        r = job.run_result
    except (ResultError, ValueError) as exc:
        return f"the stored result cannot be read ({exc})"
    return (f"top-1 **{r.top1:.4f}** (dense {r.dense.top1:.4f}, before fine-tune {r.top1_before_finetune:.4f}) · "
            f"{r.amount_text()} · gzip {bytes_text(r.gzip_bytes)} · {job.elapsed:.0f} s")


def bytes_text(n) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)
