"""Tests for prune_core.jobs.sweep: a sweep's overall progress and the grouping of the Runs list."""

from dataclasses import dataclass

from prune_core.jobs.sweep import groups, progress


@dataclass
class _Job:
    id: int
    status: str
    sweep: str | None = None
    started_at: float | None = None
    finished_at: float | None = None


def test_progress_counts_states_and_estimates_the_rest_from_the_finished_pace():
    jobs = [
        _Job(1, "completed", "s", 0.0, 100.0),
        _Job(2, "completed", "s", 100.0, 300.0),  # pace: 150 s a run
        _Job(3, "running", "s", 300.0),
        _Job(4, "queued", "s"),
    ]
    p = progress("s", jobs, now=375.0)  # job 3 is half-way at that pace
    assert p.counts == {"completed": 2, "running": 1, "queued": 1} and p.active
    assert p.fraction == (2 + 0.5) / 4
    assert p.seconds_left == 150 * (1 + 0.5)


def test_before_a_run_finishes_no_time_is_guessed():
    p = progress("s", [_Job(1, "running", "s", 0.0), _Job(2, "queued", "s")], now=50.0)
    assert p.seconds_left is None and p.fraction == 0.0


def test_a_failed_run_counts_as_finished_not_as_pace():
    jobs = [_Job(1, "failed", "s", 0.0, 1.0), _Job(2, "completed", "s", 0.0, 100.0)]
    p = progress("s", jobs, now=200.0)
    assert p.fraction == 1.0 and p.seconds_left == 0 and not p.active


def test_a_sweep_is_gathered_where_its_first_job_stands():
    a, b, c, d, e = (
        _Job(1, "running", "s1"),
        _Job(2, "queued", None),
        _Job(3, "queued", "s1"),
        _Job(4, "completed", "alone"),
        _Job(5, "completed", "s1"),
    )
    assert groups([a, b, c, d, e]) == [("s1", [a, c, e]), b, d]
