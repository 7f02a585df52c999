"""Draining the job queue: one loop, two backends behind one protocol.

`python -m prune_core worker` calls `dispatch`: it holds this PRUNE_HOME's lock (one dispatcher per
queue), then ticks a `Dispatcher` — local job processes (`jobs.local`), or Ray tasks when
PRUNE_RAY_ADDRESS is set (`jobs.ray_dispatch`) — until the queue is empty. A job process records its
own state, progress and result, so a crash, an out-of-memory kill or a killed dispatcher loses
nothing already reported. The dispatcher never imports TensorFlow.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Protocol

from prune_core import paths
from prune_core.jobs import ray_dispatch
from prune_core.jobs.local import LocalDispatcher
from prune_core.jobs.process import POLL_SECONDS, detached, take_lock
from prune_core.jobs.store import JobStore


class Dispatcher(Protocol):
    """What `dispatch` asks of a backend."""

    def tick(self) -> int:
        """Record what ended, enforce cancels and limits, start queued jobs; returns how many
        started."""

    def busy(self) -> bool:
        """Whether any job it started is still running."""

    def wait(self, seconds: float) -> None:
        """Sleep until the next tick (a backend may wake early when a job ends)."""

    def close(self) -> None:
        """Let go of the backend (job processes run on and record their own final state)."""


def backend(store: JobStore, parallel: int | None = None) -> Dispatcher:
    """Ray when PRUNE_RAY_ADDRESS is set, else local job processes."""
    if ray_dispatch.address():
        return ray_dispatch.RayDispatcher(store, parallel)
    return LocalDispatcher(store, parallel)


def dispatch(
    store: JobStore | None = None,
    *,
    parallel: int | None = None,
    forever: bool = False,
    idle_seconds: float = 2.0,
) -> int:
    """Drain the queue; returns how many jobs it started. Exits when idle unless `forever`."""
    store = store or JobStore()
    lock = take_lock(store.path.parent)
    if lock is None:
        return 0  # another dispatcher owns this queue
    try:
        store.recover()
        driver = backend(store, parallel)
    except BaseException:
        lock.close()
        raise
    started, idle_since = 0, time.monotonic()
    try:
        while True:
            try:
                started += driver.tick()
                if driver.busy():
                    idle_since = time.monotonic()
                elif not forever and time.monotonic() - idle_since >= idle_seconds:
                    return started
            except sqlite3.OperationalError:
                pass  # the store is locked: jobs run on and report what they can; try again shortly
            driver.wait(POLL_SECONDS)
    finally:
        driver.close()
        lock.close()


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
    detached(["worker"], root, root / "worker.log")
    return True
