"""Memory benchmark: peak resident memory of one pruning run, phase by phase.

    .venv/bin/python bench/bench_run_memory.py [--only ConvNeXtTiny,ResNet50] [--size 32]
        [--recipe channels|weights]

Each application is built as bench_applications builds it (seeded random weights, 3 classes,
32 px) and pruned by the command line in a child process, the way bench_applications prunes it
(channels −30 % FLOPs, one fine-tune epoch, exported to every LiteRT format; or, with `--recipe
weights`, 50 % of the weights ranked globally, one fine-tune epoch), while this process
reads the child's resident memory every 0.1 s and files it under the phase the child's progress
line names. Prints, per model: the weights' bytes, the peak, the peak over the weights' bytes
(what says whether a larger model fits: the largest applications have 350 M parameters), and the
peak of each phase. Writes docs/benchmarks/run-memory.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_applications import CHANNELS, MIN_SIZE, WEIGHTS, build  # noqa: E402
from bench.report import Report  # noqa: E402

#: The recipes a run may be profiled with (bench_applications' two), and what each is.
RECIPES = {
    "channels": (
        CHANNELS,
        "channels −30 % FLOPs (taylor, global), one fine-tune epoch, exported to LiteRT "
        "(float32, sparse, int8) and timed against the dense model",
    ),
    "weights": (WEIGHTS, "50 % of the weights (taylor, global), one fine-tune epoch"),
}
#: A phase as the command line's progress names it: the first word after the run's label.
PHASE = re.compile(r"\]\s+([a-z][a-z-]*)")


def resident_mb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) // 1024 if found else None


def profile(path: Path, home: Path, options: list[str] = CHANNELS) -> tuple[int, dict, float]:
    """(the child's exit code, phase → peak MB in the order first seen, seconds)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "prune_core", "run", f"--model=file:{path}"]
        + ["--dataset=synthetic", "--fine-tune-epochs=1", *options],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PRUNE_HOME": str(home), "PYTHONUNBUFFERED": "1"},
    )
    phase = ["loading"]

    def read():
        buffer = b""
        while chunk := child.stderr.read1(4096):
            buffer += chunk
            *lines, buffer = re.split(rb"[\r\n]", buffer)
            for line in lines:
                if found := PHASE.search(line.decode(errors="replace")):
                    phase[0] = found.group(1)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    peaks: dict = {}
    start = time.perf_counter()
    while child.poll() is None:
        mb = resident_mb(child.pid)
        if mb is not None:
            peaks[phase[0]] = max(peaks.get(phase[0], 0), mb)
        time.sleep(0.1)
    reader.join(timeout=5)
    return child.returncode, peaks, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="ConvNeXtTiny", help="comma-separated application names")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="channels")
    args, report = Report.parse_args(
        ap, "run-memory", "Memory: the peak of one pruning run, phase by phase"
    )
    rows, phases = [], []
    with tempfile.TemporaryDirectory(prefix="prune-bench-memory-") as tmp:
        for name in [n for n in args.only.split(",") if n]:
            size = max(args.size, MIN_SIZE.get(name, 0))
            path = Path(tmp) / f"{name}.keras"
            params = build(name, size, path)
            code, peaks, seconds = profile(path, Path(tmp) / "home", RECIPES[args.recipe][0])
            weights_mb = params * 4 / 2**20
            peak = max(peaks.values(), default=0)
            top = max(peaks, key=peaks.get) if peaks else "–"
            rows.append(
                [name, f"{params / 1e6:.2f} M", f"{weights_mb:.0f}", f"{peak}"]
                + [f"{peak / weights_mb:.1f}×", top, "ok" if code == 0 else f"exit {code}"]
                + [f"{seconds:.0f}"]
            )
            phases += [[name, p, str(mb)] for p, mb in peaks.items()]
            print(" | ".join(rows[-1]), flush=True)
    report.section("peaks" if args.recipe == "channels" else f"peaks-{args.recipe}")
    report.text(
        f"One `python -m prune_core run` per model: {RECIPES[args.recipe][1]}; seeded random "
        "weights, 3 classes, the bundled synthetic images. Resident memory "
        'of the child read every 0.1 s; "× weights" is the peak over the float32 weights\' bytes '
        "(the process itself, TensorFlow loaded, is about 0.5 GB of it)."
    )
    report.table(
        ["model", "params", "weights MB", "peak MB", "× weights", "peak phase", "run", "s"], rows
    )
    report.heading("Peak by phase")
    report.table(["model", "phase", "peak MB"], phases)
    report.save()
    return 0 if all(r[6] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
