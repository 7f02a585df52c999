"""The pixel range is part of the recipe: a model file trained on 0–1 (or −1–1) inputs is given
them, and a dense model at chance says why it may be."""

import numpy as np
import pytest

from prune_core.engine import pipeline, run_inputs
from prune_core.engine.keras_env import keras
from prune_core.errors import SpecError
from prune_core.recipe.spec import RunSpec
from prune_core.results import diagnosis
from tests.conftest import tiny_with_file


@pytest.fixture(scope="module")
def digits():
    from prune_core.data import datasets

    return datasets.load("digits", 16, 0)


@pytest.fixture(scope="module")
def unit_range_model(digits, tmp_path_factory):
    """A model with no scaling layer, trained on pixels −1–1 (as many notebooks do)."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(16, 3, activation="tanh", name="c1")(inp)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, activation="tanh", name="c2")(x)
    x = keras.layers.GlobalMaxPooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(10, name="head")(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train / 127.5 - 1, digits.y_train, epochs=30, verbose=0)
    path = tmp_path_factory.mktemp("pixels") / "unit.keras"
    model.save(path)
    return path


def test_images_are_mapped_to_the_range_the_model_was_trained_on(unit_range_model, digits):
    recipe = {**tiny_with_file(unit_range_model), "dataset": "digits"}
    model = keras.models.load_model(unit_range_model, compile=False)
    for pixels, low, high in (("0-255", 0, 255), ("0-1", 0, 1), ("-1-1", -1, 1)):
        data = run_inputs.resolve_dataset(RunSpec.of(**recipe, pixels=pixels), model)
        expected = (digits.x_test.astype(np.float64) / 255.0) * (high - low) + low
        np.testing.assert_allclose(data.x_test, expected, atol=1e-5)


def test_the_right_range_measures_the_model_and_the_wrong_one_says_so(unit_range_model):
    recipe = {
        **tiny_with_file(unit_range_model),
        "dataset": "digits",
        "fine_tune_epochs": 0,
        "sparsity": 0.1,
        "strategy": "magnitude",
    }
    right = pipeline.run(RunSpec.of(**recipe, pixels="-1-1"))
    wrong = pipeline.run(RunSpec.of(**recipe))
    assert right.dense.top1 >= 0.8 and diagnosis.warnings(right, 10) == []
    assert wrong.dense.top1 < right.dense.top1 - 0.3
    (said,) = [w for w in diagnosis.warnings(wrong, 10) if "at chance" in w]
    assert "Your model was given pixels 0–255" in said


def test_a_pixel_range_is_for_model_files_and_named_on_the_command_line():
    with pytest.raises(SpecError, match="applies to a model file only"):
        RunSpec.of(pixels="0-1")
    spec = RunSpec.of(model="file:/m.keras", pixels="-1-1")
    assert "--pixels=-1-1" in spec.command()  # argparse would take "-1-1" for an option
    assert spec.baseline_key() != RunSpec.of(model="file:/m.keras").baseline_key()
