"""Background execution: a dispatcher that drains the job queue, one OS process per job.

`python -m prune_core worker` is the dispatcher: it holds a lock (one dispatcher per PRUNE_HOME),
marks jobs whose process vanished as interrupted, starts up to N job processes
(`python -m prune_core job ID`, N from $PRUNE_MAX_JOBS, default 1) and enforces cancel: a job
asked to stop gets CANCEL_GRACE seconds to stop at a step boundary, then is killed. A job process
records its own state, progress and result, so a crash, an OOM kill or a killed dispatcher loses
nothing already reported. The dispatcher itself never imports TensorFlow.
"""
from __future__ import annotations

import errno
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path

from prune_core import paths
from prune_core.serving import limits
from prune_core.errors import Canceled, PruneError
from prune_core.jobs.store import FINISH_PATIENCE, JobStore, job_process_alive

CANCEL_GRACE = 3.0
RECOVER_EVERY = 30.0
POLL_SECONDS = 0.5
REPORT_EVERY = 0.5


def max_jobs() -> int:
    try:
        return max(1, int(os.environ.get("PRUNE_MAX_JOBS", "1")))
    except ValueError:
        return 1


def job_dir(job_id: int, root: Path | None = None) -> Path:
    """A job's folder (the same as `JobStore.folder`), created."""
    path = paths.runs_dir(root) / str(int(job_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---- inside a job's own process ------------------------------------------------------------------
class Throttle:
    """Call `fn` at most once per `seconds` (always on a phase change), adding how long the run has
    been in this phase (`phase_seconds`, from its first report) so that pages can estimate the rest."""

    def __init__(self, fn, seconds: float):
        self.fn, self.seconds, self.last, self.last_phase = fn, seconds, 0.0, None
        self.first_seen: dict = {}

    def __call__(self, progress) -> None:
        now = time.monotonic()
        started = self.first_seen.setdefault(progress.phase, now)
        if progress.phase != self.last_phase or now - self.last >= self.seconds or progress.fraction >= 1.0:
            self.last, self.last_phase = now, progress.phase
            self.fn({**progress.to_dict(), "phase_seconds": now - started})


def run_job(job_id: int, store: JobStore | None = None) -> str:
    """Execute one claimed job in this process; returns its final state."""
    store = store or JobStore()
    job = store.get(job_id)
    if job is None or job.status != "running":
        return job.status if job else "missing"
    store.set_pid(job_id, os.getpid())
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
            store.finish(job_id, "failed", error=_reason(exc), patience=FINISH_PATIENCE)
            return "failed"
    status, result, error = execute(job, store.path.parent,
                                    Throttle(lambda p: store.report(job_id, p), REPORT_EVERY), should_cancel)
    store.finish(job_id, status, result=result, error=error, patience=FINISH_PATIENCE)
    return status


def exit_now(code: int) -> None:
    """End a job process as soon as its final state, result and files are recorded. Python's
    teardown of TensorFlow takes about 1.2 s and 1.6 s of CPU per process (bench/bench_job_exit.py),
    which only delays the next job on a busy machine, and a Ray task waiting for its job process."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def execute(job, root: Path, on_progress, should_cancel) -> tuple[str, dict | None, str | None]:
    """Do a run, scoring or profile job's work under `root` (its PRUNE_HOME); returns (final state,
    result, error) for the caller to record (`run_job`, in the job process of either backend). The pruned model is saved in the job's folder under `root`."""
    folder = job_dir(job.id, root)
    try:
        if job.kind == "profile":
            from prune_core.engine import profiler

            measured = profiler.run(job.spec, [job.spec.strategy], root=root, on_progress=on_progress,
                                    should_cancel=should_cancel)
            return "completed", measured.to_dict(), None
        from prune_core.engine import pipeline

        result = pipeline.run(job.spec, root=root, model_path=folder / "model.keras", on_progress=on_progress,
                              should_cancel=should_cancel)
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
        return "failed", None, _reason(exc)


def _reason(exc: BaseException) -> str:
    """One line saying why a job failed; a full disk says so in words."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the disk is full (no space left to write the model or its results); free some space and retry"
    return f"{type(exc).__name__}: {exc}".strip()[:500]


def _run_export(job, store: JobStore, should_cancel) -> str:
    """Export a finished run's saved model; the numbers go into that run's result."""
    from prune_core.engine import pipeline

    parent = store.get(job.parent)
    path = (parent.result or {}).get("model_path") if parent else None
    if not path or not Path(path).exists():
        store.finish(job.id, "failed", error=f"job {job.parent} has no saved model to export", patience=FINISH_PATIENCE)
        return "failed"
    deployment = pipeline.export_saved(path, parent.spec, store.path.parent,
                                       on_progress=Throttle(lambda p: store.report(job.id, p), REPORT_EVERY))
    if should_cancel():
        store.finish(job.id, "canceled", error="canceled by request", patience=FINISH_PATIENCE)
        return "canceled"
    exported = deployment.to_dict()
    store.merge_result(parent.id, exported)
    store.finish(job.id, "completed", result=exported, patience=FINISH_PATIENCE)
    return "completed"


# ---- the dispatcher -------------------------------------------------------------------------------
def _detached(args: list, root: Path, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `python -m prune_core ARGS` in its own session (it outlives whoever started it)."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen([sys.executable, "-m", "prune_core", *args], cwd=paths.PROJECT_ROOT,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PRUNE_HOME": str(root), **(env or {})}, start_new_session=True)


def spawn(job_id: int, root: Path, tied: bool = False) -> subprocess.Popen:
    """Start a job's own process; `tied`: it dies with this process (a Ray task's job: killing the
    task's worker, or force-cancelling it, must leave nothing running)."""
    return _detached(["job", str(job_id)], root, job_dir(job_id, root) / "log.txt",
                     {"PRUNE_PARENT_PID": str(os.getpid())} if tied else None)


def die_with_parent() -> None:
    """In a tied job process (PRUNE_PARENT_PID set): ask Linux to kill it when its parent dies, and
    end now if the parent is already gone."""
    parent = os.environ.get("PRUNE_PARENT_PID")
    if not parent:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the driver's force-cancel still ends the task
    if os.getppid() != int(parent):
        os._exit(1)


def log_line(job_id: int, root: Path, text: str) -> None:
    """Add a line to a job's log (what the dispatcher did with it)."""
    try:
        with open(job_dir(job_id, root) / "log.txt", "a") as log:
            log.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
    except OSError:
        pass


def take_lock(root: Path):
    """The dispatcher lock of this PRUNE_HOME (an open file), or None when another dispatcher has it."""
    lock = open(root / "worker.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def dispatch(store: JobStore | None = None, *, parallel: int | None = None, forever: bool = False,
             idle_seconds: float = 2.0) -> int:
    """Drain the queue; returns how many jobs it started. Exits when idle unless `forever`."""
    store = store or JobStore()
    root = store.path.parent
    from prune_core.jobs import ray_dispatch as ray_backend

    if ray_backend.address():
        return ray_backend.dispatch(store, parallel=parallel, forever=forever, idle_seconds=idle_seconds)
    lock = take_lock(root)
    if lock is None:
        return 0  # another dispatcher owns this queue
    parallel = parallel or max_jobs()
    children: dict[int, subprocess.Popen] = {}
    cancel_seen: dict[int, float] = {}
    started, idle_since = 0, time.monotonic()
    store.recover()
    recovered = time.monotonic()
    try:
        while True:
            try:
                started += _tick(store, root, parallel, children, cancel_seen)
                if time.monotonic() - recovered > RECOVER_EVERY:  # jobs whose process vanished meanwhile
                    store.recover()
                    recovered = time.monotonic()
                if children or store.list(status=("running",), limit=1):
                    idle_since = time.monotonic()
                elif not forever and time.monotonic() - idle_since >= idle_seconds:
                    return started
            except sqlite3.OperationalError:
                pass  # the store is locked: jobs run on and report what they can; try again shortly
            time.sleep(POLL_SECONDS)
    finally:
        lock.close()  # job processes run on: each records its own final state


def _tick(store: JobStore, root: Path, parallel: int, children: dict, cancel_seen: dict) -> int:
    """One pass of the dispatcher: record dead job processes, enforce cancels and the time limit, start
    queued jobs up to `parallel`. Returns how many it started."""
    reap(store, children, cancel_seen)
    # Jobs still running from an earlier dispatcher count against the limit and can be canceled.
    adopted = {j.id: j.pid for j in store.list(status=("running",))
               if j.id not in children and job_process_alive(j.pid, j.id)}
    for job_id, pid in {**{i: p.pid for i, p in children.items()}, **adopted}.items():
        if store.cancel_requested(job_id):
            first = cancel_seen.setdefault(job_id, time.monotonic())
            if time.monotonic() - first >= CANCEL_GRACE:
                _kill(pid)
                if job_id in children:
                    children.pop(job_id).wait()
                adopted.pop(job_id, None)
                store.finish(job_id, "canceled", error="canceled by request (stopped after the grace period)",
                             patience=FINISH_PATIENCE)
    _stop_overdue(store, children, adopted)
    started = 0
    while len(children) + len(adopted) < parallel:
        job = store.claim_next()
        if job is None:
            break
        proc = spawn(job.id, root)
        children[job.id] = proc
        started += 1
        store.set_pid(job.id, proc.pid)
    return started


def reap(store: JobStore, children: dict, cancel_seen: dict) -> None:
    """Record job processes that ended without recording a final state (killed, crashed) as interrupted."""
    for job_id, proc in list(children.items()):
        code = proc.poll()
        if code is not None:
            job = store.get(job_id)
            if job is not None and job.status == "running":
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                hint = " (out of memory?)" if code in (-signal.SIGKILL, 137) else ""
                store.finish(job_id, "interrupted", error=f"the job process died: {how}{hint}",
                             patience=FINISH_PATIENCE)
            del children[job_id]
            cancel_seen.pop(job_id, None)


def _stop_overdue(store: JobStore, children: dict, adopted: dict) -> None:
    """Kill jobs running longer than PRUNE_JOB_TIMEOUT and record why (nothing left running)."""
    limit = limits.job_timeout()
    if not limit:
        return
    for job in store.list(status=("running",)):
        pid = children[job.id].pid if job.id in children else adopted.get(job.id)
        if pid is None or not job.started_at or time.time() - job.started_at <= limit:
            continue
        _kill(pid)
        if job.id in children:
            children.pop(job.id).wait()
        adopted.pop(job.id, None)
        store.finish(job.id, "interrupted", error=limits.timeout_reason(limit), patience=FINISH_PATIENCE)


def ensure_dispatcher(root: Path | None = None) -> bool:
    """Start a detached dispatcher if none holds the lock (called by the dashboard after a submit).
    PRUNE_AUTOSTART=0 turns this off, for when you run `python -m prune_core worker` yourself."""
    if os.environ.get("PRUNE_AUTOSTART", "1") == "0":
        return False
    root = root or paths.home()
    lock_path = root / "worker.lock"
    with open(lock_path, "a") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(probe, fcntl.LOCK_UN)
        except BlockingIOError:
            return False
    _detached(["worker"], root, root / "worker.log")
    return True
