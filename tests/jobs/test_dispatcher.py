"""Tests for prune_core.jobs.dispatcher: queued jobs run, fail, cancel, time out; none lost."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prune_core.jobs import dispatcher
from prune_core.jobs.store import job_process_alive
from tests.conftest import ROOT
from tests.jobs.helpers import QUICK, SLOW, _wait


def test_job_runs_to_completion_with_progress_and_results(store):
    job_id = store.submit(QUICK)
    assert dispatcher.dispatch(store, parallel=1, idle_seconds=0) == 1
    job = store.get(job_id)
    assert job.status == "completed", job.error
    assert job.run_result.weight_sparsity == pytest.approx(0.5, abs=0.005)
    assert job.progress["phase"] in ("measuring", "fine-tuning")
    assert Path(job.result["model_path"]).exists()


def test_a_job_that_raises_is_failed_with_its_error(store):
    job_id = store.submit(QUICK.with_(dataset="folder:/nonexistent/images"))
    dispatcher.dispatch(store, parallel=1, idle_seconds=0)
    job = store.get(job_id)
    assert job.status == "failed" and "does not exist" in job.error


def test_cancel_takes_effect_within_five_seconds(store):
    job_id = store.submit(SLOW)
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent)}
    dispatcher = subprocess.Popen(
        [sys.executable, "-m", "prune_core", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: store.get(job_id).progress.get("phase") == "fine-tuning", 120)
        asked = time.monotonic()
        store.request_cancel(job_id)
        assert _wait(lambda: store.get(job_id).status == "canceled", 5.0, step=0.05)
        assert time.monotonic() - asked <= 5.0
    finally:
        dispatcher.wait(timeout=60)


def test_twenty_queued_jobs_all_finish_none_lost(store):
    ids = [
        store.submit(QUICK.with_(fine_tune_epochs=0, sparsity=round(0.04 * i, 2)))
        for i in range(20)
    ]
    dispatcher.dispatch(store, parallel=2, idle_seconds=0)
    jobs = [store.get(i) for i in ids]
    assert [j.status for j in jobs] == ["completed"] * 20, [j.error for j in jobs]
    assert [j.result["target"] for j in jobs] == [round(0.04 * i, 2) for i in range(20)]


def test_only_one_dispatcher_drains_a_queue(store):
    import fcntl

    with open(store.path.parent / "worker.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        store.submit(QUICK)
        assert dispatcher.dispatch(store, idle_seconds=0) == 0
        assert store.list()[0].status == "queued"


def test_export_job_measures_a_finished_run_and_merges_into_it(store):
    run_id = store.submit(QUICK)
    dispatcher.dispatch(store, parallel=1, idle_seconds=0)
    assert "tflite_int8_bytes" not in store.get(run_id).result
    export_id = store.submit_export(run_id)
    dispatcher.dispatch(store, parallel=1, idle_seconds=0)
    export = store.get(export_id)
    assert export.status == "completed", export.error
    merged = store.get(run_id).result
    assert (
        merged["tflite_float_agreement"] >= 0.99
        and merged["tflite_int8_bytes"] < merged["tflite_float_bytes"]
    )
    # the run's own numbers are kept
    assert merged["top1"] == export.result.get("top1", merged["top1"])
    from prune_core.results import frame as results

    assert list(results.frame(store.list())["job"]) == [run_id]  # export jobs are not runs
    with pytest.raises(ValueError, match="not a completed run"):
        store.submit_export(export_id + 100)


def test_a_job_past_the_per_job_limit_is_stopped_with_the_reason(store, monkeypatch):
    monkeypatch.setenv("PRUNE_JOB_TIMEOUT", "4")
    job_id = store.submit(SLOW)
    started = time.monotonic()
    dispatcher.dispatch(store, parallel=1, idle_seconds=0)
    job = store.get(job_id)
    assert job.status == "interrupted" and "longer than the per-job limit of 4 s" in job.error
    assert time.monotonic() - started < 60
    assert not job_process_alive(job.pid, job_id)


def test_the_dispatcher_outlasts_a_store_locked_longer_than_its_timeout(store, monkeypatch):
    import sqlite3
    import threading

    from prune_core.jobs import database as jobs

    monkeypatch.setattr(jobs, "DB_TIMEOUT", 0.5)
    job_id = store.submit(QUICK)
    lock = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    done = {}
    thread = threading.Thread(
        target=lambda: done.setdefault(
            "started", dispatcher.dispatch(store, parallel=1, idle_seconds=0)
        )
    )
    thread.start()
    time.sleep(3)  # the dispatcher polls a store it cannot read, six times its timeout
    lock.execute("COMMIT")
    lock.close()
    thread.join(timeout=120)
    assert not thread.is_alive() and done["started"] == 1
    assert store.get(job_id).status == "completed"
