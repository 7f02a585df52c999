"""Coverage benchmark: channel and weight pruning on every CNN in `tf_keras.applications`.

    .venv/bin/python bench/bench_applications.py [--only ResNet50,MobileNetV2] [--size 32]

Each application is built with random weights at a small input (32 px, or the smallest it
accepts), 3 classes, saved as `.keras`, and pruned by the command line in a child process of its
own (a crash or a memory blow-up costs that row, not the table), on the bundled synthetic images:
- channels: whole channels removed to −30 % FLOPs (global ranking, taylor), one fine-tune epoch,
  exported to LiteRT and timed against the dense model;
- weights: 50 % of the weights (global ranking), one fine-tune epoch.
A model the tool cannot prune says why in one line (the command's own refusal, exit code 2);
any other failure is a crash, kept apart (its whole stderr in bench/out/applications/). Prints
one row per model: parameters before and after, FLOPs removed, the LiteRT speedup with its
band, the weight sparsity reached and the seconds each took. Writes
docs/benchmarks/applications.md; each row is kept in docs/benchmarks/applications.json as soon as
it is measured, so runs by family (`--only`) add up to one table (`--no-write`: print only).
Accuracy is not the point here (random weights, three classes).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report, docs_dir  # noqa: E402

#: Applications that refuse inputs below this size (pixels).
MIN_SIZE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
CHANNELS = ["--granularity=structured", "--sparsity=0.3", "--export=tflite"]
WEIGHTS = ["--granularity=unstructured", "--scope=global", "--sparsity=0.5"]


def _list_applications() -> list[str]:
    from prune_core.engine.keras_env import keras

    return sorted(n for n in dir(keras.applications) if n[0].isupper())


def _build(name: str, size: int, path: Path) -> int:
    from prune_core.engine.keras_env import keras

    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=3)
    model.save(path)
    return model.count_params()


def _in_child(*args: str):
    """This script's `--child` step in a process of its own, its JSON answer: this process never
    loads TensorFlow, so the memory a pruning run is measured with is the run's alone (a built
    ConvNeXtXLarge left >3 GB behind in the process that built it)."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RuntimeError((lines or [f"exit {done.returncode}"])[-1])
    return json.loads(done.stdout.splitlines()[-1])


def applications() -> list[str]:
    """Every model builder in `tf_keras.applications`, by name."""
    return _in_child("list")


def build(name: str, size: int, path: Path) -> int:
    """Save application `name` (random weights, 3 classes) at `size` px; its parameter count.

    The weights are seeded, so a rerun prunes the same channels and its row is comparable."""
    return _in_child("build", name, str(size), str(path))


#: The command line's exit code for input it refuses (any other failure is a crash).
REFUSED = 2


#: The longest one pruning may take (the largest applications take tens of minutes).
TIMEOUT_S = 4 * 3600


