"""The same 8-run sweep through the local backend and through a local Ray instance, side by side.

    .venv/bin/python bench/bench_ray.py [--rounds 2] [--epochs 40]

Three backends, in alternation, each from the same trained baseline (copied into each data
directory) over the same 8 recipes, two at a time:
- local: `PRUNE_MAX_JOBS=2` job processes;
- Ray, private instance: `PRUNE_RAY_ADDRESS=local` with 2 CPUs, started (and stopped) by the worker
  for this sweep, so its start is in the time;
- Ray, running cluster: `ray start --head --num-cpus 2` once, before the rounds, and
  `PRUNE_RAY_ADDRESS=auto` (how the README says to use a cluster). Each is timed from the
  dispatcher's start to the last job's final state in the store (when the dashboard shows every
  result); the dispatcher's exit (after its 2 s idle wait, and Ray's shutdown) is printed beside it.
  Prints the wall times and the ratios Ray / local (goal ≤ 1.15), and writes them into
  docs/benchmarks/ray.md (a section per `--epochs`; `--no-write`: print only)."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402
from prune_core.jobs.store import JobStore  # noqa: E402
from prune_core.recipe.spec import RunSpec  # noqa: E402

RECIPE = dict(
    model="tiny-cnn",
    dataset="synthetic",
    image_size=16,
    baseline_epochs=4,
    calibration_examples=32,
    batch_size=4,
    fine_tune_epochs=40,
)
#: docs/benchmarks/ray.md's title: this script and the other Ray benchmarks each write sections of
#: it.
TITLE = "Ray: the same sweep through local processes and through Ray"
SWEEP = [
    RunSpec.of(**RECIPE, strategy=s, sparsity=p)
    for s in ("magnitude", "taylor", "fisher", "random")
    for p in (0.5, 0.8)
]


def trained_baselines(env: dict | None = None) -> Path:
    """A baselines folder holding the sweep's trained baseline (one 1-epoch run through the
    worker)."""
    seed = Path(tempfile.mkdtemp(prefix="prune-bench-ray-seed-"))
    JobStore(seed / "jobs.sqlite3").submit(SWEEP[0].with_(fine_tune_epochs=1))
    subprocess.run(
        [sys.executable, "-m", "prune_core", "worker"],
        cwd=ROOT,
        check=True,
        env={**(env or os.environ), "PRUNE_HOME": str(seed)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return seed / "baselines"


def _home(baselines: Path) -> Path:
    home = Path(tempfile.mkdtemp(prefix="prune-bench-ray-"))
    shutil.copytree(baselines, home / "baselines")
    return home


def _run(home: Path, env: dict, sweep: list) -> tuple[float, float, list]:
    """(seconds to the last final state, seconds to the dispatcher's exit, [(status, job
    seconds)])."""
    store = JobStore(home / "jobs.sqlite3")
    ids = [store.submit(spec) for spec in sweep]
    start = time.time()
    subprocess.run(
        [sys.executable, "-m", "prune_core", "worker"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PRUNE_HOME": str(home), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    exited = time.time() - start
    jobs = [store.get(i) for i in ids]
    return max(j.finished_at for j in jobs) - start, exited, [(j.status, j.elapsed) for j in jobs]


def _ray_cli(*args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "ray"), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--epochs",
        type=int,
        default=RECIPE["fine_tune_epochs"],
        help="fine-tune epochs per run (40: about 10 s jobs here; Ray's cost per job is fixed)",
    )
    args, report = Report.parse_args(ap, "ray", TITLE)
    sweep = [spec.with_(fine_tune_epochs=args.epochs) for spec in SWEEP]
    baselines = trained_baselines()
    quiet = {"RAY_USAGE_STATS_ENABLED": "0"}
    backends = {
        "local (PRUNE_MAX_JOBS=2)": {"PRUNE_MAX_JOBS": "2"},
        "Ray, private instance (local, 2 CPUs)": {
            "PRUNE_RAY_ADDRESS": "local",
            "PRUNE_RAY_LOCAL_CPUS": "2",
            **quiet,
        },
        "Ray, running cluster (auto, 2 CPUs)": {"PRUNE_RAY_ADDRESS": "auto", **quiet},
    }
    walls: dict = {name: [] for name in backends}
    exits: dict = {name: [] for name in backends}
    per_job: dict = {name: [] for name in backends}
    _ray_cli("start", "--head", "--num-cpus", "2", "--include-dashboard", "false")
    try:
        for _ in range(args.rounds):
            for name, env in backends.items():  # in alternation: the machine's mood hits all three
                wall, exited, jobs = _run(_home(baselines), env, sweep)
                assert all(status == "completed" for status, _ in jobs), jobs
                walls[name].append(wall)
                exits[name].append(exited)
                per_job[name] += [elapsed for _, elapsed in jobs]
    finally:
        _ray_cli("stop", "--force")
    local = walls["local (PRUNE_MAX_JOBS=2)"]
    verdicts, rows = [], []
    for name in backends:
        ratios = [wall / base for base, wall in zip(local, walls[name])]
        ratio = (
            ""
            if name.startswith("local")
            else f"**{statistics.median(ratios):.3f}** ({min(ratios):.2f}–{max(ratios):.2f})"
        )
        if not name.startswith("local"):
            verdicts.append(f"{name}: {'PASS' if statistics.median(ratios) <= 1.15 else 'FAIL'}")
        rows.append(
            [
                name,
                f"{statistics.median(walls[name]):.1f} "
                f"({', '.join(f'{w:.1f}' for w in walls[name])})",
                f"{statistics.median(exits[name]):.1f}",
                f"{statistics.median(per_job[name]):.1f}",
                ratio,
            ]
        )
    report.section(f"sweep-{args.epochs}-epochs")  # one per job length
    report.heading(
        f"8 runs ({args.epochs} fine-tune epochs each, tiny-cnn), 2 at a time, {args.rounds} rounds"
    )
    report.table(
        [
            "backend",
            "s to the last result (median; per round)",
            "s to the dispatcher's exit (median)",
            "job s (median)",
            "/ local (median of per-round ratios; range)",
        ],
        rows,
    )
    report.text(f"goal Ray / local ≤ 1.15: {'; '.join(verdicts)}")
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
