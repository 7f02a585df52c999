"""Loading a `.keras` file: tf_keras's own reader against the engine's (weights extracted first).

    .venv/bin/python bench/bench_model_load.py [--only ResNet50,ConvNeXtTiny] [--rounds 2]

tf_keras hands h5py the weights member of the zip archive, and before Python 3.12 every backward
seek inside a member re-reads it from its start, so the time to load grows with the square of the
file. The engine extracts the member to a temporary file first (`model_storage.
extracted_weights`, what Keras 3 does). Each application is built with seeded random weights at
32 px and saved; then one child process per model loads it both ways, alternately, `--rounds`
times each, and checks that both give the same weights. Prints one row per model: weights MB,
seconds per load each way (median, with the range over rounds) and the ratio of the medians.
Writes docs/benchmarks/model-load.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402

MODELS = ["MobileNetV2", "ResNet50", "ConvNeXtTiny", "EfficientNetV2M"]


def child(name: str, folder: str, rounds: int) -> None:
    """Build, save and load application `name` both ways; one JSON line of timings."""
    import time

    import numpy as np

    from prune_core.engine import keras_env
    from prune_core.engine.keras_env import keras

    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3), classes=3)
    path = Path(folder) / f"{name}.keras"
    model.save(path)
    megabytes = sum(w.nbytes for w in model.get_weights()) / 2**20
    expected = model.get_weights()
    del model
    keras.backend.clear_session()

    def stock():
        return keras.models.load_model(
            str(path), compile=False, safe_mode=True, custom_objects=keras_env.stock_layers()
        )

    seconds = {"stock": [], "extracted": []}
    for _ in range(rounds):
        for way, load in (("stock", stock), ("extracted", lambda: keras_env.load_model(path))):
            start = time.perf_counter()
            loaded = load()
            seconds[way].append(time.perf_counter() - start)
            same = all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), expected))
            if not same:
                raise SystemExit(f"{name}: {way} loaded other weights")
            del loaded
            keras.backend.clear_session()
    print(json.dumps({"megabytes": megabytes, "seconds": seconds}))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated application names")
    ap.add_argument("--rounds", type=int, default=2)
    args, report = Report.parse_args(
        ap, "model-load", "Loading a .keras file: tf_keras's reader against the engine's"
    )
    rows, same = [], True
    with tempfile.TemporaryDirectory(prefix="prune-bench-load-") as folder:
        for name in [n for n in args.only.split(",") if n] or MODELS:
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, folder, str(args.rounds)],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                same = False
                print(f"{name}: {(done.stderr.strip().splitlines() or ['?'])[-1]}", flush=True)
                continue
            measured = json.loads(done.stdout.splitlines()[-1])
            stock, extracted = measured["seconds"]["stock"], measured["seconds"]["extracted"]
            ratio = statistics.median(stock) / statistics.median(extracted)
            rows.append(
                [
                    name,
                    f"{measured['megabytes']:.0f}",
                    f"{statistics.median(stock):.1f} ({min(stock):.1f}–{max(stock):.1f})",
                    f"{statistics.median(extracted):.1f} "
                    f"({min(extracted):.1f}–{max(extracted):.1f})",
                    f"{ratio:.1f}×",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    report.section("load")
    report.text(
        f"Each model built with seeded random weights at 32 px, 3 classes, saved as `.keras`, "
        f"then loaded {args.rounds} times each way in alternation in one process (safe mode, "
        "the stock layers known); seconds per load, median (range)."
    )
    report.table(["model", "weights MB", "tf_keras s", "extracted s", "faster"], rows)
    report.checks([("both ways load the same weights, every model", same)])
    report.save()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
