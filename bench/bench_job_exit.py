"""How long a job process takes to end after recording its final state, with and without `exit_now`.

    .venv/bin/python bench/bench_job_exit.py [--rounds 3]

The same tiny-CNN job, in alternation, run two ways on a private store:
- `python -m prune_core job ID`: the job process as both backends start it (it calls
  `process.exit_now` once its state is recorded);
- `python -c "body.run_job(ID)"`: the same work, then Python's ordinary teardown (TensorFlow's
  included). Prints the seconds from the store's `finished_at` to the process's end, and the
  process's whole CPU time. A Ray task waits for its job process to end before it returns, so that
  time was on every Ray job's path. Writes section job-exit of docs/benchmarks/ray.md (`--no-write`:
  print only)."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ray import SWEEP, TITLE, _home, trained_baselines  # noqa: E402
from bench.report import Report  # noqa: E402
from prune_core.jobs.store import JobStore  # noqa: E402

WAYS = {
    "python -m prune_core job ID (exit_now)": ["-m", "prune_core", "job"],
    "body.run_job(ID), then Python's teardown": [
        "-c",
        "import sys; from prune_core.jobs import body; body.run_job(int(sys.argv[1]))",
    ],
}


def _once(baselines: Path, args: list) -> tuple[float, float]:
    """(s from the recorded final state to the process's end, CPU s of the process)."""
    home = _home(baselines)
    store = JobStore(home / "jobs.sqlite3")
    job_id = store.submit(SWEEP[1].with_(fine_tune_epochs=10))
    store.claim_next()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, *args, str(job_id)],
        cwd=ROOT,
        env={**os.environ, "PRUNE_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    job = store.get(job_id)
    assert job.status == "completed", job.error
    return ended - job.finished_at, (after.ru_utime + after.ru_stime) - (
        before.ru_utime + before.ru_stime
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    options, report = Report.parse_args(ap, "ray", TITLE)
    rounds = options.rounds
    baselines = trained_baselines()
    seen: dict = {name: [] for name in WAYS}
    for _ in range(rounds):
        for name, args in WAYS.items():  # in alternation
            seen[name].append(_once(baselines, args))
    report.section("job-exit")
    report.heading(f"a tiny-CNN job process's end, {rounds} rounds")
    report.table(
        ["way", "s from final state to exit (median; each)", "process CPU s (median)"],
        [
            [
                name,
                f"{statistics.median(r[0] for r in rows):.2f} "
                f"({', '.join(f'{r[0]:.2f}' for r in rows)})",
                f"{statistics.median(r[1] for r in rows):.2f}",
            ]
            for name, rows in seen.items()
        ],
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
