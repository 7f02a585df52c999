"""Dashboard benchmark: time from opening Experiment to a first result on your own model and images.

    .venv/bin/python bench/bench_first_result.py [--images-per-class 40]

An ML engineer's first visit, driven in headless Chromium: a model file of their own (MobileNetV2,
width 0.35, 32×32 input with its own Rescaling, 3 classes, trained beforehand — not
timed) and a folder of their own images (3 classes), the smallest budget (one sparsity, one
fine-tune epoch). Timed from opening the page to the run's Run detail showing its numbers, phase
by phase; the form is filled by the script, so a person's typing is not in it. Writes
docs/benchmarks/first_result.md (`--no-write`: print only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402


def own_images(root: Path, per_class: int) -> Path:
    """Three classes a small CNN can tell apart: a colour and a stripe direction each, with
    noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(3):
        (root / f"kind{c}").mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 60, (32, 32, 3))
            image[..., c] += 120
            if c == 1:
                image[::4] += 60
            if c == 2:
                image[:, ::4] += 60
            Image.fromarray(np.clip(image, 0, 255).astype("uint8")).save(
                root / f"kind{c}" / f"{i}.png"
            )
    return root


def own_model(path: Path, images: Path) -> Path:
    """MobileNetV2 (alpha 0.35) as a user would save it: one flat functional model taking pixels
    0–255, trained briefly on their images so its accuracy means something."""
    import numpy as np

    from prune_core.data import image_folders
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    base = keras.applications.MobileNetV2(
        input_tensor=x, include_top=False, weights=None, alpha=0.35
    )
    y = keras.layers.GlobalAveragePooling2D()(base.output)
    outputs = keras.layers.Dense(3, activation="softmax")(y)
    model = keras.Model(inputs, outputs, name="my_mobilenet_v2")
    xs, ys = image_folders.load(image_folders.scan(str(images)), 32)
    for layer in model.layers:  # keras.applications' 0.999 needs thousands of steps to settle
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xs.astype(np.float32), ys, epochs=20, batch_size=16, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images-per-class", type=int, default=40)
    args, report = Report.parse_args(
        ap, "first_result", "Dashboard: time to a first result on your own model and images"
    )
    from prune_core.data.datasets import TEST_FRACTION
    from prune_core.jobs.store import JobStore
    from tests.app.browser import (
        browser_page,
        choose,
        ensure_chromium,
        served_app,
        type_into,
        type_number,
    )

    if ensure_chromium() is None:
        print("needs Debian's chromium")
        return 1
    work = Path(tempfile.mkdtemp(prefix="prune-bench-first-"))
    images = own_images(work / "photos", args.images_per_class)
    model = own_model(work / "mine" / "my_mobilenet_v2.keras", images)
    home = work / "home"
    store = JobStore(home / "jobs.sqlite3")
    marks = []
    with served_app(home) as url, browser_page() as page:
        start = time.perf_counter()

        def mark(what: str) -> None:
            marks.append((what, time.perf_counter() - start))

        page.goto(url + "/experiment")
        page.get_by_text("Schedule preview").wait_for(timeout=120000)
        mark("Experiment drawn")
        choose(page, "Model", "my own file")
        type_into(page, "Path to a .keras or .h5 model", str(model))
        page.get_by_text("Model: my_mobilenet_v2").wait_for(timeout=60000)
        mark("model file read and checked")
        choose(page, "Dataset", "image folder")
        type_into(page, "Folder with one sub-folder per class", str(images))
        page.get_by_text("Images: 3 classes").wait_for(timeout=60000)
        mark("image folder read and checked")
        type_into(page, "Target sparsities", "50%")
        type_number(page, "Fine-tune epochs", 1)
        page.get_by_text("1 run(s) ready").wait_for(timeout=60000)
        page.get_by_role("button", name="Queue run").click()
        page.get_by_text("Queued 1 job(s)").wait_for(timeout=60000)
        mark("queued")
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            jobs = store.list()
            if (
                jobs
                and jobs[0].status == "running"
                and not any(m[0] == "job started" for m in marks)
            ):
                mark("job started")
            if jobs and jobs[0].status not in ("queued", "running"):
                break
            time.sleep(0.5)
        job = store.list()[0]
        if job.status != "completed":
            print(f"the run did not complete: {job.status} {job.error}")
            return 1
        mark("run completed (stored)")
        page.goto(url + f"/run_detail?job={job.id}")
        page.get_by_text("speed · this CPU").wait_for(timeout=120000)
        mark("Run detail shows it")
    result = job.run_result
    report.section("first-result")
    report.text(
        f"{model.name}: {result.dense.params:,} parameters; {3 * args.images_per_class} images "
        f"in 3 classes at 32×32; one run at 50 % (taylor, global), 1 fine-tune epoch. "
        f"Dense top-1 {result.dense.top1:.1%} → {result.top1:.1%} after pruning and fine-tuning "
        f"(the test split: {TEST_FRACTION:.0%} of the images)."
    )
    rows, last = [], 0.0
    for what, at in marks:
        rows.append([what, f"{at:.1f}", f"{at - last:.1f}"])
        last = at
    report.table(["phase", "since opening (s)", "this phase (s)"], rows)
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
