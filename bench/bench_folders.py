"""Image folders at real size: does a run's memory stay flat as the folder grows, and is reading
batch by batch as fast as holding the images in memory?

Memory: a folder of 300, 3,000 and 30,000 generated PNG images at 224 px (three classes of
coloured shapes, reproducible from a seed; made once under the bench's work folder and hard-linked
into the smaller ones), pruned through the command line in a child process with a small CNN file
at 224 px, one fine-tune epoch. The child's peak resident memory is the kernel's (`wait4`).

Speed: the bundled digits at 32 px, fine-tuning the compact EfficientNet, three ways in
alternating rounds: the images held in memory, the same images written as a folder (decoded
batch by batch), and the tensor pipeline training used before folders were streamed
(`from_tensor_slices` → shuffle → batch → prefetch, rebuilt here as the reference).

    .venv/bin/python bench/bench_folders.py                  # 10–15 minutes on 2 cores
    .venv/bin/python bench/bench_folders.py --sizes 300,3000 --rounds 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402

CLASSES = ("circles", "squares", "stripes")
SIZE = 224


def _image(rng, kind: str):
    from PIL import Image, ImageDraw

    back = tuple(int(v) for v in rng.integers(0, 256, 3))
    fore = tuple(int(v) for v in rng.integers(0, 256, 3))
    image = Image.new("RGB", (SIZE, SIZE), back)
    draw = ImageDraw.Draw(image)
    x, y = (int(v) for v in rng.integers(40, 184, 2))
    r = int(rng.integers(20, 60))
    if kind == "circles":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fore)
    elif kind == "squares":
        draw.rectangle((x - r, y - r, x + r, y + r), fill=fore)
    else:
        for offset in range(-SIZE, SIZE, 24):
            draw.line((offset + x, 0, offset + x + SIZE, SIZE), fill=fore, width=6)
    return image


def make_folders(work: Path, sizes: list[int]) -> dict[int, Path]:
    """folder per size; the largest generated once (kept between runs), the others hard links."""
    largest = work / f"images-{max(sizes)}"
    done = largest / ".complete"
    if not done.exists():
        rng = np.random.default_rng(0)
        for c in CLASSES:
            (largest / c).mkdir(parents=True, exist_ok=True)
        for i in range(max(sizes)):
            kind = CLASSES[i % 3]
            _image(rng, kind).save(largest / kind / f"{i:06d}.png", optimize=False)
        done.write_text("ok")
    folders = {max(sizes): largest}
    for n in sizes:
        if n == max(sizes):
            continue
        folder = work / f"images-{n}"
        if not (folder / ".complete").exists():
            for c in CLASSES:
                (folder / c).mkdir(parents=True, exist_ok=True)
                for path in sorted((largest / c).iterdir())[: n // 3]:
                    target = folder / c / path.name
                    if not target.exists():
                        os.link(path, target)
            (folder / ".complete").write_text("ok")
        folders[n] = folder
    return folders


def small_cnn(path: Path) -> None:
    from prune_core.engine.keras_env import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inp = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255.0)(inp)
    x = layers.Conv2D(16, 3, strides=2, activation="relu", name="c1")(x)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", name="c2")(x)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", name="c3")(x)
    x = layers.GlobalAveragePooling2D()(x)
    keras.Model(inp, layers.Dense(len(CLASSES), name="head")(x)).save(path)


def peak_run(model: Path, folder: Path, home: Path) -> tuple[dict, float, float]:
    """(the run's result, its peak RSS in MB, seconds): one CLI run in a child process, reaped
    with `wait4` so the peak is that child's own."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prune_core",
                "run",
                f"--model=file:{model}",
                f"--dataset=folder:{folder}",
                "--fine-tune-epochs=1",
                "--sparsity=0.5",
                "--quiet",
                "--json",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=err,
            env={**os.environ, "PRUNE_HOME": str(home)},
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"run on {folder.name} failed: {err.read().decode()[-400:]}")
        result = json.loads(out.read().decode().splitlines()[0])
    return result, usage.ru_maxrss / 1024, seconds


