import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prune_core.jobs import body, dispatcher
from prune_core.jobs.store import JobStore, job_process_alive
from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parent.parent
QUICK = RunSpec.of(**{**TINY, "fine_tune_epochs": 1}, sparsity=0.5)
SLOW = RunSpec.of(**{**TINY, "fine_tune_epochs": 400}, sparsity=0.5)


@pytest.fixture
def store(tmp_path, prune_home):
    # share the session's baseline cache so jobs don't retrain the tiny baseline each time
    home = tmp_path / "home"
    home.mkdir()
    (home / "baselines").symlink_to(_baselines(prune_home), target_is_directory=True)
    return JobStore(home / "jobs.sqlite3")


def _baselines(prune_home):
    path = Path(prune_home) / "baselines"
    path.mkdir(exist_ok=True)
    return path


def _wait(predicate, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_store_keeps_order_states_and_history(store):
    ids = [store.submit(QUICK.with_(sparsity=s)) for s in (0.1, 0.2, 0.3)]
    assert [j.id for j in store.list()] == ids[::-1]
    first = store.claim_next()
    assert first.id == ids[0] and first.status == "running"
    store.finish(first.id, "completed", result={"top1": 0.9})
    store.finish(first.id, "failed", error="late")  # a finished job stays finished
    assert store.get(first.id).status == "completed" and store.get(first.id).result == {"top1": 0.9}
    store.request_cancel(ids[1])
    assert store.get(ids[1]).status == "canceled" and store.get(ids[1]).error == "canceled before it started"
    retry = store.retry(ids[1])
    assert store.get(retry).status == "queued" and store.get(retry).spec == store.get(ids[1]).spec
    store.delete(ids[1])
    assert store.get(ids[1]) is None
    assert store.counts() == {"completed": 1, "queued": 2}
    with pytest.raises(ValueError):
        store.finish(ids[2], "running")


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


def _start_job_process(store, job_id):
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent)}
    return subprocess.Popen([sys.executable, "-m", "prune_core", "job", str(job_id)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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


def test_cancel_takes_effect_within_five_seconds(store):
    job_id = store.submit(SLOW)
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent)}
    dispatcher = subprocess.Popen([sys.executable, "-m", "prune_core", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: store.get(job_id).progress.get("phase") == "fine-tuning", 120)
        asked = time.monotonic()
        store.request_cancel(job_id)
        assert _wait(lambda: store.get(job_id).status == "canceled", 5.0, step=0.05)
        assert time.monotonic() - asked <= 5.0
    finally:
        dispatcher.wait(timeout=60)


def test_twenty_queued_jobs_all_finish_none_lost(store):
    ids = [store.submit(QUICK.with_(fine_tune_epochs=0, sparsity=round(0.04 * i, 2))) for i in range(20)]
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
    assert merged["tflite_float_agreement"] >= 0.99 and merged["tflite_int8_bytes"] < merged["tflite_float_bytes"]
    assert merged["top1"] == export.result.get("top1", merged["top1"])  # the run's own numbers are kept
    from prune_core.results import frame as results

    assert list(results.frame(store.list())["job"]) == [run_id]  # export jobs are not runs
    with pytest.raises(ValueError, match="not a completed run"):
        store.submit_export(export_id + 100)


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


def test_a_store_locked_longer_than_its_timeout_never_kills_a_running_job(store):
    """Progress reports and cancel checks skip a locked store instead of failing the job (here the
    store's timeout is 3 s and the lock is held for 7 s, mid fine-tuning)."""
    import sqlite3

    job_id = store.submit(SLOW)
    store.claim_next()
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent), "PRUNE_DB_TIMEOUT": "3"}
    proc = subprocess.Popen([sys.executable, "-m", "prune_core", "job", str(job_id)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: (store.get(job_id).progress or {}).get("phase") == "fine-tuning", 120)
        lock = sqlite3.connect(store.path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        time.sleep(7)
        lock.execute("COMMIT")
        lock.close()
        step = (store.get(job_id).progress or {}).get("step", 0)
        assert _wait(lambda: (store.get(job_id).progress or {}).get("step", 0) > step, 20), "no progress after the lock"
        assert store.get(job_id).status == "running"
        store.request_cancel(job_id)
        assert _wait(lambda: store.get(job_id).status == "canceled", 10)
    finally:
        proc.kill()
        proc.wait()


def test_a_final_state_waits_out_a_locked_store(store, monkeypatch):
    import sqlite3
    import threading

    from prune_core.jobs import store as jobs

    monkeypatch.setattr(jobs, "DB_TIMEOUT", 0.3)
    first, second = store.submit(QUICK), store.submit(QUICK)
    lock = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError):
        store.finish(first, "failed", error="no patience")
    assert store.report(first, {"phase": "fine-tuning"}) is False and store.cancel_requested(first) is False
    threading.Timer(2.0, lambda: (lock.execute("COMMIT"), lock.close())).start()
    store.finish(second, "completed", result={"x": 1}, patience=30)
    assert store.get(second).status == "completed" and store.get(second).result == {"x": 1}


def test_a_full_disk_leaves_no_temp_file_and_says_so(tmp_path, monkeypatch):
    import errno

    from prune_core.engine import models
    from prune_core.engine.keras_env import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    def full_disk(path, *args, **kwargs):
        Path(path).write_bytes(b"half a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model, "save", full_disk)
    with pytest.raises(OSError) as raised:
        models.save(model, tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []
    assert body._reason(raised.value).startswith("the disk is full")


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

    from prune_core.jobs import store as jobs

    monkeypatch.setattr(jobs, "DB_TIMEOUT", 0.5)
    job_id = store.submit(QUICK)
    lock = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("started", dispatcher.dispatch(store, parallel=1,
                                                                                        idle_seconds=0)))
    thread.start()
    time.sleep(3)  # the dispatcher polls a store it cannot read, six times its timeout
    lock.execute("COMMIT")
    lock.close()
    thread.join(timeout=120)
    assert not thread.is_alive() and done["started"] == 1
    assert store.get(job_id).status == "completed"
