"""What runs inside a Ray worker for one job (`prune_core.jobs.ray_dispatch` is the driver): the
job in a fresh process of its own under a private PRUNE_HOME, its progress relayed through a mailbox
actor and the driver's cancel passed in, and everything the driver must keep returned as bytes. The
Ray worker never imports TensorFlow; the job process does."""

from __future__ import annotations

import os
import select
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from prune_core import paths
from prune_core.jobs import process
from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec

LOG_KEPT = 20_000  # characters of a remote job's output copied into its log here


def run_remote(job_id: int, kind: str, spec_json: str, baseline_files: dict, mailbox) -> dict:
    """The body of a job's Ray task: run the job in its own process (`python -m prune_core job`, the
    local backend's job process) under a private PRUNE_HOME and store on this node, relay its
    progress and the driver's cancel through the mailbox, and return everything the driver must keep
    (numbers, model file, new baselines, the job's output). The Ray worker itself never imports
    TensorFlow, so it is reused from job to job: only the job process is new each time (measured: a
    fresh Ray worker per job cost about 2 s of CPU per job, and TensorFlow ran slower inside a Ray
    worker's process)."""
    import ray

    root = Path(tempfile.mkdtemp(prefix=f"prune-ray-{job_id}-"))
    baselines = paths.baselines_dir(root)
    for name, content in baseline_files.items():
        (baselines / name).write_bytes(content)
    before = {p.name for p in baselines.iterdir()}
    node = ray.util.get_node_ip_address()
    spec = RunSpec.from_json(spec_json)
    store = JobStore(root / "jobs.sqlite3")
    local_id = store.submit(spec, kind=kind)
    store.claim_next()
    proc = process.spawn(local_id, root, tied=True)
    line = _MailboxLine(
        mailbox, job_id, {"worker": f"Ray node {node}, pid {os.getpid()}", "job_pid": proc.pid}
    )
    line.send({"phase": "starting", "message": f"on Ray node {node}, worker pid {os.getpid()}"})
    sent: set = set()

    def share_baseline(progress: dict) -> None:
        if progress.get("phase") != "baseline training" and not sent:
            trained = _new_baselines(baselines, before)
            if any(
                name.endswith(".keras") and name[: -len(".keras")] + ".json" in trained
                for name in trained
            ):
                # complete (model and summary): share it now, so jobs waiting for it can start
                sent.update(trained)
                mailbox.baseline.remote(spec.baseline_key(), trained)

    try:
        _relay(store, local_id, proc, line, share_baseline)
        # died without a final state: interrupted, with how
        process.reap(store, {local_id: proc}, {})
        job = store.get(local_id)
        folder = process.job_dir(local_id, root)
        model, trace, log = (folder / name for name in ("model.keras", "traceback.txt", "log.txt"))
        new = _new_baselines(baselines, before)
        return {
            "status": job.status,
            "result": job.result if job.status == "completed" else None,
            "error": job.error,
            "node": node,
            "pid": os.getpid(),
            "nice": os.nice(0),
            "model": model.read_bytes() if job.status == "completed" and model.is_file() else None,
            "trained": sorted(sent | set(new)),
            "traceback": trace.read_text() if trace.is_file() else None,
            "log": log.read_text(errors="replace")[-LOG_KEPT:] if log.is_file() else "",
            "baselines": {name: content for name, content in new.items() if name not in sent},
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def _relay(store: JobStore, job_id: int, proc, line: _MailboxLine, on_progress) -> None:
    """Until the job process ends: pass its progress on, and the driver's cancel in (it stops at its
    next step boundary, as a local job does)."""
    last, asked = None, False
    while not _ends_within(proc, process.REPORT_EVERY):
        try:
            progress = store.get(job_id).progress
            if progress and progress != last:
                last = progress
                line.send(progress)
                on_progress(progress)
            if line.should_cancel() and not asked:
                asked = store.request_cancel(job_id)
        except sqlite3.OperationalError:
            pass  # the job is writing: ask again in a moment


def _ends_within(proc, seconds: float) -> bool:
    """Wait up to `seconds` for the process to end, asleep (a pidfd where Linux has one; Popen.wait
    with a timeout polls every few milliseconds)."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux ≥ 5.3, or the process is already reaped
        try:
            proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        select.select([fd], [], [], seconds)
    finally:
        os.close(fd)
    return proc.poll() is not None


class _MailboxLine:
    """A remote job's one line to the driver: each message (progress, or a bare "anything for me?")
    is one mailbox call whose answer says whether to stop. Nothing here ever waits: an answer is
    read once it has arrived, and a bare question goes out only when nothing was sent for half a
    second."""

    def __init__(self, mailbox, job_id: int, where: dict):
        import ray

        self.ray, self.mailbox, self.job_id, self.where = ray, mailbox, job_id, where
        self.answer, self.sent_at, self.cancel = None, 0.0, False

    def _read(self) -> None:
        if self.answer is not None and self.ray.wait([self.answer], timeout=0)[0]:
            try:
                self.cancel = self.cancel or bool(self.ray.get(self.answer))
            except Exception:  # noqa: BLE001 - a lost answer means "not yet"; the next one says
                pass
            self.answer = None

    def send(self, progress: dict | None) -> None:
        self._read()
        self.sent_at = time.monotonic()
        answer = self.mailbox.exchange.remote(self.job_id, progress and {**progress, **self.where})
        # an unread earlier answer is read first; the mailbox's cancel is sticky
        if self.answer is None:
            self.answer = answer

    def should_cancel(self) -> bool:
        if time.monotonic() - self.sent_at >= process.REPORT_EVERY:
            self._read()
            if self.answer is None:
                self.send(None)
            else:
                self.sent_at = time.monotonic()
        return self.cancel


def _new_baselines(folder: Path, before: set) -> dict:
    """Baseline files this task trained (a model and its summary, complete: no lock or temp
    files)."""
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.name not in before and p.suffix in (".keras", ".json") and not p.name.startswith(".")
    }


def mailbox_class():
    import ray

    @ray.remote(num_cpus=0)
    class Mailbox:
        """Progress from remote jobs to the driver, and cancels from the driver to them."""

        def __init__(self):
            self.messages, self.cancel, self.baselines = [], set(), []

        def exchange(self, job_id, progress):
            """Take a remote job's progress (if any); say whether it should stop."""
            if progress:
                self.messages.append((job_id, progress))
            return job_id in self.cancel

        def baseline(self, key, files):
            self.baselines.append((key, files))

        def drain(self):
            out, self.messages = self.messages, []
            trained, self.baselines = self.baselines, []
            return out, trained

        def set_cancel(self, job_ids):
            self.cancel = set(job_ids)

    return Mailbox
