"""The job database: the SQLite schema (WAL), its connections, and reading jobs back.

Kept apart from `store.JobStore`, which adds every state change, so that reading the history (the
dashboard's pages do little else) needs nothing but this module. Pure Python, no TensorFlow.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from prune_core import paths
from prune_core.jobs.job import Job
from prune_core.recipe.spec import RunSpec

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec TEXT NOT NULL,
    label TEXT NOT NULL,
    sweep TEXT,
    status TEXT NOT NULL DEFAULT 'queued',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    pid INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    progress TEXT,
    error TEXT,
    result TEXT,
    kind TEXT NOT NULL DEFAULT 'run',
    parent INTEGER,
    retried_as INTEGER,
    owner TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, id);
"""


#: How long a write waits for a locked store (PRUNE_DB_TIMEOUT seconds, default 30).
DB_TIMEOUT = float(os.environ.get("PRUNE_DB_TIMEOUT", "30"))
#: How long a progress report or a cancel check waits for a locked store before skipping this time.
QUICK_TIMEOUT = 2.0


def db_path(root: Path | None = None) -> Path:
    return (root or paths.home()) / "jobs.sqlite3"


class JobDatabase:
    """One jobs database: opened (and migrated) on construction; reading methods."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            columns = {r["name"] for r in db.execute("PRAGMA table_info(jobs)")}
            for column, ddl in (
                ("kind", "TEXT NOT NULL DEFAULT 'run'"),
                ("parent", "INTEGER"),
                ("retried_as", "INTEGER"),
                ("owner", "TEXT"),
                ("demo", "INTEGER NOT NULL DEFAULT 0"),
                ("revision", "INTEGER NOT NULL DEFAULT 0"),  # a finished result changed since
            ):
                if column not in columns:  # databases made before the column existed
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {ddl}")

    @contextmanager
    def _connect(self, timeout: float | None = None):
        timeout = DB_TIMEOUT if timeout is None else min(timeout, DB_TIMEOUT)
        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        try:
            yield db
        finally:
            db.close()

    @staticmethod
    def _row(row) -> Job:
        return Job(
            id=row["id"],
            spec=RunSpec.from_json(row["spec"]),
            label=row["label"],
            sweep=row["sweep"],
            status=row["status"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            pid=row["pid"],
            cancel_requested=bool(row["cancel_requested"]),
            progress=json.loads(row["progress"] or "{}"),
            error=row["error"],
            result_json=row["result"],
            kind=row["kind"],
            parent=row["parent"],
            retried_as=row["retried_as"],
            owner=row["owner"],
            demo=bool(row["demo"]),
        )

    # ---- reading ---------------------------------------------------------------------------------
    def get(self, job_id: int) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def list(
        self, status: tuple | None = None, limit: int | None = None, kind: str | None = None
    ) -> list[Job]:
        """Jobs, newest first (in `status`, of `kind`, at most `limit`)."""
        query, args = "SELECT * FROM jobs WHERE 1", []
        if status:
            query += f" AND status IN ({','.join('?' * len(status))})"
            args += list(status)
        if kind:
            query += " AND kind=?"
            args.append(kind)
        query += " ORDER BY id DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        with self._connect() as db:
            return [self._row(r) for r in db.execute(query, args).fetchall()]

    def fingerprint(self, status: str = "completed") -> tuple:
        """Changes whenever a job enters, leaves or changes within `status` (a cache key for
        pages)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT COUNT(*), MAX(finished_at), SUM(id), SUM(LENGTH(result)), SUM(revision) "
                "FROM jobs WHERE status=?",
                (status,),
            ).fetchone()
        return tuple(row)

    def counts(self, owner: str | None = None) -> dict:
        """{state: number of jobs} (of `owner`'s jobs, when given)."""
        owned, args = owner_clause(owner)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT status, COUNT(*) AS n FROM jobs WHERE 1{owned} GROUP BY status", args
            ).fetchall()
        return {r["status"]: r["n"] for r in rows}


def owner_clause(owner: str | None) -> tuple[str, tuple]:
    """The SQL condition (and its argument) that keeps a statement to `owner`'s jobs; none for
    None."""
    return ("", ()) if owner is None else (" AND owner=?", (owner,))
