"""Tests for prune_core.jobs.local: the local dispatcher's limits, cancels, time limit and reaping.

Job processes are stand-ins (a sleeping Python whose command line names the job as a real one's
does), so each test checks the dispatcher's own decisions in well under a second.
"""

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from prune_core.jobs import local
from prune_core.serving import limits
from tests.jobs.helpers import QUICK, _wait


@pytest.fixture
def fake_jobs(monkeypatch):
    """Replace job processes by sleepers; returns {job id: (process, root it was given)}."""
    started = {}

    def spawn(job_id, root):
        proc = _sleeper(job_id)
        started[job_id] = (proc, root)
        return proc

    monkeypatch.setattr(local, "spawn", spawn)
    yield started
    for proc, _ in started.values():
        proc.kill()
        proc.wait(timeout=30)


def _sleeper(job_id):
    # /proc/PID/cmdline holds "prune_core" and the job's id, as a real job process's does
    code = "import time; time.sleep(120)"
    return subprocess.Popen([sys.executable, "-c", code, "prune_core", "job", str(job_id)])


def _backdate(store, job_id, seconds):
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE jobs SET started_at=started_at-? WHERE id=?", (seconds, job_id))


def test_max_jobs_reads_prune_max_jobs_and_falls_back_to_one(monkeypatch):
    monkeypatch.delenv("PRUNE_MAX_JOBS", raising=False)
    assert local.max_jobs() == 1
    for text, expected in (("3", 3), ("0", 1), ("-2", 1), ("many", 1)):
        monkeypatch.setenv("PRUNE_MAX_JOBS", text)
        assert local.max_jobs() == expected, text


def test_parallel_defaults_to_prune_max_jobs(store, monkeypatch):
    monkeypatch.setenv("PRUNE_MAX_JOBS", "4")
    assert local.LocalDispatcher(store).parallel == 4
    assert local.LocalDispatcher(store, parallel=2).parallel == 2


def test_tick_starts_queued_jobs_up_to_the_parallel_limit_oldest_first(store, fake_jobs):
    ids = [store.submit(QUICK.with_(sparsity=s)) for s in (0.3, 0.4, 0.5)]
    driver = local.LocalDispatcher(store, parallel=2)
    assert driver.tick() == 2
    assert sorted(fake_jobs) == ids[:2]
    assert all(root == store.path.parent for _, root in fake_jobs.values())
    for job_id in ids[:2]:
        job = store.get(job_id)
        assert job.status == "running" and job.pid == fake_jobs[job_id][0].pid
    assert store.get(ids[2]).status == "queued"
    assert driver.tick() == 0  # the limit is reached: nothing more starts


def test_a_job_process_that_died_frees_its_slot_and_is_recorded(store, fake_jobs):
    first, second = store.submit(QUICK), store.submit(QUICK.with_(sparsity=0.6))
    driver = local.LocalDispatcher(store, parallel=1)
    assert driver.tick() == 1
    proc = fake_jobs[first][0]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert driver.tick() == 1
    job = store.get(first)
    assert job.status == "interrupted" and "killed by SIGKILL" in job.error
    assert list(driver.children) == [second]


def test_a_job_asked_to_stop_is_killed_only_after_the_grace_period(store, fake_jobs, monkeypatch):
    monkeypatch.setattr(local, "CANCEL_GRACE", 0.3)
    job_id = store.submit(QUICK)
    driver = local.LocalDispatcher(store, parallel=1)
    driver.tick()
    store.request_cancel(job_id)
    driver.tick()  # the grace period starts: the job may still stop by itself
    proc = fake_jobs[job_id][0]
    assert proc.poll() is None and store.get(job_id).status == "running"
    time.sleep(0.4)
    driver.tick()
    assert proc.poll() == -signal.SIGKILL
    job = store.get(job_id)
    assert job.status == "canceled"
    assert job.error == "canceled by request (stopped after the grace period)"
    assert driver.children == {}


