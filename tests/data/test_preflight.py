"""Tests for prune_core.data.preflight: what a model file and an image folder hold, and a mismatch
between them, read without TensorFlow."""

import pytest

from prune_core.data import preflight
from tests.data.helpers import _write_images


@pytest.fixture(scope="module")
def three_class_model(tmp_path_factory):
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    path = tmp_path_factory.mktemp("models") / "three.keras"
    keras.Model(inputs, outputs, name="three_way").save(path)
    return path


def _folder(root, classes):
    for i in range(classes):
        _write_images(root / f"class{i}", 12, 40 * i)
    return root


def test_a_model_file_is_described_from_its_config(three_class_model):
    shape = preflight.read_model(str(three_class_model))
    assert (shape.name, shape.input_shape, shape.outputs) == ("three_way", (24, 24, 3), 3)
    assert shape.text() == "three_way · 4 layers · input 24×24×3 · 3 outputs"


def test_a_model_and_a_folder_that_fit_are_read_and_accepted(three_class_model, tmp_path):
    folder = _folder(tmp_path / "pets", 3)
    read, problem = preflight.check(f"file:{three_class_model}", f"folder:{folder}")
    assert problem is None
    assert read == [
        "Model: three_way · 4 layers · input 24×24×3 · 3 outputs",
        "Images: 3 classes · 36 images · 12–12 per class",
    ]


def test_a_class_count_mismatch_is_caught_before_anything_runs(three_class_model, tmp_path):
    folder = _folder(tmp_path / "pets", 2)
    read, problem = preflight.check(f"file:{three_class_model}", f"folder:{folder}")
    assert len(read) == 2 and "predicts 3 classes but the data has 2" in problem
    _, problem = preflight.check(f"file:{three_class_model}", "digits")  # 10 classes
    assert "predicts 3 classes but the data has 10" in problem
    assert preflight.check("efficientnet-compact", f"folder:{folder}") == (
        ["Images: 2 classes · 24 images · 12–12 per class"],
        None,  # a built-in model takes the folder's classes
    )


def test_a_file_a_job_would_refuse_is_one_line_and_nothing_else_is_read(tmp_path):
    fake = tmp_path / "notes.keras"
    fake.write_text("not a model")
    read, problem = preflight.check(f"file:{fake}", "digits")
    assert read == [] and "not a Keras model file" in problem and "\n" not in problem
    read, problem = preflight.check("tiny-cnn", f"folder:{tmp_path / 'nowhere'}")
    assert read == [] and "does not exist" in problem


def test_the_class_count_of_a_built_in_dataset_or_a_folder(tmp_path):
    assert preflight.class_count("digits") == 10 and preflight.class_count("synthetic") == 3
    assert preflight.class_count(f"folder:{_folder(tmp_path / 'pets', 3)}") == 3
    assert preflight.class_count(f"folder:{tmp_path / 'gone'}") is None
