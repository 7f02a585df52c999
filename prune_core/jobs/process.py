"""Job processes, as both dispatchers (local and Ray) start, watch and end them.

A job runs as `python -m prune_core job ID`, in its own OS process and session: TensorFlow state
never leaks between jobs, and a crash or an out-of-memory kill takes only that job. The process
records its own state, progress and result; what the dispatcher adds is written to the job's log.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from prune_core import paths
from prune_core.jobs.store import FINISH_PATIENCE, JobStore

# seconds a job asked to stop gets to stop at a step boundary, before it is killed
CANCEL_GRACE = 3.0
POLL_SECONDS = 0.5  # how often a dispatcher looks at the queue
REPORT_EVERY = 0.5  # how often a job reports progress and asks whether to stop


def job_dir(job_id: int, root: Path | None = None) -> Path:
    """A job's folder (the same as `JobStore.folder`), created."""
    path = paths.runs_dir(root) / str(int(job_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def detached(args: list, root: Path, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `python -m prune_core ARGS` in its own session (it outlives whoever started it)."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "prune_core", *args],
            cwd=paths.PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PRUNE_HOME": str(root), **(env or {})},
            start_new_session=True,
        )


def spawn(job_id: int, root: Path, tied: bool = False) -> subprocess.Popen:
    """Start a job's own process; `tied`: it dies with this process (a Ray task's job: killing the
    task's worker, or force-cancelling it, must leave nothing running)."""
    return detached(
        ["job", str(job_id)],
        root,
        job_dir(job_id, root) / "log.txt",
        {"PRUNE_PARENT_PID": str(os.getpid())} if tied else None,
    )


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


def exit_now(code: int) -> None:
    """End a job process as soon as its final state, result and files are recorded. Python's
    teardown of TensorFlow takes `measured.TF_TEARDOWN_SECONDS` per process
    (docs/benchmarks/ray.md), which only delays the next job on a busy machine, and a Ray task
    waiting for its job process."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def log_line(job_id: int, root: Path, text: str) -> None:
    """Add a line to a job's log (what the dispatcher did with it)."""
    try:
        with open(job_dir(job_id, root) / "log.txt", "a") as log:
            log.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
    except OSError:
        pass


def take_lock(root: Path):
    """The dispatcher lock of this PRUNE_HOME (an open file), or None when another dispatcher has
    it."""
    lock = open(root / "worker.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def death_note(code: int, progress: dict | None) -> str:
    """Why a job process ended without recording its state, in words: the signal by name (or the
    exit code) and the phase it was in, so a crash inside a library reads as more than a number."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"killed by {name}"
        hint = {
            signal.SIGKILL: " (out of memory, or killed from outside?)",
            signal.SIGABRT: " (a crash inside a native library)",
            signal.SIGSEGV: " (a crash inside a native library)",
        }.get(-code, "")
    else:
        how = f"exit code {code}"
        hint = " (out of memory?)" if code == 137 else ""
    p = progress or {}
    where = ""
    if p.get("phase"):
        where = f" while {p['phase']}"
        if p.get("step") and p.get("steps"):
            where += f" (step {p['step']} of {p['steps']})"
    return f"the job process died{where}: {how}{hint}"


def reap(store: JobStore, children: dict, cancel_seen: dict) -> None:
    """Record job processes that ended without recording a final state (killed, crashed) as
    interrupted."""
    for job_id, proc in list(children.items()):
        code = proc.poll()
        if code is not None:
            job = store.get(job_id)
            if job is not None and job.status == "running":
                store.finish(
                    job_id,
                    "interrupted",
                    error=death_note(code, job.progress),
                    patience=FINISH_PATIENCE,
                )
            del children[job_id]
            cancel_seen.pop(job_id, None)
