"""Tests for prune_core.jobs.body: a job process outlasts a locked store; a full disk is named."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prune_core.jobs import body
from tests.conftest import ROOT
from tests.jobs.helpers import SLOW, _wait


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
    assert body._reason(raised.value).startswith("the disk is full")
