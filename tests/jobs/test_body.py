"""Tests for prune_core.jobs.body: a job process outlasts a locked store; a full disk is named."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prune_core.errors import failure_reason
from prune_core.jobs import body
from tests.conftest import ROOT
from tests.jobs.helpers import QUICK, SLOW, _wait


def test_a_store_locked_longer_than_its_timeout_never_kills_a_running_job(store):
    """Progress reports and cancel checks skip a locked store instead of failing the job (here the
    store's timeout is 3 s and the lock is held for 7 s, mid fine-tuning)."""
    import sqlite3

    job_id = store.submit(SLOW)
    store.claim_next()
    env = {**os.environ, "PRUNE_HOME": str(store.path.parent), "PRUNE_DB_TIMEOUT": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "prune_core", "job", str(job_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: (store.get(job_id).progress or {}).get("phase") == "fine-tuning", 120)
        lock = sqlite3.connect(store.path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        time.sleep(7)
        lock.execute("COMMIT")
        lock.close()
        step = (store.get(job_id).progress or {}).get("step", 0)
        assert _wait(lambda: (store.get(job_id).progress or {}).get("step", 0) > step, 20), (
            "no progress after the lock"
        )
        assert store.get(job_id).status == "running"
        store.request_cancel(job_id)
        assert _wait(lambda: store.get(job_id).status == "canceled", 10)
    finally:
        proc.kill()
        proc.wait()


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
    assert failure_reason(raised.value).startswith("the disk is full")


def _claimed(store, spec):
    job_id = store.submit(spec)
    store.claim_next()
    return job_id


def test_a_finished_job_logs_its_start_its_phases_and_its_end(store, monkeypatch):
    from prune_core.engine import pipeline
    from prune_core.progress import Progress

    def run(spec, *, on_progress, **kwargs):  # the engine's calls, without training
        on_progress(Progress("loading baseline", message="using the cached baseline"))
        for epoch in (1, 2):
            on_progress(Progress("fine-tuning", epoch=epoch, epochs=2, step=epoch, steps=2))
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(pipeline, "run", run)
    job_id = _claimed(store, QUICK)
    assert body.run_job(job_id, store) == "failed"
    log = store.log(job_id)
    lines = log.splitlines()
    assert f"started run job {job_id}: {QUICK.label()}" in lines[0]
    assert any("loading baseline · using the cached baseline" in line for line in lines)
    assert sum("fine-tuning" in line and "epoch" in line for line in lines) == 2  # once per epoch
    assert any(
        "failed after" in line and "RuntimeError: the engine broke" in line for line in lines
    )
    assert "the failure's traceback" in log and 'raise RuntimeError("the engine broke")' in log


def test_a_job_refused_for_its_input_logs_the_reason_without_a_traceback(store, monkeypatch):
    from prune_core.engine import pipeline
    from prune_core.errors import ModelError

    def run(spec, **kwargs):
        raise ModelError("the model predicts 3 classes but digits has 10")

    monkeypatch.setattr(pipeline, "run", run)
    job_id = _claimed(store, QUICK)
    assert body.run_job(job_id, store) == "failed"
    log = store.log(job_id)
    assert "failed after" in log and "predicts 3 classes but digits has 10" in log
    assert "traceback" not in log
