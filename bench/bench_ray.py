"""The same 8-run sweep through the local backend and through a local Ray instance, side by side.

    .venv/bin/python bench/bench_ray.py [--rounds 2]

Local: `PRUNE_MAX_JOBS=2` job processes. Ray: `PRUNE_RAY_ADDRESS=local` with 2 CPUs, one CPU per job
(two at a time). Both start from the same trained baseline (copied into each data directory), run the
same 8 recipes, and are timed from the dispatcher's start (Ray: including starting the Ray instance)
to the last job's final state, in alternation. Prints the wall times and the ratio Ray / local
(goal ≤ 1.15).
"""
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

from prune_core.jobs import JobStore  # noqa: E402
from prune_core.specs import RunSpec  # noqa: E402

RECIPE = dict(model="tiny-cnn", dataset="synthetic", image_size=16, baseline_epochs=4, calibration_examples=32,
              batch_size=4, fine_tune_epochs=40)
SWEEP = [RunSpec.of(**RECIPE, strategy=s, sparsity=p) for s in ("magnitude", "taylor", "fisher", "random")
         for p in (0.5, 0.8)]


def _home(baselines: Path) -> Path:
    home = Path(tempfile.mkdtemp(prefix="prune-bench-ray-"))
    shutil.copytree(baselines, home / "baselines")
    return home


def _run(home: Path, env: dict) -> tuple[float, list]:
    store = JobStore(home / "jobs.sqlite3")
    ids = [store.submit(spec) for spec in SWEEP]
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "prune_core", "worker"], cwd=ROOT, check=True,
                   env={**os.environ, "PRUNE_HOME": str(home), **env}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    jobs = [store.get(i) for i in ids]
    return wall, [(j.status, j.elapsed) for j in jobs]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    seed = Path(tempfile.mkdtemp(prefix="prune-bench-ray-seed-"))
    store = JobStore(seed / "jobs.sqlite3")
    store.submit(SWEEP[0].with_(fine_tune_epochs=1))
    subprocess.run([sys.executable, "-m", "prune_core", "worker"], cwd=ROOT, check=True,
                   env={**os.environ, "PRUNE_HOME": str(seed)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    baselines = seed / "baselines"
    backends = {"local (PRUNE_MAX_JOBS=2)": {"PRUNE_MAX_JOBS": "2"},
                "Ray, local instance, 2 CPUs": {"PRUNE_RAY_ADDRESS": "local", "PRUNE_RAY_LOCAL_CPUS": "2",
                                                "RAY_USAGE_STATS_ENABLED": "0"}}
    walls: dict = {name: [] for name in backends}
    per_job: dict = {name: [] for name in backends}
    for _ in range(args.rounds):
        for name, env in backends.items():  # in alternation: the machine's mood hits both
            wall, jobs = _run(_home(baselines), env)
            assert all(status == "completed" for status, _ in jobs), jobs
            walls[name].append(wall)
            per_job[name] += [elapsed for _, elapsed in jobs]
    print(f"### 8 runs ({RECIPE['fine_tune_epochs']} fine-tune epochs each, tiny-cnn), 2 at a time, "
          f"{args.rounds} rounds\n")
    print("| backend | wall s per round (median, all) | job s (median) |")
    print("|---|---|---|")
    for name in backends:
        print(f"| {name} | {statistics.median(walls[name]):.1f} ({', '.join(f'{w:.1f}' for w in walls[name])}) | "
              f"{statistics.median(per_job[name]):.1f} |")
    local, ray = (statistics.median(walls[n]) for n in backends)
    ratios = [r / l for l, r in zip(*walls.values())]
    verdict = "PASS" if statistics.median(ratios) <= 1.15 else "FAIL"
    print(f"\nRay / local wall time: {ray / local:.3f} (per round: {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"goal ≤ 1.15: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
