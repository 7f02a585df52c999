"""The local dispatcher: drains the job queue on this machine, one OS process per job.

It marks jobs whose process vanished as interrupted, starts up to N job processes (N from
$PRUNE_MAX_JOBS, default 1) and enforces cancel: a job asked to stop gets `CANCEL_GRACE` seconds to
stop at a step boundary, then is killed; a job over PRUNE_JOB_TIMEOUT is killed and recorded. The
dispatcher itself never imports TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import time

from prune_core.jobs.process import CANCEL_GRACE, kill, reap, spawn
from prune_core.jobs.store import FINISH_PATIENCE, JobStore, job_process_alive
from prune_core.serving import limits

RECOVER_EVERY = 30.0  # seconds between looks for jobs whose process vanished


def max_jobs() -> int:
    try:
        return max(1, int(os.environ.get("PRUNE_MAX_JOBS", "1")))
    except ValueError:
        return 1


class LocalDispatcher:
    """Job processes on this machine (the `Dispatcher` protocol of `prune_core.jobs.dispatcher`)."""

    def __init__(self, store: JobStore, parallel: int | None = None):
        self.store, self.root = store, store.path.parent
        self.parallel = parallel or max_jobs()
        self.children: dict[int, subprocess.Popen] = {}
        self.cancel_seen: dict[int, float] = {}
        self.recovered = time.monotonic()

    def tick(self) -> int:
        """One pass: record dead job processes, enforce cancels and the time limit, start queued
        jobs up to `parallel`, and now and then mark jobs whose process vanished. Returns how many
        it started."""
        store, children, cancel_seen = self.store, self.children, self.cancel_seen
        reap(store, children, cancel_seen)
        # Jobs still running from an earlier dispatcher count against the limit and can be canceled.
        adopted = {
            j.id: j.pid
            for j in store.list(status=("running",))
            if j.id not in children and job_process_alive(j.pid, j.id)
        }
        for job_id, pid in {**{i: p.pid for i, p in children.items()}, **adopted}.items():
            if store.cancel_requested(job_id):
                first = cancel_seen.setdefault(job_id, time.monotonic())
                if time.monotonic() - first >= CANCEL_GRACE:
                    kill(pid)
                    if job_id in children:
                        children.pop(job_id).wait()
                    adopted.pop(job_id, None)
                    store.finish(
                        job_id,
                        "canceled",
                        error="canceled by request (stopped after the grace period)",
                        patience=FINISH_PATIENCE,
                    )
        self._stop_overdue(adopted)
        started = 0
        while len(children) + len(adopted) < self.parallel:
            job = store.claim_next()
            if job is None:
                break
            proc = spawn(job.id, self.root)
            children[job.id] = proc
            started += 1
            store.set_pid(job.id, proc.pid)
        # jobs whose process vanished meanwhile
        if time.monotonic() - self.recovered > RECOVER_EVERY:
            store.recover()
            self.recovered = time.monotonic()
        return started

    def _stop_overdue(self, adopted: dict) -> None:
        """Kill jobs running longer than PRUNE_JOB_TIMEOUT and record why (nothing left running)."""
        limit = limits.job_timeout()
        if not limit:
            return
        children = self.children
        for job in self.store.list(status=("running",)):
            pid = children[job.id].pid if job.id in children else adopted.get(job.id)
            if pid is None or not job.started_at or time.time() - job.started_at <= limit:
                continue
            kill(pid)
            if job.id in children:
                children.pop(job.id).wait()
            adopted.pop(job.id, None)
            self.store.finish(
                job.id, "interrupted", error=limits.timeout_reason(limit), patience=FINISH_PATIENCE
            )

    def busy(self) -> bool:
        return bool(self.children or self.store.list(status=("running",), limit=1))

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        """Job processes run on: each records its own final state."""
