"""The job store: one SQLite database (WAL) holding every pruning job, its state and its result.

States: queued → running → completed | failed | canceled | interrupted. A job's own process writes
its state, progress and result (so nothing is lost if the dispatcher dies); `recover()` marks jobs
whose process is gone as interrupted. Pure Python: the dashboard reads and writes jobs without
importing TensorFlow. The schema, connections and reads live in `database.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from prune_core.errors import AccessError
from prune_core.jobs.database import QUICK_TIMEOUT, JobDatabase, owner_clause
from prune_core.jobs.database import db_path as db_path  # re-exported: callers import it here
from prune_core.jobs.job import FINISHED, Job
from prune_core.recipe.spec import RunSpec

#: How long a job keeps trying to store its final state in a locked store.
FINISH_PATIENCE = 600.0


def job_process_alive(pid: int | None, job_id: int) -> bool:
    """Whether `pid` is still the process running job `job_id` (a reused pid is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":  # exited, not yet reaped
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        # the job's own process, or the Ray driver (`prune_core worker`) whose task runs it
        # elsewhere
        return b"prune_core" in args and (str(job_id).encode() in args or b"worker" in args)
    except OSError:
        return True  # no /proc: trust the signal check


class JobStore(JobDatabase):
    """The jobs database with every state change: submit, claim, report, finish, cancel, retry,
    delete, recover."""

    # ---- writing ---------------------------------------------------------------------------------
    def submit(
        self, spec: RunSpec, sweep: str | None = None, kind: str = "run", owner: str | None = None
    ) -> int:
        """Queue a recipe: a pruning run, a scoring run for the threshold preview (`kind="scores"`),
        or a profile of the recipe's baseline under its criterion for Explore (`kind="profile"`)."""
        if kind not in ("run", "scores", "profile"):
            raise ValueError(f"not a run kind: {kind}")
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO jobs(spec, label, sweep, created_at, kind, owner) VALUES (?, ?, ?, "
                "?, ?, ?)",
                (
                    spec.to_json(),
                    f"profile {spec.pruning.strategy}" if kind == "profile" else spec.label(),
                    sweep,
                    time.time(),
                    kind,
                    owner,
                ),
            )
            return int(cur.lastrowid)

    def submit_export(self, parent_id: int, owner: str | None = None) -> int:
        """Queue the deployment export of a completed run; its numbers are merged into that run."""
        parent = self.get(parent_id)
        if parent is None or parent.status != "completed" or not parent.result:
            raise ValueError(f"job {parent_id} is not a completed run")
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO jobs(spec, label, sweep, created_at, kind, parent, owner) "
                "VALUES (?, ?, ?, ?, 'export', ?, ?)",
                (
                    parent.spec.to_json(),
                    f"export of job {parent_id}",
                    parent.sweep,
                    time.time(),
                    parent_id,
                    owner,
                ),
            )
            return int(cur.lastrowid)

    def merge_result(self, job_id: int, extra: dict) -> None:
        """Add fields to a completed job's result (deployment numbers measured later)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT result FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is not None and row["result"]:
                merged = {**json.loads(row["result"]), **extra}
                db.execute(  # a new revision: pages keyed on `fingerprint` read it again
                    "UPDATE jobs SET result=?, revision=revision+1 WHERE id=?",
                    (json.dumps(merged), job_id),
                )
            db.execute("COMMIT")

    def add_completed(self, entries, owner: str | None = None, demo: bool = False) -> list[int]:
        """Record runs that finished elsewhere (e.g. a CLI sweep's JSON lines) as completed jobs, in
        one transaction: all of them or, if anything fails, none. `entries`: (RunResult, sweep name)
        pairs."""
        return self.add_finished(
            [
                (r.spec, "run", r.spec.label(), sweep, r.to_dict(), r.total_seconds or 0.0)
                for r, sweep in entries
            ],
            owner,
            demo,
        )

    def add_finished(self, rows, owner: str | None = None, demo: bool = False) -> list[int]:
        """Completed jobs of any kind measured elsewhere, in one transaction (all or none). `rows`:
        (spec, kind, label, sweep, result dict, seconds it took)."""
        now = time.time()
        ids = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for spec, kind, label, sweep, result, seconds in rows:
                    cur = db.execute(
                        "INSERT INTO jobs(spec, label, sweep, status, created_at, started_at, "
                        "finished_at, "
                        "progress, result, kind, owner, demo) "
                        "VALUES (?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            spec.to_json(),
                            label,
                            sweep,
                            now,
                            now - seconds,
                            now,
                            json.dumps({"phase": "demo" if demo else "imported"}),
                            json.dumps(result),
                            kind,
                            owner,
                            int(demo),
                        ),
                    )
                    ids.append(int(cur.lastrowid))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return ids

    def delete_demo(self) -> int:
        """Remove every bundled demo result; returns how many."""
        with self._connect() as db:
            return db.execute("DELETE FROM jobs WHERE demo=1").rowcount

    def demo_count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE demo=1").fetchone()[0])

    def duplicate_of(self, spec: RunSpec, window: float = 120.0, kind: str = "run") -> int | None:
        """The id of a job with exactly this recipe that is queued, running, or was submitted in the
        last `window` seconds (a second click on Queue must not run the same recipe twice)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE kind=? AND spec=? AND (status IN ('queued', 'running') "
                "OR created_at > ?) ORDER BY id DESC LIMIT 1",
                (kind, spec.to_json(), time.time() - window),
            ).fetchone()
        return int(row["id"]) if row else None

    def claim_next(self) -> Job | None:
        """Atomically move the oldest queued job to running (without a pid yet) and return it."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT id FROM jobs WHERE status='queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET status='running', started_at=?, progress=? WHERE id=?",
                (time.time(), json.dumps({"phase": "starting"}), row["id"]),
            )
            db.execute("COMMIT")
        return self.get(row["id"])

    def requeue(self, job_id: int) -> None:
        """Put a claimed job back at the head of the queue (its turn was not yet; it keeps its
        id)."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET status='queued', started_at=NULL, pid=NULL, progress=NULL "
                "WHERE id=? AND status='running'",
                (job_id,),
            )

    def retried_from(self, job_id: int) -> Job | None:
        """The job whose retry this one is, if any."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE retried_as=?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def set_pid(self, job_id: int, pid: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE jobs SET pid=? WHERE id=?", (pid, job_id))

    def report(self, job_id: int, progress: dict) -> bool:
        """Best effort: a store locked for longer than `QUICK_TIMEOUT` skips this report (the next
        one comes half a second later) instead of stalling or killing the training that sends it."""
        try:
            with self._connect(QUICK_TIMEOUT) as db:
                db.execute(
                    "UPDATE jobs SET progress=? WHERE id=? AND status='running'",
                    (json.dumps(progress), job_id),
                )
            return True
        except sqlite3.OperationalError:
            return False

    def finish(
        self,
        job_id: int,
        status: str,
        *,
        result: dict | None = None,
        error: str | None = None,
        patience: float = 0.0,
    ) -> None:
        """Record a final state; only a running or queued job can finish (a finished one stays as it
        is). With `patience` (seconds), a locked store is retried that long before giving up: a
        job's result is worth waiting for."""
        if status not in FINISHED:
            raise ValueError(f"not a final state: {status}")
        deadline = time.monotonic() + patience
        while True:
            try:
                with self._connect() as db:
                    db.execute(
                        "UPDATE jobs SET status=?, finished_at=?, result=?, error=? "
                        "WHERE id=? AND status IN ('queued', 'running')",
                        (
                            status,
                            time.time(),
                            json.dumps(result) if result is not None else None,
                            error,
                            job_id,
                        ),
                    )
                return
            except sqlite3.OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(1.0)

    def request_cancel(self, job_id: int, only_owner: str | None = None) -> bool:
        """Queued jobs are canceled at once; running ones stop at their next step boundary. With
        `only_owner`, a job owned by anyone else is left alone. Returns whether the job was
        asked."""
        owned, args = owner_clause(only_owner)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                f"UPDATE jobs SET cancel_requested=1 WHERE id=? AND status IN ('queued', 'running')"
                f"{owned}",
                (job_id, *args),
            )
            db.execute(
                "UPDATE jobs SET status='canceled', finished_at=?, error='canceled before it "
                "started' "
                f"WHERE id=? AND status='queued'{owned}",
                (time.time(), job_id, *args),
            )
            db.execute("COMMIT")
        return bool(cur.rowcount)

    def cancel_queued(self, only_owner: str | None = None) -> int:
        """Cancel every queued job (of `only_owner`, when given) in one step; returns how many."""
        owned, args = owner_clause(only_owner)
        with self._connect() as db:
            cur = db.execute(
                "UPDATE jobs SET cancel_requested=1, status='canceled', finished_at=?, "
                f"error='canceled before it started' WHERE status='queued'{owned}",
                (time.time(), *args),
            )
        return cur.rowcount

    def cancel_requested(self, job_id: int) -> bool:
        """Whether the job was asked to stop; a store locked for longer than `QUICK_TIMEOUT` reads
        as "not yet" (the question is asked again half a second later)."""
        try:
            with self._connect(QUICK_TIMEOUT) as db:
                row = db.execute(
                    "SELECT cancel_requested FROM jobs WHERE id=?", (job_id,)
                ).fetchone()
        except sqlite3.OperationalError:
            return False
        return bool(row and row["cancel_requested"])

    def retry(self, job_id: int, only_owner: str | None = None) -> int:
        """A new queued job with the same recipe and owner; the old one stays in the history,
        pointing to it. With `only_owner`, only that owner's job may be retried (AccessError
        otherwise)."""
        job = self.get(job_id)
        if job is None:
            raise ValueError(f"job {job_id} no longer exists")
        if only_owner is not None and job.owner != only_owner:
            raise AccessError(
                f"job {job_id} was queued by someone else; only they or an admin can retry it"
            )
        if job.active:  # a retry would run the recipe twice, past the duplicate guard
            raise ValueError(f"job {job_id} is still {job.status}; retry it once it has finished")
        new = (
            self.submit_export(job.parent, job.owner)
            if job.kind == "export"
            else self.submit(job.spec, job.sweep, job.kind, job.owner)
        )
        with self._connect() as db:
            db.execute("UPDATE jobs SET retried_as=? WHERE id=?", (new, job_id))
        return new

    def folder(self, job_id: int) -> Path:
        """Where a job keeps its files (saved model, log)."""
        return self.path.parent / "runs" / str(int(job_id))

    def delete(self, job_id: int, only_owner: str | None = None) -> bool:
        """Remove a finished job and its files; a queued or running job stays (cancel it first), and
        with `only_owner`, so does a job owned by anyone else."""
        owned, args = owner_clause(only_owner)
        with self._connect() as db:
            cur = db.execute(
                f"DELETE FROM jobs WHERE id=? AND status NOT IN ('queued', 'running'){owned}",
                (job_id, *args),
            )
        if cur.rowcount:
            shutil.rmtree(self.folder(job_id), ignore_errors=True)
        return bool(cur.rowcount)

    def log(self, job_id: int, lines: int = 80) -> str:
        """The last `lines` lines of a job's log ("" when it has none)."""
        path = self.folder(job_id) / "log.txt"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def recover(self, unclaimed_after: float = 30.0) -> list[int]:
        """Mark running jobs whose process is gone as interrupted (also jobs claimed by a dispatcher
        that died before it could start their process); returns their ids."""
        now = time.time()
        lost = [
            j.id
            for j in self.list(status=("running",))
            if (j.pid is not None and not job_process_alive(j.pid, j.id))
            or (j.pid is None and now - (j.started_at or now) > unclaimed_after)
        ]
        for job_id in lost:
            with self._connect() as db:
                db.execute(
                    "UPDATE jobs SET status='interrupted', finished_at=?, "
                    "error=COALESCE(error, 'the job process ended without recording a result') "
                    "WHERE id=? AND status='running'",
                    (time.time(), job_id),
                )
        return lost
