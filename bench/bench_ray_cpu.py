"""Where the CPU goes during `bench_ray.py`'s sweep: local processes against a private Ray instance.

    .venv/bin/python bench/bench_ray_cpu.py [--rounds 2] [--epochs 40]

Samples every thread of every process on the machine four times a second (Linux's
/proc/PID/task/TID/schedstat: time on a CPU, and time runnable but waiting for one) and sums it by
kind of process: job processes, Ray's task workers, its idle or starting workers, its daemons, the
dispatcher. Prints, per sweep, the wall time, the system's idle share and that table. This is how
the Ray overhead was found (see the README's Ray benchmark): it says which processes use the CPU
that the jobs do not get. Writes section cpu of docs/benchmarks/ray.md (`--no-write`: print only).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ray import SWEEP, TITLE, _home, _run, trained_baselines  # noqa: E402
from bench.report import Report  # noqa: E402

BACKENDS = {
    "local (PRUNE_MAX_JOBS=2)": {"PRUNE_MAX_JOBS": "2"},
    "Ray, private instance (2 CPUs)": {
        "PRUNE_RAY_ADDRESS": "local",
        "PRUNE_RAY_LOCAL_CPUS": "2",
        "RAY_USAGE_STATS_ENABLED": "0",
    },
}


def kind(pid: str) -> str | None:
    """What a process is, for the table (None: this script itself)."""
    try:
        command = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    if "bench_ray_cpu" in command:
        return None
    if "prune_core job" in command:
        return "job process"
    if "run_remote" in name:
        return "Ray task worker (ray::run_remote)"
    if "prune_core worker" in command:
        return "dispatcher (the Ray driver, with Ray)"
    if "Mailbox" in name:
        return "Ray mailbox actor"
    if name.startswith("ray::") or "default_worker" in command:
        return f"Ray worker, {name}"
    if "ray" in command or name in ("raylet", "gcs_server"):
        return f"Ray daemon, {name}"
    return "everything else"


def snapshot() -> dict:
    """{(pid, tid): (kind, ns on a CPU, ns waiting for one)} for every thread now."""
    seen = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        what = kind(pid)
        if what is None:
            continue
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                ran, waited, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
                seen[(pid, tid)] = (what, int(ran), int(waited))
        except OSError:
            pass  # it ended meanwhile
    return seen


def idle_ticks() -> tuple[int, int]:
    ticks = list(map(int, Path("/proc/stat").read_text().splitlines()[0].split()[1:]))
    return ticks[3] + ticks[4], sum(ticks)


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.done, self.cpu, self.wait, self.idle = (
            False,
            collections.Counter(),
            collections.Counter(),
            0.0,
        )

    def run(self) -> None:
        last, (idle0, total0) = snapshot(), idle_ticks()
        while not self.done:
            time.sleep(0.25)
            now = snapshot()
            for key, (what, ran, waited) in now.items():
                _, ran0, waited0 = last.get(key, (what, 0, 0))
                self.cpu[what] += (ran - ran0) / 1e9
                self.wait[what] += (waited - waited0) / 1e9
            last = now
        idle1, total1 = idle_ticks()
        self.idle = (idle1 - idle0) / max(1, total1 - total0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=40)
    args, report = Report.parse_args(ap, "ray", TITLE)
    report.section("cpu")
    sweep = [spec.with_(fine_tune_epochs=args.epochs) for spec in SWEEP]
    baselines = trained_baselines()
    for round_ in range(args.rounds):
        for name, env in BACKENDS.items():  # in alternation
            sampler = Sampler()
            sampler.start()
            wall, _, jobs = _run(_home(baselines), env, sweep)
            sampler.done = True
            sampler.join()
            report.heading(
                f"{name}, round {round_ + 1} ({args.epochs} fine-tune epochs): {wall:.1f} s to "
                f"the last "
                f"result, machine idle {sampler.idle:.0%}, jobs "
                f"{', '.join(f'{s:.1f}' for _, s in jobs)} s",
                level=4,
            )
            report.table(
                ["processes", "CPU s", "s runnable, waiting for a CPU"],
                [
                    [what, f"{sampler.cpu[what]:.1f}", f"{sampler.wait[what]:.1f}"]
                    for what in sorted(sampler.cpu, key=lambda w: -sampler.cpu[w])
                    if sampler.cpu[what] >= 0.1
                ],
            )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
