"""The Python API (`prune_core.prune`): a model and arrays in memory, the CLI's recipe fields and
checks, the pruned model and typed result back, importable into the dashboard."""

import subprocess
import sys

import numpy as np
import pytest

import prune_core
from prune_core.engine.keras_env import keras, tf
from prune_core.errors import DataError, ModelError, SpecError
from prune_core.jobs.store import JobStore
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def trained(tiny_data):
    """A small user-built model, trained a little on the synthetic set (0–255 pixels)."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inp)
    x = keras.layers.Conv2D(12, 3, activation="relu", name="c1")(x)
    x = keras.layers.Conv2D(12, 3, activation="relu", name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(tiny_data.num_classes, name="head")(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(tiny_data.x_train, tiny_data.y_train, epochs=3, verbose=0)
    return model


def test_a_model_in_memory_prunes_and_comes_back_with_its_result(trained, tiny_data, home):
    before = [w.copy() for w in trained.get_weights()]
    phases = []
    pruned = prune_core.prune(
        trained,
        (tiny_data.x_train, tiny_data.y_train),
        (tiny_data.x_test, tiny_data.y_test),
        granularity="structured",
        sparsity=0.4,
        fine_tune_epochs=1,
        name="shapes",
        on_progress=lambda p: phases.append(p.phase),
    )
    result = pruned.result
    assert result.spec.baseline.dataset == "memory:shapes"
    assert result.spec.pruning.strategy == "taylor"  # the dashboard's default, as on the CLI
    assert result.budget_removed >= 0.4 - 0.01
    assert pruned.model.count_params() == result.params < trained.count_params()
    top1 = keras.metrics.SparseCategoricalAccuracy()
    top1.update_state(tiny_data.y_test, pruned.model.predict(tiny_data.x_test, verbose=0))
    assert float(top1.result()) == pytest.approx(result.top1, abs=1e-6)
    assert {"scoring", "fine-tuning", "measuring"} <= set(phases)
    for a, b in zip(before, trained.get_weights()):  # the input model is never changed
        np.testing.assert_array_equal(a, b)

    lines = pruned.write_jsonl(home / "runs.jsonl")
    cli = [sys.executable, "-m", "prune_core", "import", str(lines)]
    done = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stored = JobStore(home / "jobs.sqlite3").list()
    assert [job.result["top1"] for job in stored] == [result.top1]


def test_a_tf_data_pipeline_gives_the_same_data_as_arrays(trained, tiny_data):
    from prune_core.engine.notebook import dataset_of

    arrays = dataset_of(
        trained, (tiny_data.x_train, tiny_data.y_train), (tiny_data.x_test, tiny_data.y_test)
    )
    batched = tf.data.Dataset.from_tensor_slices((tiny_data.x_train, tiny_data.y_train)).batch(7)
    unbatched = tf.data.Dataset.from_tensor_slices((tiny_data.x_test, tiny_data.y_test))
    streamed = dataset_of(trained, batched, unbatched)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(arrays, name))


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"y": "one-hot"}, DataError, "labels must be class indices (use y.argmax(axis=1))"),
        ({"x": "wrong size"}, DataError, "images must be (N, 16, 16, 3), got (40, 8, 8, 3)"),
        ({"y": "too many"}, DataError, "40 images but 41 labels"),
        ({"recipe": {"sparsity": 1.5}}, SpecError, "sparsity"),
        ({"recipe": {"dataset": "digits"}}, SpecError, "'dataset' is what you pass in here"),
        ({"model": "keras 3"}, ModelError, "must be a tf_keras model"),
    ],
)
def test_bad_input_is_refused_in_one_line_before_anything_runs(
    trained, tiny_data, home, change, error, words
):
    x, y = tiny_data.x_train[:40], tiny_data.y_train[:40]
    if change.get("y") == "one-hot":
        y = np.eye(tiny_data.num_classes)[y]
    elif change.get("y") == "too many":
        y = np.concatenate([y, y[:1]])
    if change.get("x") == "wrong size":
        x = x[:, :8, :8]
    model = object() if change.get("model") else trained
    with pytest.raises(error) as refused:
        prune_core.prune(model, (x, y), (x, y), **change.get("recipe", {}))
    assert words in str(refused.value) and "\n" not in str(refused.value)
    assert not list(home.rglob("*.keras"))  # nothing written


def test_importing_the_package_does_not_import_tensorflow():
    code = (
        "import sys, prune_core; assert callable(prune_core.prune); "
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
