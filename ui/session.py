"""The job store as this server process sees it: opened once, and its completed runs parsed once per
change of the store (Streamlit caches), for every page and session."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from prune_core.errors import ResultError
from prune_core.jobs.store import JobStore, db_path
from prune_core.results import frame, plots
from prune_core.serving import access, uploads


@st.cache_resource(show_spinner=False)
def _store(path: str) -> JobStore:
    return JobStore(Path(path))


def store() -> JobStore:
    """The job store of this $PRUNE_HOME, opened once per server process (each call opens its own
    short-lived SQLite connection, so one store object serves every session)."""
    return _store(str(db_path()))


@st.cache_data(max_entries=4, show_spinner=False)
def _completed_frame(path: str, fingerprint: tuple, shared: bool):
    names = uploads.public_name if shared else None  # no server paths for every visitor to see
    return frame.frame(_completed_runs(path, fingerprint, ("run",)), names=names)


def completed_frame():
    """Every completed run as a DataFrame (from the same parsed runs as `completed_runs`); re-read
    only when the set of completed jobs changes."""
    jobs = store()
    return _completed_frame(str(jobs.path), jobs.fingerprint(), access.shared())


@st.cache_resource(max_entries=4, show_spinner=False)
def _completed_runs(path: str, fingerprint: tuple, kinds: tuple) -> list:
    jobs = []
    for job in JobStore(Path(path)).list(status=("completed",)):
        if job.kind not in kinds or not job.result_json:
            continue
        try:
            _ = job.profile if job.kind == "profile" else job.run_result  # parsed once, kept
        except (ResultError, ValueError):
            continue
        jobs.append(job)
    return jobs


def completed_runs(kinds: tuple = ("run",)) -> list:
    """Completed jobs of `kinds` whose result reads as a `RunResult` (a `Profile` for profile jobs;
    others are left out, never a traceback). Scoring runs made for the threshold preview are kind
    "scores", not results to compare. Read again only when the set of completed jobs changes."""
    jobs = store()
    return _completed_runs(str(jobs.path), jobs.fingerprint(), tuple(kinds))


@st.cache_resource(max_entries=128, show_spinner=False)
def _shared_figure(key: tuple, _build):
    return _build()


def shared_figure(build, *key):
    """`build()`'s figure, built once for every session that asks with the same `key` while the
    completed jobs stay as they are: a class opening a page together builds each chart once
    (building plotly figures was most of Compare's time under a class). `key` must name
    everything the figure shows beyond the completed jobs. Shared, so never changed:
    `st.plotly_chart` copies it."""
    jobs = store()
    return _shared_figure((str(jobs.path), jobs.fingerprint(), access.shared(), *key), build)


def tradeoff_chart(runs, x: str, dense: dict | None = None, y_range: tuple | None = None):
    """`plots.tradeoff` of these completed runs, shared by the sessions showing the same runs on
    the same axes."""
    return shared_figure(
        lambda: plots.tradeoff(runs, x, dense=dense, y_range=y_range),
        "tradeoff",
        tuple(runs["job"]),
        x,
        tuple(sorted((dense or {}).items())),
        y_range,
    )


def baseline_scores(model: str, dataset: str, strategies: list, granularity: str):
    """(job, score summary) of the newest completed run (or scoring run) on this model and data with
    one of `strategies`: its scores of the unpruned baseline, to read thresholds off. None when
    there is none."""
    for job in completed_runs(kinds=("run", "scores")):
        if (job.spec.baseline.model, job.spec.baseline.dataset, job.spec.pruning.granularity) == (
            model,
            dataset,
            granularity,
        ) and job.spec.pruning.strategy in strategies:
            scores = job.run_result.distributions.get("scores", {})
            if scores.get("quantiles"):
                return job, scores
    return None
