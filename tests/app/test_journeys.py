"""Two people's paths through the dashboard in a real browser (headless Chromium, marker `browser`):
an ML engineer with a model file and an image folder of their own, and a teacher opening it cold
before a class."""

import re
import time
from pathlib import Path

import pytest

from prune_core.jobs.store import JobStore
from tests.app.browser import (
    browser_page,
    choose,
    ensure_chromium,
    served_app,
    type_into,
    type_number,
)

pytestmark = pytest.mark.browser


def _own_model(path, classes: int = 3, size: int = 16):
    """A small ordinary Keras CNN of the user's own, taking pixels 0-255 like every run feeds."""
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    path.parent.mkdir(parents=True, exist_ok=True)
    keras.Model(inputs, outputs, name="my_cnn").save(path)
    return path


def _own_images(root, classes: int, per_class: int = 12):
    from PIL import Image

    for c in range(classes):
        (root / f"kind{c}").mkdir(parents=True)
        for i in range(per_class):
            colour = (80 * c, 255 - 80 * c, (i * 20) % 256)
            Image.new("RGB", (16, 16), colour).save(root / f"kind{c}" / f"{i}.png")
    return root


def test_an_ml_engineer_prunes_their_own_model_on_their_own_images(tmp_path):
    """Own .keras + own folder → Experiment → away and back with the paths kept → a class-count
    mismatch caught before queueing → queue → Compare shows the run inside its axis with the demo
    also loaded → a click opens Run detail, which follows its export to the LiteRT verdict."""
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    from prune_core.results import demo

    model = _own_model(tmp_path / "mine" / "my_cnn.keras")
    three = _own_images(tmp_path / "photos", 3)
    two = _own_images(tmp_path / "photos-two", 2)
    home = tmp_path / "home"
    store = JobStore(home / "jobs.sqlite3")
    demo.load(store)
    demo_jobs = {j.id for j in store.list()}
    with served_app(home) as url, browser_page() as page:
        page.goto(url + "/experiment")
        page.get_by_text("Schedule preview").wait_for(timeout=60000)
        choose(page, "Model", "my own file")
        type_into(page, "Path to a .keras or .h5 model", str(model))
        page.get_by_text("Model: my_cnn").wait_for(timeout=30000)
        choose(page, "Dataset", "image folder")
        type_into(page, "Folder with one sub-folder per class", str(two))
        # the mismatch is said beside the fields, and nothing can be queued
        page.get_by_text("the model predicts 3 classes but the data has 2", exact=False).wait_for(
            timeout=30000
        )
        queue = page.get_by_role("button", name=re.compile(r"^Queue \d+ run\(s\)$|^Queue run$"))
        assert queue.is_disabled()
        # away and back: the paths are where they were left
        page.get_by_role("link", name="Runs", exact=True).click()
        page.get_by_text("sweep demo (bundled)").first.wait_for(timeout=30000)
        page.get_by_role("link", name="Experiment", exact=True).click()
        page.get_by_text("Model: my_cnn").wait_for(timeout=30000)
        assert page.get_by_role("textbox", name="Path to a .keras").input_value() == str(model)
        folder = page.get_by_role("textbox", name="Folder with one sub-folder per class")
        assert folder.input_value() == str(two)
        type_into(page, "Folder with one sub-folder per class", str(three))
        page.get_by_text("Images: 3 classes · 36 images").wait_for(timeout=30000)
        type_into(page, "Target sparsities", "50%")
        type_number(page, "Fine-tune epochs", 1)
        page.get_by_text("1 run(s) ready").wait_for(timeout=30000)
        page.get_by_role("button", name="Queue run").click()
        page.get_by_text("Queued 1 job(s)").wait_for(timeout=30000)

        deadline = time.monotonic() + 300
        mine = lambda: [j for j in store.list() if j.id not in demo_jobs]  # noqa: E731
        while time.monotonic() < deadline and (
            not mine() or mine()[0].status in ("queued", "running")
        ):
            time.sleep(1)
        (job,) = mine()
        assert job.status == "completed", job.error
        assert job.spec.baseline.model == f"file:{model}"
        assert job.spec.baseline.dataset == f"folder:{three}"

        # Compare opens on this run's model and data, the demo hidden; its point is on the chart
        page.get_by_role("link", name="Compare", exact=True).click()
        page.get_by_text("Accuracy vs size").wait_for(timeout=60000)
        page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=30000)
        ys = page.evaluate(
            """() => {
                const plot = document.querySelectorAll('.js-plotly-plot')[0];
                const run = plot._fullData.find(d => d.customdata && d.customdata.length);
                return [Array.from(run.y), plot._fullLayout.yaxis.range];
            }"""
        )
        (top1,), (low, high) = ys
        assert low <= top1 <= high  # inside the zoomed axis, not "below this axis"
        assert "below this axis" not in page.inner_text("main")
        # the demo's runs, shown again, stay out of this model's panel (they are another model)
        page.get_by_text("Hide the bundled demo").click()
        page.wait_for_timeout(2000)
        page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=30000)
        runs = page.evaluate(
            """() => document.querySelectorAll('.js-plotly-plot')[0]._fullData
                .filter(d => d.customdata && d.customdata.length)
                .reduce((n, d) => n + d.customdata.length, 0)"""
        )
        assert runs == 1
        # the CSV is written when the button is clicked: every measured number of the runs shown
        with page.expect_download(timeout=60000) as download:
            page.get_by_role("button", name="Download CSV").click()
        rows = Path(download.value.path()).read_text().splitlines()
        assert len(rows) == 2 and "top1" in rows[0].split(",")
        assert str(job.id) in rows[1].split(",")

        # a click on the point opens its Run detail; an export is followed to its verdict
        page.locator(".js-plotly-plot .scatterlayer .point").first.click(force=True)
        page.wait_for_url(f"**/run_detail?job={job.id}", timeout=30000)
        page.get_by_text("speed · this CPU").wait_for(timeout=30000)
        page.get_by_role("button", name="Export for deployment").click()
        page.get_by_text("speed · LiteRT").wait_for(timeout=300000)
        page.get_by_role("button", name="Download TFLite int8 (.tflite)").wait_for(timeout=30000)