def test_a_job_left_running_by_an_earlier_dispatcher_counts_against_the_limit(store, fake_jobs):
    adopted = store.submit(QUICK)
    store.claim_next()
    earlier = _sleeper(adopted)
    try:
        store.set_pid(adopted, earlier.pid)
        waiting = store.submit(QUICK.with_(sparsity=0.7))
        driver = local.LocalDispatcher(store, parallel=1)
        assert driver.tick() == 0 and store.get(waiting).status == "queued"
        assert driver.busy()  # nothing of its own runs, but the store says a job does
        earlier.kill()
        earlier.wait(timeout=30)
        assert driver.tick() == 1  # a vanished process no longer holds the slot
        assert store.get(waiting).status == "running"
    finally:
        earlier.kill()
        earlier.wait(timeout=30)


def test_a_job_left_running_by_an_earlier_dispatcher_can_be_canceled(store, monkeypatch):
    monkeypatch.setattr(local, "CANCEL_GRACE", 0.0)
    job_id = store.submit(QUICK)
    store.claim_next()
    earlier = _sleeper(job_id)
    try:
        store.set_pid(job_id, earlier.pid)
        store.request_cancel(job_id)
        local.LocalDispatcher(store, parallel=1).tick()
        assert _wait(lambda: earlier.poll() is not None, 10, step=0.05)
        assert earlier.returncode == -signal.SIGKILL
        assert store.get(job_id).status == "canceled"
    finally:
        earlier.kill()
        earlier.wait(timeout=30)


def test_a_job_over_the_time_limit_is_killed_with_the_reason(store, fake_jobs, monkeypatch):
    monkeypatch.setenv("PRUNE_JOB_TIMEOUT", "60")
    late, on_time = store.submit(QUICK), store.submit(QUICK.with_(sparsity=0.6))
    driver = local.LocalDispatcher(store, parallel=2)
    assert driver.tick() == 2
    _backdate(store, late, 61)
    driver.tick()
    assert fake_jobs[late][0].poll() == -signal.SIGKILL
    job = store.get(late)
    assert job.status == "interrupted" and job.error == limits.timeout_reason(60)
    assert store.get(on_time).status == "running" and fake_jobs[on_time][0].poll() is None


def test_without_a_time_limit_a_long_job_runs_on(store, fake_jobs, monkeypatch):
    monkeypatch.delenv("PRUNE_JOB_TIMEOUT", raising=False)
    job_id = store.submit(QUICK)
    driver = local.LocalDispatcher(store, parallel=1)
    driver.tick()
    _backdate(store, job_id, 10**6)
    driver.tick()
    assert store.get(job_id).status == "running" and fake_jobs[job_id][0].poll() is None


def test_busy_while_a_job_runs_and_idle_after(store, fake_jobs):
    driver = local.LocalDispatcher(store, parallel=1)
    assert not driver.busy()
    job_id = store.submit(QUICK)
    assert not driver.busy()  # queued is not busy: tick starts it
    driver.tick()
    assert driver.busy()
    store.finish(job_id, "completed", result={})
    fake_jobs[job_id][0].kill()
    fake_jobs[job_id][0].wait(timeout=30)
    driver.tick()
    assert not driver.busy() and store.get(job_id).status == "completed"


def test_jobs_whose_process_vanished_are_recovered_now_and_then(store, monkeypatch):
    job_id = store.submit(QUICK)
    store.claim_next()
    gone = _sleeper(job_id)
    gone.kill()
    gone.wait(timeout=30)
    store.set_pid(job_id, gone.pid)
    driver = local.LocalDispatcher(store, parallel=1)
    monkeypatch.setattr(local, "RECOVER_EVERY", 3600.0)
    driver.tick()
    assert store.get(job_id).status == "running"  # not yet time to look
    monkeypatch.setattr(local, "RECOVER_EVERY", 0.0)
    time.sleep(0.01)
    driver.tick()
    assert store.get(job_id).status == "interrupted"
