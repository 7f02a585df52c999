"""TFLite conversion: TensorFlow's Keras converter against the engine's one traced function.

    .venv/bin/python bench/bench_converter.py [--only ResNet50,ResNetRS152] [--rounds 1]

`tf.lite.TFLiteConverter.from_keras_model` writes the model as a Keras SavedModel, which traces
a call of every layer, and loads it back into the process, where the loaded functions stay. The
engine (`deploy.converter_for`) hands the converter the model's inference call, traced once,
with the variables in a bare `tf.Module`. Each application is built with seeded random weights
at 32 px and saved; then, per round, one child process per way (the order alternating) loads it
and converts it as an export does: float32, sparse, int8. Each child reports the resident memory
once the model is loaded, the highest above it during the conversions, what is still held after
them, and the seconds; and the float32 files' outputs on one fixed input are compared between
the ways. Prints one row per model with the ratios of the two ways. Writes
docs/benchmarks/converter.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_applications import build  # noqa: E402
from bench.children import answer  # noqa: E402
from bench.report import Report  # noqa: E402

MODELS = ["MobileNetV2", "ResNet50", "ConvNeXtSmall", "ResNetRS152"]
WAYS = ("keras", "function")


def resident_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) // 1024


def child(way: str, path: str, output: str) -> None:
    """Load the saved model, convert it three ways as an export does; one JSON line."""
    import gc

    import numpy as np

    from prune_core.engine import deploy, models
    from prune_core.engine.keras_env import tf

    peak = [0]

    def watch():
        while True:
            peak[0] = max(peak[0], resident_mb())
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    model = models.load_user_model(path)
    shape = (1,) + tuple(model.input_shape[1:])
    x = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    model(x)  # built and called once, as a run's model is by the time it is exported
    gc.collect()
    loaded = resident_mb()
    peak[0] = loaded
    calibration = np.random.default_rng(1).uniform(0, 255, (8,) + shape[1:]).astype(np.float32)
    start = time.perf_counter()
    for kind in deploy.KINDS:
        converter = (
            tf.lite.TFLiteConverter.from_keras_model(model)
            if way == "keras"
            else deploy.converter_for(model)
        )
        content = deploy.convert(converter, kind, calibration if kind == "int8" else None)
        if kind == "float":
            interp = deploy.interpreter(content)
            deploy._feed(interp, x)
            interp.invoke()
            np.save(output, interp.get_tensor(interp.get_output_details()[0]["index"]))
            del interp
        del content, converter
    seconds = time.perf_counter() - start
    gc.collect()
    time.sleep(0.1)
    print(
        json.dumps(
            {"loaded": loaded, "peak": peak[0] - loaded, "held": resident_mb() - loaded}
            | {"seconds": seconds}
        )
    )


def measure(way: str, path: Path, output: Path) -> dict:
    return answer(__file__, way, str(path), str(output), label=f"{path.stem} ({way})")


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated application names")
    ap.add_argument("--rounds", type=int, default=1)
    args, report = Report.parse_args(
        ap, "converter", "TFLite conversion: the Keras converter against one traced function"
    )
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory(prefix="prune-bench-converter-") as tmp:
        for name in [n for n in args.only.split(",") if n] or MODELS:
            path = Path(tmp) / f"{name}.keras"
            params = build(name, 32, path)
            runs = {way: [] for way in WAYS}
            same = True
            for round_ in range(args.rounds):
                order = WAYS if round_ % 2 == 0 else WAYS[::-1]
                for way in order:
                    runs[way].append(measure(way, path, Path(tmp) / f"{way}.npy"))
                a, b = (np.load(Path(tmp) / f"{way}.npy") for way in WAYS)
                same = same and np.array_equal(a, b)

            def median(way, key, runs=runs):
                return statistics.median(r[key] for r in runs[way])

            keras_peak, function_peak = median("keras", "peak"), median("function", "peak")
            keras_s, function_s = median("keras", "seconds"), median("function", "seconds")
            rows.append(
                [name, f"{params * 4 / 2**20:.0f}"]
                + [
                    f"{keras_peak:.0f}",
                    f"{function_peak:.0f}",
                    f"{keras_peak / function_peak:.2f}×",
                ]
                + [f"{median('keras', 'held'):.0f}", f"{median('function', 'held'):.0f}"]
                + [f"{keras_s:.0f}", f"{function_s:.0f}", f"{keras_s / function_s:.1f}×"]
                + ["yes" if same else "NO"]
            )
            print(" | ".join(rows[-1]), flush=True)
    report.section("converter")
    report.text(
        "Per model, one child process per way loads the saved model (seeded random weights, "
        "32 px, 3 classes) and converts it to float32, sparse and int8 (8 random calibration "
        "images). *Peak*: the highest resident memory above the loaded model's during the three "
        "conversions; *held*: what is still resident above it after them; seconds for the "
        f"three; medians over {args.rounds} round(s), the ways' order alternating. *Same*: the "
        "two float32 files give bit-identical outputs on one fixed input."
    )
    report.table(
        ["model", "weights MB", "Keras peak MB", "function peak MB", "less"]
        + ["Keras held MB", "function held MB", "Keras s", "function s", "faster", "same"],
        rows,
    )
    report.save()
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
