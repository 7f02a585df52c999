"""Tests for prune_core.engine.run_inputs: calibration examples, the dataset's size, checks."""

import numpy as np
import pytest

from prune_core.engine import models, run_inputs
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError, SpecError
from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY, tiny_with_file


def _spec(**changes):
    model = changes.get("model", "")
    base = tiny_with_file(model[len("file:") :]) if model.startswith("file:") else TINY
    return RunSpec.of(**{**base, "sparsity": 0.5, **changes})


def _head_only(path, classes=3, size=16):
    """A model whose only kernel is its classifier head."""
    x = keras.Input((size, size, 3))
    h = keras.layers.GlobalAveragePooling2D()(x)
    return models.save(keras.Model(x, keras.layers.Dense(classes)(h)), path)


def test_calibration_is_the_recipes_number_of_training_examples(tiny_data):
    calib = run_inputs.calibration_set(_spec(calibration_examples=20), tiny_data)
    assert calib.x.shape == (20, *tiny_data.x_train.shape[1:]) and calib.x.dtype == np.float32
    assert calib.y.shape == (20,)
    # each example is a training example with its own label
    for x, y in zip(calib.x, calib.y):
        matches = np.flatnonzero((tiny_data.x_train == x).all(axis=(1, 2, 3)))
        assert matches.size and y in tiny_data.y_train[matches]


def test_calibration_repeats_for_a_seed_and_changes_with_it(tiny_data):
    spec = _spec(calibration_examples=20)
    first, again = (run_inputs.calibration_set(spec, tiny_data) for _ in range(2))
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.y, again.y)
    other = run_inputs.calibration_set(spec.with_(seed=1), tiny_data)
    assert not np.array_equal(first.x, other.x)
    # a larger set starts with the smaller one: the same seeded shuffle, cut later
    larger = run_inputs.calibration_set(spec.with_(calibration_examples=30), tiny_data)
    np.testing.assert_array_equal(larger.x[:20], first.x)


def test_calibration_holds_at_most_the_whole_training_split(tiny_data):
    calib = run_inputs.calibration_set(_spec(calibration_examples=10_000), tiny_data)
    assert len(calib.x) == len(tiny_data.x_train)
    assert sorted(calib.y.tolist()) == sorted(tiny_data.y_train.tolist())  # each example once


def test_fisher_calibrates_in_smaller_batches(tiny_data):
    assert run_inputs.calibration_set(_spec(strategy="fisher"), tiny_data).batch_size == 32
    assert run_inputs.calibration_set(_spec(strategy="taylor"), tiny_data).batch_size == 64


def test_the_dataset_comes_at_the_recipes_size_without_a_model_file(tiny_model):
    dataset = run_inputs.resolve_dataset(_spec(image_size=24), tiny_model)  # a built-in model
    assert dataset.x_train.shape[1:3] == (24, 24)
    assert run_inputs.resolve_dataset(_spec()).x_train.shape[1:3] == (16, 16)


def test_a_model_file_fixes_the_datasets_size(tmp_path):
    path = _head_only(tmp_path / "twenty.keras", size=20)
    spec = _spec(model=f"file:{path}")  # tiny-cnn recipes say 16
    model = models.load_user_model(str(path))
    assert run_inputs.resolve_dataset(spec, model).x_train.shape[1:3] == (20, 20)
    dataset, user_model = run_inputs.check(spec.with_(prune_head=True))
    assert dataset.x_train.shape[1:3] == (20, 20) and user_model.input_shape[1] == 20


def test_check_returns_the_dataset_and_no_model_for_a_built_in_one():
    dataset, user_model = run_inputs.check(_spec())
    assert user_model is None and dataset.name == "synthetic" and dataset.num_classes == 3


def test_check_refuses_a_model_file_with_another_number_of_classes(tmp_path):
    path = _head_only(tmp_path / "five.keras", classes=5)
    with pytest.raises(ModelError) as info:
        run_inputs.check(_spec(model=f"file:{path}", prune_head=True))
    assert str(info.value) == "the model predicts 5 classes but synthetic has 3"


def test_check_refuses_a_model_file_with_nothing_this_recipe_may_prune(tmp_path):
    spec = _spec(model=f"file:{_head_only(tmp_path / 'head.keras')}")
    with pytest.raises(ModelError, match="no Conv2D or Dense kernel that this recipe may prune"):
        run_inputs.check(spec)
    run_inputs.check(spec.with_(prune_head=True))  # the head may be pruned when asked


def test_check_refuses_a_schedule_that_ends_after_fine_tuning_in_one_line():
    spec = _spec(schedule="polynomial", begin_step=0, end_step=10_000, fine_tune_epochs=2)
    with pytest.raises(SpecError) as info:
        run_inputs.check(spec)
    message = str(info.value)
    assert "\n" not in message and "step 10000" in message and "--fine-tune-epochs" in message


def test_check_refuses_regrowth_that_would_never_move_a_weight():
    with pytest.raises(SpecError, match="no update would happen"):
        run_inputs.check(_spec(regrow="rigl", regrow_every=10_000))
