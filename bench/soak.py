"""Fault soak: many tiny jobs through the real dispatcher while things go wrong, then an audit.

    .venv/bin/python bench/soak.py [--jobs 50] [--parallel 2] [--lock-seconds 40]

In a throw-away PRUNE_HOME (the tiny CNN on the synthetic set, its baseline trained once first):
- queue `--jobs` runs (a few long ones among them) and start a dispatcher;
- cancel a random fifth of them (queued or running);
- `kill -9` two running job processes, and the dispatcher itself (then start a new one);
- hold an exclusive lock on the store for `--lock-seconds` while jobs run (longer than its 30 s
  timeout);
- kill the Streamlit server serving the store and start it again; then wait for the queue to drain
  and audit: every job is in a final state with a reason, every completed result reads and its model
  file loads, no temporary files remain, and retrying an interrupted job completes. Prints the
  counts and PASS / FAIL lines, and writes them to docs/benchmarks/soak.md (`--no-write`: print
  only)."""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402

TINY = dict(
    model="tiny-cnn",
    dataset="synthetic",
    image_size=16,
    baseline_epochs=4,
    batch_size=16,
    calibration_examples=16,
)


def _dispatcher(home: Path, parallel: int) -> subprocess.Popen:
    env = {**os.environ, "PRUNE_HOME": str(home), "PRUNE_MAX_JOBS": str(parallel)}
    return subprocess.Popen(
        [sys.executable, "-m", "prune_core", "worker", "--forever"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _server(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PRUNE_HOME": str(home), "PRUNE_AUTOSTART": "0"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--lock-seconds", type=float, default=40.0)
    ap.add_argument("--seed", type=int, default=0)
    args, report = Report.parse_args(ap, "soak", "Fault soak: jobs under kills, locks and restarts")
    rng = random.Random(args.seed)
    home = Path(tempfile.mkdtemp(prefix="prune-soak-"))
    os.environ["PRUNE_HOME"] = str(home)

    from prune_core.engine import pipeline
    from prune_core.jobs.store import JobStore
    from prune_core.recipe.spec import RunSpec

    pipeline.run(RunSpec.of(**TINY, fine_tune_epochs=0))  # the baseline, trained once for every job
    store = JobStore()
    ids = [
        store.submit(
            RunSpec.of(
                **TINY,
                strategy=rng.choice(["magnitude", "taylor", "random"]),
                sparsity=round(rng.uniform(0.1, 0.9), 2),
                fine_tune_epochs=rng.choice([1, 2, 40] if i % 10 == 0 else [1, 2]),
            ),
            sweep="soak",
        )
        for i in range(args.jobs)
    ]
    events = Counter()
    dispatcher = _dispatcher(home, args.parallel)
    server = _server(home, 8600 + rng.randrange(300))
    start = time.monotonic()

    def running():
        return [j for j in store.list(status=("running",)) if j.pid]

    for job_id in rng.sample(ids, len(ids) // 5):  # cancel a fifth, queued or running
        store.request_cancel(job_id)
        events["cancel requested"] += 1
        time.sleep(rng.uniform(0.0, 0.5))
    killed = 0
    while killed < 2 and time.monotonic() - start < 300:
        live = running()
        if live:
            victim = rng.choice(live)
            try:
                os.kill(victim.pid, signal.SIGKILL)
                killed += 1
                events["job process killed (-9)"] += 1
            except ProcessLookupError:
                pass
        time.sleep(2.0)
    os.killpg(dispatcher.pid, signal.SIGKILL)  # the dispatcher (and its children, in its session)
    dispatcher.wait()
    events["dispatcher killed (-9)"] += 1
    dispatcher = _dispatcher(home, args.parallel)
    while not running() and time.monotonic() - start < 300:
        time.sleep(0.5)
    lock = sqlite3.connect(store.path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    time.sleep(args.lock_seconds)
    lock.execute("COMMIT")
    lock.close()
    events[f"store locked {args.lock_seconds:.0f} s"] += 1
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    server = _server(home, 8900 + rng.randrange(90))
    events["server killed (-9) and restarted"] += 1

    while store.list(status=("queued", "running")) and time.monotonic() - start < 1800:
        time.sleep(1.0)
    drained = time.monotonic() - start

    from prune_core.engine import models

    jobs = store.list()
    states = Counter(j.status for j in jobs)
    no_reason = [
        j.id for j in jobs if j.status in ("failed", "canceled", "interrupted") and not j.error
    ]
    unread, unloadable = [], []
    for job in (j for j in jobs if j.status == "completed"):
        try:
            result = job.run_result
            models.load_user_model(result.model_path)
        except Exception as exc:  # noqa: BLE001 - the audit reports every kind of failure
            (unread if "model" not in str(exc) else unloadable).append((job.id, str(exc)[:80]))
    temp = [
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.name.startswith((".tmp-", "tmp")) or p.suffix == ".tmp"
    ]
    retried = None
    interrupted = [j for j in jobs if j.status == "interrupted"]
    if interrupted:
        retried = store.retry(interrupted[0].id)
        while (
            store.get(retried).status in ("queued", "running") and time.monotonic() - start < 2400
        ):
            time.sleep(1.0)
    dispatcher.terminate()
    server.terminate()
    alive = [j.id for j in store.list(status=("running",))]

    report.section("soak")
    report.heading(
        f"Fault soak: {args.jobs} tiny jobs, {args.parallel} at a time (drained in {drained:.0f} s)"
    )
    report.table(["event", "count"], events.items())
    report.table(["final state", "jobs"], sorted(states.items()))
    if interrupted:
        report.text(
            "\n".join(f"- interrupted job {job.id}: {job.error}" for job in interrupted[:5])
        )
    report.checks(
        [
            (
                f"every job in a final state ({sum(states[s] for s in ('queued', 'running'))} not)",
                not any(states[s] for s in ("queued", "running")),
            ),
            (
                f"every failed / canceled / interrupted job has a reason ({len(no_reason)} "
                f"without)",
                not no_reason,
            ),
            (f"every completed result reads ({len(unread)} do not: {unread[:2]})", not unread),
            (
                f"every completed model file loads ({len(unloadable)} do not: {unloadable[:2]})",
                not unloadable,
            ),
            (f"no temporary files left ({temp[:3]})", not temp),
            (
                f"retrying an interrupted job completes (job {retried}: "
                f"{store.get(retried).status if retried else 'none was interrupted'})",
                retried is None or store.get(retried).status == "completed",
            ),
            (f"nothing left running ({alive})", not alive),
        ]
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
