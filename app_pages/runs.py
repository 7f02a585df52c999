"""Runs: every job with its state and live progress; cancel, retry, delete, read its log. Running
jobs first, then the queue in the order it will run, then finished ones, newest first. Refreshes
itself while jobs are active (and only then)."""

import time

import streamlit as st

import ui
from prune_core.errors import PruneError, ResultError
from prune_core.jobs import sweep
from prune_core.learn.glossary import HELP
from prune_core.results.deployment import Deployment
from prune_core.serving import access, uploads

STATUS_ICONS = {
    "queued": ":material/schedule:",
    "running": ":material/play_circle:",
    "completed": ":material/check_circle:",
    "failed": ":material/error:",
    "canceled": ":material/cancel:",
    "interrupted": ":material/warning:",
}


def result_line(job) -> str:
    """One line about a completed job: a run's accuracy against dense, what was pruned, size, time;
    or what a profile measured."""
    try:
        if job.kind == "profile":
            p = job.profile
            return (
                f"{', '.join(p.criteria)}: {len(p.levels)} levels before fine-tuning × 3 rankings, "
                f"{len(p.layers)} "
                f"layers × {len(p.layer_levels)} sensitivity levels · dense top-1 "
                f"{p.dense.get('top1', float('nan')):.2%} (validation) · {job.elapsed:.0f} s"
            )
        r = job.run_result
    except (ResultError, ValueError) as exc:
        return f"the stored result cannot be read ({exc})"
    return (
        f"top-1 **{r.top1:.2%}** (dense {r.dense.top1:.2%}, before fine-tune "
        f"{r.top1_before_finetune:.2%}) · "
        f"{r.amount_text()} · gzip {ui.bytes_text(r.gzip_bytes)} · {job.elapsed:.0f} s"
    )


def display_order(jobs: list) -> list:
    """Running first, then queued in the order they will run, then finished, newest first."""
    running = sorted((j for j in jobs if j.status == "running"), key=lambda j: j.id)
    queued = sorted((j for j in jobs if j.status == "queued"), key=lambda j: j.id)
    done = sorted((j for j in jobs if j.status not in ("running", "queued")), key=lambda j: -j.id)
    return running + queued + done


who = ui.start_page()

st.title("Runs")
jobs_store = ui.store()
jobs_store.recover()
active = bool(jobs_store.list(status=("queued", "running"), limit=1))


shown = st.select_slider(
    "Show the latest", [25, 50, 100, 200, 500], value=50, key="runs-shown", help=HELP["runs_shown"]
)


def _bulk_actions(counts: dict) -> None:
    """Cancel every queued job and delete every unsuccessful one: all of them locally or for an
    admin, a visitor's own in shared mode."""
    own = who.owner_filter
    mine = counts if own is None else jobs_store.counts(own)
    whose = "" if own is None else "my "
    finished = {s: mine.get(s, 0) for s in ("failed", "canceled", "interrupted")}
    a, b = st.columns(2)
    if mine.get("queued") and a.button(
        f"Cancel all {whose}{mine['queued']} queued", key="cancel-queued"
    ):
        jobs_store.cancel_queued(only_owner=own)
        st.rerun()
    if sum(finished.values()):
        label = ", ".join(f"{n} {s}" for s, n in finished.items() if n)
        with b.popover(f"Delete {whose}{label}"):
            st.write("Deletes these jobs, their logs and saved models. Completed runs stay.")
            if st.button("Delete them", type="primary", key="delete-unsuccessful"):
                for job in jobs_store.list(status=tuple(s for s, n in finished.items() if n)):
                    jobs_store.delete(job.id, only_owner=own)
                st.rerun()


