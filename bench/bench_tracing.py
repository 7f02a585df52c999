"""Tracing benchmark: what tracing a training step once, for every batch size, saves.

    .venv/bin/python bench/bench_tracing.py [--models MobileNetV2,ResNet50] [--rounds 2]

A training step is a `tf.function`. TensorFlow traced it twice on its first call (the optimizer's
slots and the augmentation's random state are variables that call made) and once more for an
epoch's last, partial batch; each trace is the model's forward and backward pass.
`engine.tracing.open_batch` and `Trainer._create_variables` trace it once. Each model (a stock
`tf_keras.applications` CNN, random weights, 32 px, 3 classes) is fine-tuned for one epoch on 40
images in batches of 16 (16, 16, 8), each fit in a fresh process: the Trainer as it is, and as it
was (a plain `tf.function`, its variables made by its first call), alternating which goes first.
Prints the seconds of each fit, the traces counted, and the ratio (median over rounds, with the
range).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402


def fit_once(name: str, before: bool) -> dict:
    """One epoch of 40 images on application `name`: {seconds, traces}."""
    import numpy as np

    from prune_core.engine.keras_env import keras, tf
    from prune_core.engine.training import Trainer

    model = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3), classes=3)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 32, 32, 3)).astype(np.uint8)
    y = (np.arange(40) % 3).astype(np.int32)
    trainer = Trainer(model, learning_rate=1e-3, total_steps=3)
    if before:
        trainer._step = tf.function(trainer._train_step)
        trainer._create_variables = lambda: None
    start = time.perf_counter()
    trainer.fit(x, y, epochs=1, batch_size=16)
    seconds = time.perf_counter() - start
    step = trainer._step
    traces = (
        step.experimental_get_tracing_count()
        if hasattr(step, "experimental_get_tracing_count")
        else step.tracing_count()
    )
    return {"seconds": seconds, "traces": traces}


def measured(name: str, before: bool) -> dict:
    run = subprocess.run(
        [sys.executable, __file__, "--child", name, "--before" if before else "--now"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="MobileNetV2,ResNet50")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--now", action="store_true", help=argparse.SUPPRESS)
    if "--child" in sys.argv:
        args = ap.parse_args()
        print(json.dumps(fit_once(args.child, args.before)))
        return 0
    args, report = Report.parse_args(
        ap, "tracing", "Tracing: one trace of a training step for every batch size"
    )
    rows, checks = [], []
    for name in [m for m in args.models.split(",") if m]:
        runs = {True: [], False: []}
        for r in range(args.rounds):
            for before in (True, False) if r % 2 == 0 else (False, True):
                runs[before].append(measured(name, before))
                print(
                    f"  {name} round {r + 1} {'before' if before else 'now'}: {runs[before][-1]}",
                    flush=True,
                )
        ratios = [b["seconds"] / n["seconds"] for b, n in zip(runs[True], runs[False])]
        rows.append(
            [
                name,
                f"{statistics.median(r['seconds'] for r in runs[True]):.1f} s "
                f"({runs[True][0]['traces']} traces)",
                f"{statistics.median(r['seconds'] for r in runs[False]):.1f} s "
                f"({runs[False][0]['traces']} trace)",
                f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}×)",
            ]
        )
        checks.append((f"{name}: faster in every round", min(ratios) > 1.0))
    report.section("fit")
    report.text(
        "One fine-tune epoch, 40 images in batches of 16, random weights, 32 px, 3 classes, "
        f"each fit a fresh process, {args.rounds} rounds alternating which goes first; seconds "
        "are the fit's (median), traces the training step's."
    )
    report.table(["model", "before", "now", "× faster (median; range)"], rows)
    report.checks(checks)
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
