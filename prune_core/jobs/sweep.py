"""A sweep's progress as one thing: the recipes queued together, how many have finished, and about
how long the rest will take at the pace of those that did. Pure Python over `Job`s."""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = ("completed", "failed", "canceled", "interrupted")


@dataclass(frozen=True)
class SweepProgress:
    """Counts by state, the share done (a running job counted by its elapsed time against the
    finished ones' pace) and the seconds left (None until one job has completed)."""

    name: str
    total: int
    counts: dict
    fraction: float
    seconds_left: float | None

    @property
    def active(self) -> bool:
        return bool(self.counts.get("queued") or self.counts.get("running"))


def progress(name: str, jobs: list, now: float) -> SweepProgress:
    """The progress of the jobs of one sweep at time `now`."""
    counts: dict = {}
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    durations = [
        j.finished_at - j.started_at
        for j in jobs
        if j.status == "completed" and j.started_at is not None and j.finished_at is not None
    ]
    pace = sum(durations) / len(durations) if durations else None
    finished = sum(counts.get(s, 0) for s in FINISHED)
    running = [j for j in jobs if j.status == "running"]
    running_done = [
        min(0.95, (now - j.started_at) / pace) if pace and j.started_at is not None else 0.0
        for j in running
    ]
    total = len(jobs)
    fraction = (finished + sum(running_done)) / total if total else 1.0
    seconds_left = None
    if pace is not None:
        queued = counts.get("queued", 0)
        seconds_left = pace * (queued + sum(1 - d for d in running_done))
    return SweepProgress(name, total, counts, min(fraction, 1.0), seconds_left)


def groups(jobs: list) -> list:
    """`jobs` in their order, with each sweep of two or more jobs gathered at the place of its
    first job: a list of single jobs and (sweep name, [jobs]) pairs."""
    members: dict = {}
    for job in jobs:
        if job.sweep:
            members.setdefault(job.sweep, []).append(job)
    out, placed = [], set()
    for job in jobs:
        sweep = job.sweep if job.sweep and len(members[job.sweep]) > 1 else None
        if sweep is None:
            out.append(job)
        elif sweep not in placed:
            placed.add(sweep)
            out.append((sweep, members[sweep]))
    return out
