"""Tests for prune_core.jobs.process: job folders, logs, the lock, spawning and reaping."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from prune_core.jobs import process
from tests.conftest import ROOT
from tests.jobs.helpers import QUICK


def _running_job(store):
    job_id = store.submit(QUICK)
    assert store.claim_next().id == job_id
    return job_id


def _ended(code_or_signal):
    """A real child process that has already ended with this exit code (or, negative, signal)."""
    if code_or_signal < 0:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        os.kill(proc.pid, -code_or_signal)
    else:
        proc = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({code_or_signal})"])
    proc.wait(timeout=30)
    return proc


def test_job_dir_is_the_stores_folder_and_is_created(store):
    root = store.path.parent
    path = process.job_dir(7, root)
    assert path == store.folder(7) == root / "runs" / "7"
    assert path.is_dir()
    assert process.job_dir("007", root) == path  # an id is a number, however it is written


def test_log_line_appends_timestamped_lines_the_store_can_read(store):
    root = store.path.parent
    process.log_line(3, root, "claimed")
    process.log_line(3, root, "killed after the grace period")
    lines = store.log(3).splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] claimed", lines[0])
    assert lines[1].endswith("] killed after the grace period")


def test_log_line_never_raises_when_the_log_cannot_be_written(tmp_path):
    (process.job_dir(4, tmp_path) / "log.txt").mkdir()  # a folder where the log file should be
    process.log_line(4, tmp_path, "lost, but the dispatcher goes on")


def test_only_one_holder_of_the_dispatcher_lock_at_a_time(tmp_path):
    first = process.take_lock(tmp_path)
    assert first is not None and (tmp_path / "worker.lock").exists()
    try:
        assert process.take_lock(tmp_path) is None
    finally:
        first.close()
    again = process.take_lock(tmp_path)
    assert again is not None  # released with its holder
    again.close()


def test_locks_of_different_homes_are_independent(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = process.take_lock(tmp_path / "a"), process.take_lock(tmp_path / "b")
    try:
        assert a is not None and b is not None
    finally:
        a.close()
        b.close()


def test_kill_ends_a_process_and_ignores_one_that_is_gone():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    process.kill(proc.pid)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    process.kill(pid_max + 1)  # no such process: nothing raised


def test_a_killed_job_process_is_recorded_as_interrupted_with_the_signal(store):
    job_id = _running_job(store)
    children, cancel_seen = {job_id: _ended(-signal.SIGKILL)}, {job_id: 1.0}
    process.reap(store, children, cancel_seen)
    job = store.get(job_id)
    assert job.status == "interrupted"
    assert (
        job.error == "the job process died while starting: killed by SIGKILL "
        "(out of memory, or killed from outside?)"
    )
    assert children == {} and cancel_seen == {}


def test_a_job_process_that_exited_without_a_final_state_gets_its_exit_code(store):
    job_id = _running_job(store)
    process.reap(store, {job_id: _ended(3)}, {})
    job = store.get(job_id)
    assert job.status == "interrupted"
    assert job.error == "the job process died while starting: exit code 3"  # no out-of-memory hint


def test_a_terminated_job_process_gets_no_out_of_memory_hint(store):
    job_id = _running_job(store)
    process.reap(store, {job_id: _ended(-signal.SIGTERM)}, {})
    assert store.get(job_id).error == "the job process died while starting: killed by SIGTERM"


def test_a_crashed_job_process_is_recorded_with_the_signal_and_the_phase_it_was_in(store):
    job_id = _running_job(store)
    store.report(job_id, {"phase": "fine-tuning", "step": 2, "steps": 40})
    process.reap(store, {job_id: _ended(-signal.SIGABRT)}, {})
    job = store.get(job_id)
    assert job.status == "interrupted"
    assert job.error == (
        "the job process died while fine-tuning (step 2 of 40): killed by SIGABRT "
        "(a crash inside a native library)"
    )


def test_reap_keeps_the_final_state_a_job_recorded_itself(store):
    job_id = _running_job(store)
    store.finish(job_id, "completed", result={"top1": 0.5})
    children = {job_id: _ended(0)}
    process.reap(store, children, {})
    job = store.get(job_id)
    assert job.status == "completed" and job.error is None and job.result == {"top1": 0.5}
    assert children == {}  # forgotten all the same


def test_reap_leaves_a_job_whose_process_still_runs(store):
    job_id = _running_job(store)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    children, cancel_seen = {job_id: proc}, {job_id: 5.0}
    try:
        process.reap(store, children, cancel_seen)
        assert store.get(job_id).status == "running"
        assert children == {job_id: proc} and cancel_seen == {job_id: 5.0}
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_spawn_runs_the_job_against_the_given_home_and_logs_into_its_folder(store):
    root = store.path.parent
    # a job that is already completed: its process only reads it and exits 0 ("missing": 1)
    [job_id] = store.add_finished([(QUICK, "run", "done", None, {}, 1.0)])
    proc = process.spawn(job_id, root)
    assert proc.wait(timeout=60) == 0
    assert (root / "runs" / str(job_id) / "log.txt").exists()
    proc = process.spawn(job_id + 1, root)  # no such job
    assert proc.wait(timeout=60) == 1


def _die_with_parent(parent: str) -> subprocess.CompletedProcess:
    code = "from prune_core.jobs import process; process.die_with_parent(); print('alive')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PRUNE_PARENT_PID": parent},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_tied_job_process_ends_at_once_when_its_parent_is_not_the_one_named():
    orphan = _die_with_parent("1")  # its parent is this test, not pid 1
    assert orphan.returncode == 1 and "alive" not in orphan.stdout
    tied = _die_with_parent(str(os.getpid()))
    assert tied.returncode == 0 and tied.stdout.strip() == "alive"
