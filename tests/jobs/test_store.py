"""Tests for prune_core.jobs.store: job states, history, owners, recovery and a locked database."""

import os
import signal
import subprocess
import sys

import pytest

from prune_core.errors import AccessError
from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.conftest import ROOT
from tests.jobs.helpers import QUICK, SLOW, _wait


def test_store_keeps_order_states_and_history(store):
    ids = [store.submit(QUICK.with_(sparsity=s)) for s in (0.1, 0.2, 0.3)]
    assert [j.id for j in store.list()] == ids[::-1]
    first = store.claim_next()
    assert first.id == ids[0] and first.status == "running"
    store.finish(first.id, "completed", result={"top1": 0.9})
    store.finish(first.id, "failed", error="late")  # a finished job stays finished
    assert store.get(first.id).status == "completed" and store.get(first.id).result == {"top1": 0.9}
    store.request_cancel(ids[1])
    assert (
        store.get(ids[1]).status == "canceled"
        and store.get(ids[1]).error == "canceled before it started"
    )
    retry = store.retry(ids[1])
    assert store.get(retry).status == "queued" and store.get(retry).spec == store.get(ids[1]).spec
    store.delete(ids[1])
    assert store.get(ids[1]) is None
    assert store.counts() == {"completed": 1, "queued": 2}
    with pytest.raises(ValueError):
        store.finish(ids[2], "running")


def _start_job_process(store, job_id):
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent)}
    return subprocess.Popen(
        [sys.executable, "-m", "prune_core", "job", str(job_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_job_process_is_marked_interrupted_on_recovery(store):
    job_id = store.submit(SLOW)
    store.claim_next()
    proc = _start_job_process(store, job_id)
    assert _wait(lambda: store.get(job_id).progress.get("phase") == "fine-tuning", 120)
    assert store.get(job_id).pid == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.get(job_id).status == "running"  # nobody has noticed yet
    assert store.recover() == [job_id]
    job = store.get(job_id)
    assert job.status == "interrupted" and "ended without" in job.error


def test_retry_points_the_old_job_to_the_new_and_delete_removes_files(store):
    job_id = store.submit(QUICK)
    store.claim_next()
    store.finish(job_id, "failed", error="boom")
    folder = store.folder(job_id)
    folder.mkdir(parents=True)
    (folder / "log.txt").write_text("line 1\nline 2\n")
    assert store.log(job_id) == "line 1\nline 2" and store.log(job_id, lines=1) == "line 2"
    new = store.retry(job_id)
    assert store.get(job_id).retried_as == new and store.get(new).status == "queued"
    assert not store.delete(new)  # queued: cancel it first
    assert store.delete(job_id) and store.get(job_id) is None and not folder.exists()


def test_a_scoring_run_is_its_own_kind_and_duplicates_are_found_per_kind(store):
    scoring = store.submit(QUICK, kind="scores")
    assert store.get(scoring).kind == "scores"
    assert store.duplicate_of(QUICK, kind="scores") == scoring and store.duplicate_of(QUICK) is None
    with pytest.raises(ValueError):
        store.submit(QUICK, kind="export")


def test_a_final_state_waits_out_a_locked_store(store, monkeypatch):
    import sqlite3
    import threading

    from prune_core.jobs import database as jobs

    monkeypatch.setattr(jobs, "DB_TIMEOUT", 0.3)
    first, second = store.submit(QUICK), store.submit(QUICK)
    lock = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError):
        store.finish(first, "failed", error="no patience")
    assert (
        store.report(first, {"phase": "fine-tuning"}) is False
        and store.cancel_requested(first) is False
    )
    threading.Timer(2.0, lambda: (lock.execute("COMMIT"), lock.close())).start()
    store.finish(second, "completed", result={"x": 1}, patience=30)
    assert store.get(second).status == "completed" and store.get(second).result == {"x": 1}


def test_the_store_records_owners_and_refuses_actions_on_other_peoples_jobs(home):
    store = JobStore()
    spec = RunSpec.of(model="tiny-cnn", dataset="synthetic")
    bobs, alices = (
        store.submit(spec, owner="bob"),
        store.submit(spec.with_(sparsity=0.7), owner="alice"),
    )
    assert (store.get(bobs).owner, store.get(alices).owner) == ("bob", "alice")
    assert not store.request_cancel(bobs, only_owner="alice")
    assert store.get(bobs).status == "queued" and not store.get(bobs).cancel_requested
    assert store.request_cancel(alices, only_owner="alice")
    assert store.get(alices).status == "canceled"
    with pytest.raises(AccessError, match="someone else"):
        store.retry(alices, only_owner="bob")
    retried = store.retry(alices, only_owner="alice")
    assert store.get(retried).owner == "alice"
    assert not store.delete(alices, only_owner="bob") and store.get(alices) is not None
    assert store.delete(alices, only_owner="alice") and store.get(alices) is None
    assert store.counts("bob") == {"queued": 1} and store.counts("alice") == {"queued": 1}
    assert store.cancel_queued(only_owner="alice") == 1
    assert store.get(bobs).status == "queued" and store.get(retried).status == "canceled"
    assert store.request_cancel(bobs)  # an admin (no owner filter) may cancel anyone's job
    assert store.get(bobs).status == "canceled"


def test_a_store_made_before_owners_existed_gains_the_column(home):
    import sqlite3

    db = sqlite3.connect(home / "jobs.sqlite3")
    db.executescript(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, label TEXT "
        "NOT NULL,"
        " sweep TEXT, status TEXT NOT NULL DEFAULT 'queued', created_at REAL NOT NULL, "
        "started_at REAL,"
        " finished_at REAL, pid INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0, progress "
        "TEXT,"
        " error TEXT, result TEXT);"
    )
    db.execute(
        "INSERT INTO jobs(spec, label, created_at) VALUES (?, 'old', 0)", (RunSpec().to_json(),)
    )
    db.commit()
    db.close()
    store = JobStore()
    assert store.get(1).owner is None and store.get(1).kind == "run"


def test_a_job_that_has_not_finished_cannot_be_retried(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    queued = store.submit(QUICK)
    with pytest.raises(ValueError, match="still queued; retry it once it has finished"):
        store.retry(queued)
    store.claim_next()
    with pytest.raises(ValueError, match="still running"):
        store.retry(queued)
    store.finish(queued, "failed", error="boom")
    assert store.retry(queued) != queued


def test_a_result_changed_after_it_finished_changes_the_fingerprint(store):
    """Pages cache completed runs under `fingerprint()`: a re-export whose numbers happen to have
    the same length as before must still be read again (the length alone did not change)."""
    job_id = store.submit(RunSpec())
    store.claim_next()
    store.finish(job_id, "completed", result={"top1": 0.5})
    before = store.fingerprint()
    store.merge_result(job_id, {"tflite_int8_top1": 0.61})
    merged = store.fingerprint()
    store.merge_result(job_id, {"tflite_int8_top1": 0.45})  # the same length as 0.61
    assert len({before, merged, store.fingerprint()}) == 3
    assert store.get(job_id).result["tflite_int8_top1"] == 0.45
