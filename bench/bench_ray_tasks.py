"""Is a job slower as a Ray task? Two jobs at once, outside the dispatcher, three ways, in
alternation.

    .venv/bin/python bench/bench_ray_tasks.py [--rounds 2] [--epochs 80]

- plain: two `body.execute` calls in two plain Python processes;
- Ray, bare: the same call as two Ray tasks (`max_calls=1`, 1 CPU each) in a private 2-CPU instance,
  TensorFlow inside the Ray worker (how the backend ran jobs before);
- Ray, run_remote: the dispatcher's own task body (`ray_task.run_remote`, with its mailbox),
  which runs each job in a process of its own from a reused Ray worker. Prints the wall time of each
  pair and the jobs' own `total_seconds`. `bench_ray.py` measures the whole dispatcher; this one
  isolates the task (see the README's Ray benchmark). Writes section tasks of docs/benchmarks/ray.md
  (`--no-write`: print only)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ray import SWEEP, TITLE, trained_baselines  # noqa: E402
from bench.report import Report  # noqa: E402


def execute(baselines: str, spec_json: str) -> dict:
    """One job's work under a fresh PRUNE_HOME holding the trained baseline: (wall s, its
    total_seconds)."""
    import shutil
    from types import SimpleNamespace

    root = Path(tempfile.mkdtemp(prefix="prune-ray-tasks-"))
    shutil.copytree(baselines, root / "baselines")
    os.environ["PRUNE_HOME"] = str(root)
    from prune_core.jobs import body
    from prune_core.recipe.spec import RunSpec

    started = time.monotonic()
    job = SimpleNamespace(id=1, kind="run", spec=RunSpec.from_json(spec_json))
    status, result, error = body.execute(job, root, lambda p: None, lambda: False)
    assert status == "completed", error
    return {"wall": time.monotonic() - started, "total": result["total_seconds"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument(
        "--niceness",
        default="15",
        help="Ray's task workers' nice value (15: Ray's default, as the dispatcher leaves it)",
    )
    args, report = Report.parse_args(ap, "ray", TITLE)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TF_USE_LEGACY_KERAS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_worker_niceness": args.niceness,
    }
    baselines, spec = (
        str(trained_baselines(env)),
        SWEEP[1].with_(fine_tune_epochs=args.epochs).to_json(),
    )
    os.environ.update(env)
    import ray

    from prune_core.jobs import ray_task

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    bare = ray.remote(max_calls=1, num_cpus=1)(execute)
    # as the dispatcher: a reused worker, a job process per task
    task = ray.remote(num_cpus=1)(ray_task.run_remote)
    mailbox = ray_task.mailbox_class().remote()
    files = {
        p.name: p.read_bytes() for p in Path(baselines).iterdir() if p.suffix in (".keras", ".json")
    }
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.bench_ray_tasks import "
        f"execute; "
        f"print(json.dumps(execute({baselines!r}, {spec!r})))"
    )
    rows = []
    for _ in range(args.rounds):
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(2)
        ]
        totals = [json.loads(p.communicate()[0].strip().splitlines()[-1])["total"] for p in procs]
        rows.append(("plain processes", time.monotonic() - started, totals))
        started = time.monotonic()
        totals = [r["total"] for r in ray.get([bare.remote(baselines, spec) for _ in range(2)])]
        rows.append(("Ray tasks, bare", time.monotonic() - started, totals))
        started = time.monotonic()
        outs = ray.get([task.remote(i, "run", spec, files, mailbox) for i in (1, 2)])
        ray.get(mailbox.drain.remote())
        rows.append(
            (
                "Ray tasks, run_remote + mailbox",
                time.monotonic() - started,
                [o["result"]["total_seconds"] for o in outs],
            )
        )
    ray.shutdown()
    report.section("tasks")
    report.heading(
        f"two tiny-CNN jobs at once ({args.epochs} fine-tune epochs), {args.rounds} rounds, Ray "
        f"workers at "
        f"nice {args.niceness}"
    )
    report.table(
        ["way", "wall s for the pair", "the jobs' total_seconds"],
        [
            [name, f"{wall:.1f}", ", ".join(f"{t:.1f}" for t in totals)]
            for name, wall, totals in rows
        ],
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