def test_a_teacher_opens_the_demo_then_learn_then_a_simple_explore(tmp_path):
    """Home → load the demo → Learn opens with one plain sentence → Explore opens on one criterion
    with labelled markers and a legend that names every line style."""
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    with served_app(tmp_path, {"PRUNE_AUTOSTART": "0"}) as url, browser_page() as page:
        page.goto(url)
        page.get_by_role("button", name="Load the demo results").click()
        # a page link clicked before the button's rerun ran would replace that rerun (Streamlit
        # keeps the latest request), so the demo would never load: wait for the store to say so
        page.get_by_text("bundled demo result(s) are shown").wait_for(timeout=60000)
        page.get_by_role("link", name="Open Learn").click()
        page.get_by_text("Pruning removes the weights a trained network needs least").wait_for(
            timeout=60000
        )
        page.get_by_role("link", name="Explore", exact=True).click()
        page.get_by_text("Simple: one criterion").wait_for(timeout=60000)
        page.get_by_text(
            re.compile(r"s=0\.8 \w+ oneshot( \+distill [\d.]+)?, fine-tuned")
        ).wait_for(timeout=60000)
        chart = page.locator(".js-plotly-plot").first
        chart.wait_for(timeout=30000)
        labels = chart.locator(".textpoint").all_text_contents()
        assert any(t.startswith("automatic per layer: ") for t in labels), labels
        legend = chart.locator(".legendtext").all_text_contents()
        assert "dotted: global ranking" in legend and "dashed: uniform (layerwise)" in legend
        assert page.get_by_role("combobox", name="Criteria").count() == 0  # one criterion only
        page.get_by_text("Full comparison: every criterion and ranking").click()
        page.get_by_role("combobox", name="Criteria").wait_for(timeout=30000)
