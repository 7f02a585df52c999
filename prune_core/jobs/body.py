"""Inside a job's own process: do a run, scoring, profile or export job and record its final state.

This is the door to TensorFlow on the jobs side: the engine is imported here, inside the functions
that need it, so the dispatchers and the dashboard that import `prune_core.jobs` never load it.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from prune_core.errors import Canceled, PruneError, failure_reason
from prune_core.jobs.process import REPORT_EVERY, job_dir, log_line
from prune_core.jobs.store import FINISH_PATIENCE, JobStore


class ProgressThrottle:
    """Call `fn` at most once per `seconds` (always on a phase change), adding how long the run has
    been in this phase (`phase_seconds`, from its first report) so that pages can estimate the
    rest."""

    def __init__(self, fn, seconds: float):
        self.fn, self.seconds, self.last, self.last_phase = fn, seconds, 0.0, None
        self.first_seen: dict = {}

    def __call__(self, progress) -> None:
        now = time.monotonic()
        started = self.first_seen.setdefault(progress.phase, now)
        if (
            progress.phase != self.last_phase
            or now - self.last >= self.seconds
            or progress.fraction >= 1.0
        ):
            self.last, self.last_phase = now, progress.phase
            self.fn({**progress.to_dict(), "phase_seconds": now - started})


class PhaseLog:
    """What a person needs in a job's log: a line when the phase, the epoch or a phase's message
    changes (not one per training step), written through `log_line` with the time."""

    def __init__(self, job_id: int, root: Path):
        self.job_id, self.root, self.last = job_id, root, None

    def __call__(self, progress: dict) -> None:
        stepped = bool(progress.get("steps"))  # a stepped phase's message changes every step
        key = (
            progress.get("phase"),
            progress.get("epoch"),
            None if stepped else progress.get("message"),
        )
        if key == self.last:
            return
        self.last = key
        parts = [str(progress.get("phase", "working"))]
        if progress.get("message"):
            parts.append(str(progress["message"]))
        if progress.get("epochs"):
            parts.append(f"epoch {progress.get('epoch')}/{progress['epochs']}")
        if progress.get("accuracy") is not None:
            parts.append(f"train accuracy {progress['accuracy']:.3f}")
        log_line(self.job_id, self.root, " · ".join(parts))


def _log_end(job, root: Path, status: str, error: str | None, started: float) -> None:
    """The final state in the log, with the traceback of an unexpected failure (its last lines)."""
    log_line(
        job.id,
        root,
        f"{status} after {time.monotonic() - started:.0f} s" + (f": {error}" if error else ""),
    )
    trace = job_dir(job.id, root) / "traceback.txt"
    if status == "failed" and trace.is_file():
        lines = trace.read_text(errors="replace").splitlines()[-TRACEBACK_LINES:]
        log_line(job.id, root, "the failure's traceback (last lines):\n" + "\n".join(lines))


#: Lines of a failure's traceback copied into the job's log (the whole one is in traceback.txt).
TRACEBACK_LINES = 30


def run_job(job_id: int, store: JobStore | None = None) -> str:
    """Execute one claimed job in this process; returns its final state."""
    store = store or JobStore()
    job = store.get(job_id)
    if job is None or job.status != "running":
        return job.status if job else "missing"
    store.set_pid(job_id, os.getpid())
    root, started = store.path.parent, time.monotonic()
    log_line(job_id, root, f"started {job.kind} job {job_id}: {job.label} (pid {os.getpid()})")
    phases = PhaseLog(job_id, root)
    state = {"checked": 0.0, "cancel": False}

    def should_cancel() -> bool:
        now = time.monotonic()
        if now - state["checked"] >= REPORT_EVERY:
            state["checked"], state["cancel"] = now, store.cancel_requested(job_id)
        return state["cancel"]

    if job.kind == "export":
        try:
            return _run_export(job, store, should_cancel)
        except BaseException as exc:  # noqa: BLE001 - a job must always leave a final state behind
            store.finish(job_id, "failed", error=failure_reason(exc), patience=FINISH_PATIENCE)
            _log_end(job, root, "failed", failure_reason(exc), started)
            return "failed"

    def report(progress: dict) -> None:
        store.report(job_id, progress)
        phases(progress)

    status, result, error = execute(
        job, root, ProgressThrottle(report, REPORT_EVERY), should_cancel
    )
    store.finish(job_id, status, result=result, error=error, patience=FINISH_PATIENCE)
    _log_end(job, root, status, error, started)
    return status


def execute(job, root: Path, on_progress, should_cancel) -> tuple[str, dict | None, str | None]:
    """Do a run, scoring or profile job's work under `root` (its PRUNE_HOME); returns (final state,
    result, error) for the caller to record (`run_job`, in the job process of either backend). The
    pruned model is saved in the job's folder under `root`."""
    folder = job_dir(job.id, root)
    try:
        if job.kind == "profile":
            from prune_core.engine import profiler

            measured = profiler.run(
                job.spec,
                [job.spec.pruning.strategy],
                root=root,
                on_progress=on_progress,
                should_cancel=should_cancel,
            )
            return "completed", measured.to_dict(), None
        from prune_core.engine import pipeline

        result = pipeline.run(
            job.spec,
            root=root,
            model_path=folder / "model.keras",
            on_progress=on_progress,
            should_cancel=should_cancel,
        )
        return "completed", result.to_dict(), None
    except Canceled:
        return "canceled", None, "canceled by request"
    except PruneError as exc:
        return "failed", None, str(exc)
    except BaseException as exc:  # noqa: BLE001 - a job must always leave a final state behind
        try:
            (folder / "traceback.txt").write_text(traceback.format_exc())
        except OSError:
            pass  # a full disk must not stop the state from being recorded
        return "failed", None, failure_reason(exc)


def _run_export(job, store: JobStore, should_cancel) -> str:
    """Export a finished run's saved model; the numbers go into that run's result."""
    from prune_core.engine import pipeline

    parent = store.get(job.parent)
    path = (parent.result or {}).get("model_path") if parent else None
    if not path or not Path(path).exists():
        store.finish(
            job.id,
            "failed",
            error=f"job {job.parent} has no saved model to export",
            patience=FINISH_PATIENCE,
        )
        return "failed"
    try:
        deployment = pipeline.export_saved(
            path,
            parent.spec,
            store.path.parent,
            on_progress=ProgressThrottle(lambda p: store.report(job.id, p), REPORT_EVERY),
            should_cancel=should_cancel,  # read by the quantization-aware fine-tune, if any
        )
    except Canceled:
        deployment = None
    if deployment is None or should_cancel():
        store.finish(job.id, "canceled", error="canceled by request", patience=FINISH_PATIENCE)
        return "canceled"
    exported = deployment.to_dict()
    store.merge_result(parent.id, exported)
    store.finish(job.id, "completed", result=exported, patience=FINISH_PATIENCE)
    return "completed"