def _card(job) -> None:
    with st.container(border=True):
        head, actions = st.columns([5, 2])
        with head:
            kind = {
                "scores": " · scoring run (threshold preview)",
                "export": "",
                "profile": " · profile for Explore",
            }.get(job.kind, "") + (" · :orange-badge[demo]" if job.demo else "")
            st.markdown(
                f"**{STATUS_ICONS.get(job.status, '')} job {job.id}** · "
                f"{ui.escape_md(ui.job_title(job, numbered=False))}{kind}"
                + (f" · by {ui.escape_md(job.owner or 'the server')}" if who.name else "")
            )
            if job.status == "running":
                fraction, text = ui.progress_text(job)
                if fraction is None:
                    st.caption(f":material/hourglass_top: {text}")
                else:
                    st.progress(fraction, text=text)
            elif job.status == "completed" and job.kind == "export" and job.result:
                exported = Deployment.from_dict(job.result)
                st.write(
                    f"exported job {job.parent}: TFLite float "
                    f"{ui.bytes_text(exported.get('float', 'bytes') if exported else None)}, int8 "
                    f"{ui.bytes_text(exported.get('int8', 'bytes') if exported else None)} · "
                    f"{job.elapsed:.0f} s"
                )
            elif job.status == "completed" and job.result:
                st.write(result_line(job))
            elif job.error:
                error = uploads.public_text(job.error) if access.shared() else job.error
                st.write(f"{job.status}: {ui.escape_md(error)}")
            else:
                st.write(job.status)
            if job.retried_as:
                st.caption(f"Retried as job {job.retried_as}.")
        with actions:
            if not who.may_manage(job.owner):
                st.caption("Only its owner or an admin can cancel, retry or delete it.")
            elif job.active:
                if st.button("Cancel", key=f"cancel-{job.id}", disabled=job.cancel_requested):
                    jobs_store.request_cancel(job.id, only_owner=who.owner_filter)
                    st.rerun()
            else:
                a, b = st.columns(2)
                if job.demo:  # measured by this project, not here: nothing to run again
                    a.caption("Bundled demo result")
                elif a.button("Retry", key=f"retry-{job.id}"):
                    try:
                        ui.retry(job.id)
                        st.rerun()
                    # an export whose run was deleted; over the limits
                    except (ValueError, PruneError) as exc:
                        st.error(ui.escape_md(exc))
                with b.popover("Delete", key=f"delete-{job.id}"):
                    st.write(f"Delete job {job.id}, its log and its saved model?")
                    if st.button("Delete", type="primary", key=f"confirm-delete-{job.id}"):
                        jobs_store.delete(job.id, only_owner=who.owner_filter)
                        st.rerun()
            if job.status == "completed" and job.kind == "run":
                st.page_link(
                    "app_pages/run_detail.py", label="Details", query_params={"job": job.id}
                )
            if job.status == "completed" and job.kind == "profile":
                st.page_link("app_pages/explore.py", label="Explore")
        if job.status != "queued":
            with st.expander("Log", key=f"log-{job.id}"):
                st.code(jobs_store.log(job.id) or "(no log yet)", language=None)


def _sweep(name: str, members: list) -> None:
    """A sweep as one group: what it ran on, its overall progress and time left, its runs inside."""
    p = sweep.progress(name, members, time.time())
    inputs = sorted({f"{j.spec.baseline.model} on {j.spec.baseline.dataset}" for j in members})
    states = " · ".join(
        f"{STATUS_ICONS.get(s, '')} {n} {s}" for s, n in sorted(p.counts.items()) if n
    )
    things = "runs" if all(j.kind == "run" for j in members) else "jobs"
    with st.container(border=True):
        st.markdown(
            f"**:material/stacks: sweep {ui.escape_md(name)}** · {p.total} {things} · "
            + ui.escape_md(", ".join(inputs))
        )
        if p.active:
            done = p.counts.get("completed", 0)
            left = (
                f"about {ui.duration_text(p.seconds_left)} left at the pace of those finished"
                if p.seconds_left is not None
                else "time left known once a run has finished"
            )
            st.progress(p.fraction, text=f"{done} of {p.total} done · {states} · {left}")
        else:
            st.caption(states)
        # a toggle, not an expander: each card has its own Log expander, and they do not nest
        if st.toggle(
            f"Show its {p.total} {things}",
            value=p.active,
            key=f"sweep-{name}",
            help="Each run's own card: its result, log, retry and delete.",
        ):
            for job in members:
                _card(job)


@st.fragment(run_every=2.0 if active else None)
def job_table():
    jobs = jobs_store.list(limit=shown)
    if not jobs:
        st.info(
            "No runs yet. Queue one on the Experiment page, or start with the demo sweep: every "
            "criterion "
            "at 50, 80 and 90 % sparsity on the default model."
        )
        ui.demo_panel("runs")
        ui.demo_button("runs-demo")
        return
    counts = jobs_store.counts()
    if counts.get("queued"):
        ui.resume_queue()  # a submit that raced a dispatcher shutting down must not wait forever
    st.caption(" · ".join(f"{STATUS_ICONS[s]} {s} {n}" for s, n in sorted(counts.items())))
    _bulk_actions(counts)
    for item in sweep.groups(display_order(jobs)):
        if isinstance(item, tuple):
            _sweep(*item)
        else:
            _card(item)
    if active and not jobs_store.list(status=("queued", "running"), limit=1):
        st.rerun()  # everything finished: stop polling and show final states


job_table()