def _command(path: Path, home: Path, options: list[str]) -> subprocess.CompletedProcess:
    """`python -m prune_core run` on the saved application, in a child process of its own."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "prune_core",
            "run",
            f"--model=file:{path}",
            "--dataset=synthetic",
            "--fine-tune-epochs=1",
            "--quiet",
            "--json",
            *options,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PRUNE_HOME": str(home)},
        timeout=TIMEOUT_S,
    )


def prune(path: Path, home: Path, options: list[str]) -> tuple[dict | None, str, str, float]:
    """(the run's result, or None; "refused" or "crashed" when there is none; the refusal or
    crash in one line; seconds)."""
    start = time.perf_counter()
    try:
        run = _command(path, home, options)
    except subprocess.TimeoutExpired:
        return None, "crashed", f"did not finish in {TIMEOUT_S} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    if run.returncode == 0:
        return json.loads(run.stdout.splitlines()[0]), "", "", seconds
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("error:")), None)
    why = error[len("error: ") :] if error else f"exit {run.returncode}: {(lines or ['?'])[-1]}"
    if run.returncode == REFUSED:
        return None, "refused", why[:400], seconds
    # a crash, not a refusal (the CLI's one line says what; exit 1, or a signal): keep it all
    kind = "channels" if options is CHANNELS else "weights"
    kept = ROOT / "bench" / "out" / "applications" / f"{path.stem}-{kind}.stderr"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(run.stderr)
    print(f"  {path.stem} crashed (exit {run.returncode}); its stderr: {kept}", flush=True)
    return None, "crashed", f"crashed (exit {run.returncode}): {why}"[:400], seconds


def _speedup(result: dict) -> str:
    from prune_core.results.headline import speed_headline
    from prune_core.results.run_result import RunResult

    headline = speed_headline(RunResult.from_dict(result))
    if headline is None:
        return "–"
    where = "" if headline.short_label.startswith("speed · LiteRT") else f" {headline.short_label}"
    return f"{headline.value}{where}" + (f" ({headline.band})" if headline.band else "")


#: Every application's row as last measured, so that runs by family add up to one table.
STORE = docs_dir() / "applications.json"
LOCK = ROOT / "bench" / "out" / "applications.lock"


def _store(name: str, row: list | None, why: list[str]) -> None:
    """Keep one application's row as soon as it is measured (a run cut short loses nothing).
    Locked, so that runs by family side by side (`--only` in two shells) lose no row."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = json.loads(STORE.read_text()) if STORE.exists() else {}
        stored[name] = {"row": row, "refused": why}
        tmp = STORE.with_suffix(f".json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        tmp.replace(STORE)


def _merged() -> tuple[list, list]:
    """Every stored row (a row measured now has replaced its old one)."""
    stored = json.loads(STORE.read_text()) if STORE.exists() else {}
    merged_rows = [v["row"] for _, v in sorted(stored.items()) if v["row"]]
    merged_refused = [(n, w) for n, v in sorted(stored.items()) for w in v["refused"]]
    return merged_rows, merged_refused


def child(step: str, *args: str) -> None:
    """One `_in_child` step, its answer printed as JSON on the last line."""
    if step == "list":
        print(json.dumps(_list_applications()))
    else:
        name, size, path = args
        print(json.dumps(_build(name, int(size), Path(path))))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated application names")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument(
        "--table-only", action="store_true", help="rewrite the table from the stored rows only"
    )
    args, report = Report.parse_args(
        ap, "applications", "Coverage: pruning every CNN in tf_keras.applications"
    )
    every = applications()
    names = [n for n in args.only.split(",") if n] or every
    if args.table_only:  # the stored rows as they are, measuring nothing
        names = []
    rows, refused = [], []
    with tempfile.TemporaryDirectory(prefix="prune-bench-apps-") as tmp:
        home = Path(tmp) / "home"
        for name in names:
            size = max(args.size, MIN_SIZE.get(name, 0))
            path = Path(tmp) / f"{name}.keras"
            try:
                params = build(name, size, path)
            except Exception as exc:  # noqa: BLE001 - a builder that fails is a row, not the end
                refused.append((name, f"cannot be built at {size} px: {str(exc)[:120]}"))
                if report.write:
                    _store(name, None, [refused[-1][1]])
                continue
            channels, channel_fate, channel_why, channel_s = prune(path, home, CHANNELS)
            weights, weight_fate, weight_why, weight_s = prune(path, home, WEIGHTS)
            path.unlink()
            row = [name, str(size), f"{params / 1e6:.2f} M"]
            if channels:
                row += [
                    f"{channels['params'] / 1e6:.2f} M",
                    f"{channels['budget_removed']:.1%}",
                    _speedup(channels),
                    f"{channel_s:.0f}",
                ]
            else:
                row += ["–", channel_fate, "–", f"{channel_s:.0f}"]
                refused.append((name, f"channels: {channel_why}"))
            if weights:
                row += [f"{weights['weight_sparsity']:.1%}", f"{weight_s:.0f}"]
            else:
                row += [weight_fate, f"{weight_s:.0f}"]
                refused.append((name, f"weights: {weight_why}"))
            rows.append(row + [datetime.date.today().isoformat()])
            print(" | ".join(rows[-1]), flush=True)
            if report.write:
                _store(name, rows[-1], [w for n, w in refused if n == name])
    report.section("applications")
    if report.write:  # runs by family (`--only`) add up: every row measured so far is shown
        rows, refused = _merged()
    total = len(every)
    report.text(
        f"{len(rows)} of {total} applications, random weights, 3 classes, {args.size} px (or the "
        "smallest an application accepts), the bundled synthetic images; each pruning is `python "
        "-m prune_core run` in a child process with one fine-tune epoch. Channels: −30 % FLOPs, "
        "global ranking, exported to LiteRT and timed against the dense model (speedup and its "
        "band, float32, one thread). Weights: 50 %, global ranking. Rows from earlier runs keep "
        f"the date they were measured ({STORE.name})."
    )
    report.table(
        [
            "model",
            "px",
            "params",
            "params after channels",
            "FLOPs removed",
            "LiteRT speedup",
            "channels s",
            "weight sparsity",
            "weights s",
            "measured",
        ],
        rows,
    )
    if refused:
        report.text("Refused or crashed, each in the command's own words:")
        report.table(["model", "why"], [[n, w] for n, w in refused])
    channel_ok = sum(r[4] not in ("refused", "crashed") for r in rows)
    weight_ok = sum(r[7] not in ("refused", "crashed") for r in rows)
    report.checks(
        [
            (f"channels removed on {channel_ok} of {len(rows)}", channel_ok == len(rows)),
            (f"weights pruned on {weight_ok} of {len(rows)}", weight_ok == len(rows)),
        ]
    )
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