def memory_part(report, sizes: list[int], work: Path) -> list:
    folders = make_folders(work, sizes)
    model = work / "small_cnn.keras"
    small_cnn(model)
    rows, peaks = [], {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="prune-bench-folders-") as home:
            result, peak_mb, seconds = peak_run(model, folders[n], Path(home))
        peaks[n] = peak_mb
        whole = n * SIZE * SIZE * 3 / 2**20
        rows.append(
            [
                f"{n:,}",
                f"{peak_mb:,.0f} MB",
                f"{whole:,.0f} MB",
                f"{result['top1']:.3f}",
                f"{seconds:.0f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    report.section("memory")
    report.text(
        f"One CLI run per folder (`--model file:small_cnn.keras --dataset folder:… "
        f"--fine-tune-epochs 1 --sparsity 0.5`; taylor, global), a 3-conv CNN at {SIZE} px on "
        f"generated PNGs of {len(CLASSES)} classes. Peak RSS of the run's process (kernel "
        '`wait4`); "decoded whole" is what the folder\'s pixels alone would take as uint8, the '
        "memory the run held before folders were streamed (computed, not measured)."
    )
    report.table(["images", "peak RSS", "decoded whole would be", "top-1", "seconds"], rows)
    growth = peaks[max(sizes)] - peaks[min(sizes)]
    checks = [
        (
            f"peak RSS grows {growth:,.0f} MB from {min(sizes):,} to {max(sizes):,} images "
            "(goal: under 200 MB)",
            growth < 200,
        )
    ]
    report.checks(checks)
    return checks


def speed_part(report, rounds: int, epochs: int, work: Path) -> list:
    from PIL import Image

    from prune_core.data import datasets as data
    from prune_core.engine import models
    from prune_core.engine.keras_env import tf
    from prune_core.engine.training import Trainer

    digits = data.load("digits", 32, 0)
    folder = work / "digits-32"
    if not (folder / ".complete").exists():
        x = np.concatenate([digits.x_train, digits.x_val, digits.x_test])
        y = np.concatenate([digits.y_train, digits.y_val, digits.y_test])
        for i in range(len(x)):
            (folder / str(y[i])).mkdir(parents=True, exist_ok=True)
            Image.fromarray(x[i]).save(folder / str(y[i]) / f"{i:05d}.png")
        (folder / ".complete").write_text("ok")
    streamed = data.load_folder(str(folder), 32, 0)

    def tensor_pipeline_fit(trainer, x, y, batch_size, seed):
        """Training as it read arrays before folders were streamed (the reference)."""
        dataset = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(2)
        )
        for _ in range(epochs):
            for xb, yb in dataset:
                loss, acc = trainer._step(xb, yb)
                float(loss), float(acc)  # as `fit` reads them every step

    ways = {
        "arrays in memory": lambda t: t.fit(
            digits.x_train, digits.y_train, epochs=epochs, batch_size=32, seed=0
        ),
        "folder, batch by batch": lambda t: t.fit(
            streamed.x_train, streamed.y_train, epochs=epochs, batch_size=32, seed=0
        ),
        "tensor pipeline (before)": lambda t: tensor_pipeline_fit(
            t, digits.x_train, digits.y_train, 32, 0
        ),
    }
    seconds = {name: [] for name in ways}
    steps = epochs * digits.steps_per_epoch(32)
    for r in range(rounds + 1):  # round 0 warms every path up (tracing), and is not counted
        for name, fit in ways.items():
            model = models.build("efficientnet-compact", 10, 32, seed=0)
            trainer = Trainer(model, learning_rate=1e-3, total_steps=steps, seed=0)
            trainer._step(tf.zeros((2, 32, 32, 3), tf.uint8), tf.zeros((2,), tf.int32))
            start = time.perf_counter()
            fit(trainer)
            if r:
                seconds[name].append((time.perf_counter() - start) / epochs)
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in seconds.items() if v))
    reference = np.array(seconds["tensor pipeline (before)"])
    rows, checks = [], []
    for name, values in seconds.items():
        ratio = np.array(values) / reference
        rows.append(
            [
                name,
                f"{np.median(values):.2f} s",
                f"{np.median(ratio):.2f}× ({ratio.min():.2f}–{ratio.max():.2f}×)",
            ]
        )
        if name != "tensor pipeline (before)":
            checks.append(
                (
                    f"{name}: median epoch within 10 % of the tensor pipeline's "
                    f"({np.median(ratio):.2f}×)",
                    np.median(ratio) <= 1.10,
                )
            )
    report.section("speed")
    report.text(
        f"Fine-tuning the compact EfficientNet on digits at 32 px ({len(digits.x_train)} training "
        f"images, batch 32, {epochs} epoch(s)), {rounds} alternating rounds after a warm-up round; "
        "seconds per epoch (median) and the ratio to the old tensor pipeline in the same round "
        "(median, with the range over rounds)."
    )
    report.table(["images read as", "epoch", "vs before"], rows)
    report.checks(checks)
    return checks


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="300,3000,30000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "prune-bench-folders"))
    args, report = Report.parse_args(ap, "folders", "Image folders at real size: memory and speed")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(n) for n in args.sizes.split(","))
    checks = memory_part(report, sizes, work) + speed_part(report, args.rounds, args.epochs, work)
    report.save()
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
