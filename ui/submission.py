"""Queueing from a page: the limits and the user's files checked first (nothing is queued when one
fails), then the jobs, and a dispatcher to run them; what happened said on the page."""

from __future__ import annotations

import streamlit as st

from prune_core.data import datasets, preflight
from prune_core.errors import AccessError, PruneError
from prune_core.jobs import dispatcher
from prune_core.measured import BASELINE_MINUTES
from prune_core.recipe import baseline_cache
from prune_core.recipe.spec import RunSpec
from prune_core.serving import limits
from ui import access
from ui.session import store
from ui.text import escape_md


def check_inputs(specs: list[RunSpec]) -> None:
    """What the jobs would refuse about a user's files, checked before anything is queued (no
    TensorFlow): the path under the configured roots, every image of a folder dataset, and a model
    file's config against the allow-lists.
    Raises the PruneError a job would fail with."""
    for value in sorted(
        {s.baseline.dataset for s in specs if s.baseline.dataset.startswith("folder:")}
    ):
        limits.check_path(value[len("folder:") :], "image folder")
        datasets.check_folder(value[len("folder:") :])
    for value in sorted({s.baseline.model for s in specs if s.baseline.model.startswith("file:")}):
        limits.check_path(value[len("file:") :], "model file")
        preflight.read_model(value[len("file:") :])


def submit(
    specs: list[RunSpec], sweep: str | None = None, kind: str = "run"
) -> tuple[list[int], dict]:
    """Queue recipes and make sure a dispatcher is draining the queue. A recipe already queued,
    running or submitted in the last two minutes is not queued again; a submission over the limits
    (`prune_core.serving.limits`), or a user's image folder or model file that a job would refuse,
    is refused here, and nothing is queued (PruneError). Returns (new job ids, {recipe label: id of
    the job that already has it})."""
    jobs, who = store(), access.current()
    _check_limits(len(specs))
    check_inputs(specs)
    ids, skipped = [], {}
    for spec in specs:
        existing = jobs.duplicate_of(spec, kind=kind)
        if existing is not None:
            skipped[spec.label()] = existing
        else:
            ids.append(jobs.submit(spec, sweep, kind, owner=who.name))
    if ids:
        resume_queue()
    return ids, skipped


def _check_limits(new: int) -> None:
    """Refuse `new` jobs over the queue's limits, counting this visitor's own waiting jobs in shared
    mode."""
    jobs, who = store(), access.current()
    mine = jobs.counts(who.name).get("queued", 0) if who.owner_filter is not None else None
    limits.check_submission(new, jobs.counts().get("queued", 0), mine)


def queue_export(job) -> None:
    """Queue the deployment export of a completed run (its owner's, or an admin's; within the
    limits)."""
    who = access.current()
    if not who.may_manage(job.owner):
        raise AccessError(
            f"job {job.id} belongs to {job.owner or 'the server'}; only they or an admin can "
            f"export it"
        )
    _check_limits(1)
    store().submit_export(job.id, owner=who.name)
    resume_queue()


def retry(job_id: int) -> int:
    """Queue a finished job again (its owner, or an admin; within the limits)."""
    who = access.current()
    _check_limits(1)
    new = store().retry(job_id, only_owner=who.owner_filter)
    resume_queue()
    return new


def queue(specs: list[RunSpec], sweep: str | None = None, kind: str = "run") -> bool:
    """Submit and say what happened on the page: what was queued, or why nothing was."""
    try:
        ids, skipped = submit(specs, sweep, kind)
    except PruneError as exc:
        st.error(f"Nothing was queued: {escape_md(exc)}")
        return False
    report_submitted(ids, skipped)
    return bool(ids)


def report_submitted(ids: list[int], skipped: dict) -> None:
    """Say what was queued (and what was not, because it already is), with a link to follow it."""
    if ids:
        st.success(f"Queued {len(ids)} job(s): {', '.join(map(str, ids))}.")
    if skipped:
        st.warning(
            "Already queued or just submitted, so not queued again: "
            + "; ".join(f"{escape_md(label)} (job {job})" for label, job in skipped.items())
            + "."
        )
    st.page_link(
        "app_pages/runs.py", label="Follow them on the Runs page", icon=":material/pending_actions:"
    )


def resume_queue() -> None:
    dispatcher.ensure_dispatcher(store().path.parent)


def baseline_note(specs: list) -> str | None:
    """Said before queueing: which dense baselines the first run must train (once, cached after)
    and about how long that takes; None when every baseline is ready or the model is the user's."""
    untrained = sorted(
        {(s.baseline.model, s.baseline.dataset) for s in specs if baseline_cache.needs_training(s)}
    )
    if not untrained:
        return None
    names = ", ".join(f"{m} on {d}" for m, d in untrained)
    return (
        f"The dense baseline ({names}) is not trained yet: the first run trains it once — about "
        f"{BASELINE_MINUTES} min for the compact EfficientNet on digits on 2 cores, longer for a "
        "larger model or dataset — and every later run starts from it."
    )
