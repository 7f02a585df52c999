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
    found = preflight.check(f"file:{three_class_model}", f"folder:{folder}")
    assert found.problem is None
    assert found.read == [
        "Model: three_way · 4 layers · input 24×24×3 · 3 outputs",
        "Images: 3 classes · 36 images · 12–12 per class · smallest 20×12",
        "Pixels: 0–255, as chosen; the model has no scaling layer of its own",
    ]
    # notes that do not stop a run but explain a poor one
    enlarged, pixels = found.notes
    assert "smallest images (20×12) are enlarged to the model's 24×24 input" in enlarged
    assert "no Rescaling or Normalization layer" in pixels and "pixels 0–255" in pixels
    assert 'choose that range under "Pixels it was trained on"' in pixels
    # the range it was trained on, chosen: no note, and the summary says what it gets
    chosen = preflight.check(f"file:{three_class_model}", f"folder:{folder}", "-1-1")
    assert chosen.read[-1] == "Pixels: −1–1, as chosen; the model has no scaling layer of its own"
    assert len(chosen.notes) == 1 and "enlarged" in chosen.notes[0]


def test_a_model_that_rescales_its_input_gets_no_pixel_range_note(tmp_path):
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3)(x)
    outputs = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
    path = tmp_path / "scaled.keras"
    keras.Model(inputs, outputs).save(path)
    assert preflight.read_model(str(path)).scales_input
    found = preflight.check(f"file:{path}", "digits")
    assert found.notes == [] and found.read[-1].startswith("Pixels: 0–255; the model scales its")
    (unusual,) = preflight.check(f"file:{path}", "digits", "0-1").notes
    assert "usually means it takes pixels 0–255; it will be given 0–1" in unusual


def test_a_model_that_takes_no_rgb_images_is_refused_before_queueing(tmp_path):
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs)))
    path = tmp_path / "gray.keras"
    keras.Model(inputs, outputs).save(path)
    found = preflight.check(f"file:{path}", "digits")
    # the engine's own rule, in the engine's own words
    assert found.problem == (
        "gray.keras must take square RGB images (N, S, S, 3); its input is (N, 28, 28, 1)"
    )


def test_a_class_count_mismatch_is_caught_before_anything_runs(three_class_model, tmp_path):
    folder = _folder(tmp_path / "pets", 2)
    found = preflight.check(f"file:{three_class_model}", f"folder:{folder}")
    assert len(found.read) == 2 and "predicts 3 classes but the data has 2" in found.problem
    found = preflight.check(f"file:{three_class_model}", "digits")  # 10 classes
    assert "predicts 3 classes but the data has 10" in found.problem
    assert preflight.check("efficientnet-compact", f"folder:{folder}") == preflight.Preflight(
        ["Images: 2 classes · 24 images · 12–12 per class · smallest 20×12"]
    )  # a built-in model takes the folder's classes


def test_a_file_a_job_would_refuse_is_one_line_and_nothing_else_is_read(tmp_path):
    fake = tmp_path / "notes.keras"
    fake.write_text("not a model")
    found = preflight.check(f"file:{fake}", "digits")
    assert found.read == [] and "not a Keras model file" in found.problem
    assert "\n" not in found.problem
    found = preflight.check("tiny-cnn", f"folder:{tmp_path / 'nowhere'}")
    assert found.read == [] and "does not exist" in found.problem


def test_the_class_count_of_a_built_in_dataset_or_a_folder(tmp_path):
    assert preflight.class_count("digits") == 10 and preflight.class_count("synthetic") == 3
    assert preflight.class_count(f"folder:{_folder(tmp_path / 'pets', 3)}") == 3
    assert preflight.class_count(f"folder:{tmp_path / 'gone'}") is None


def test_a_truncated_image_is_found_by_the_pages_check_not_in_the_job(tmp_path):
    """Its header reads fine; only decoding it, as the job will, finds the missing data."""
    from PIL import Image

    folder = _folder(tmp_path / "pets", 3)
    whole = folder / "class1" / "photo.jpg"
    Image.effect_noise((64, 64), 40).convert("RGB").save(whole, quality=95)
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])  # cut off half-way
    found = preflight.check("tiny-cnn", f"folder:{folder}")
    assert found.problem == "class1/photo.jpg is not a readable image (OSError)"
