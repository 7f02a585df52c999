"""Tests for prune_core.engine.deploy: TFLite exports predict like Keras; int8, sizes, latency."""

from pathlib import Path

import numpy as np
import pytest

from prune_core.engine import deploy, models
from prune_core.engine.keras_env import keras
from prune_core.engine.pruners.masked import MaskedPruner
from prune_core.engine.training import Trainer
from prune_core.errors import SpecError
from prune_core.recipe.spec import PruningSpec


@pytest.fixture(scope="module")
def trained(tiny_data):
    model = models.build("tiny-cnn", tiny_data.num_classes, 16, seed=0)
    Trainer(model, learning_rate=1e-2, total_steps=60, augment=False).fit(
        tiny_data.x_train, tiny_data.y_train, epochs=10, batch_size=16
    )
    return model


def test_float_tflite_predicts_the_same_classes_as_keras(trained, tiny_data):
    content = deploy.to_tflite(trained)
    keras_classes = trained.predict(tiny_data.x_test.astype(np.float32), verbose=0).argmax(1)
    assert (deploy.predict(content, tiny_data.x_test) == keras_classes).mean() >= 0.99


def _deep_net(depth: int):
    x = inp = keras.Input((16, 16, 3))
    for _ in range(depth):
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    return keras.Model(inp, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))


def test_an_export_leaves_nothing_per_layer_behind_in_the_process():
    """Converting a Keras model through `from_keras_model` loaded a traced call of every layer
    into the process for good (memory grew with each export of a deep model); the converter now
    sees one function."""
    from tensorflow.python.eager import context

    deploy.to_tflite(_deep_net(2))  # the converter's own one-time functions
    deep = _deep_net(20)
    before = len(context.context().list_function_names())
    content = deploy.to_tflite(deep)
    assert len(context.context().list_function_names()) - before < len(deep.layers)
    x = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    interp = deploy.interpreter(content, batch=4)
    deploy._feed(interp, x)
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, deep(x).numpy(), rtol=1e-4, atol=1e-4)


def test_int8_tflite_accuracy_is_within_2pp_on_real_digits():
    """Real data, 360 test images: post-training int8 keeps top-1 within 2 pp of the float model."""
    from prune_core.data import datasets as data

    digits = data.load("digits", 16, 0)
    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inp)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    model = keras.Model(
        inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    )
    Trainer(
        model, learning_rate=3e-3, total_steps=10 * digits.steps_per_epoch(32), augment=False
    ).fit(digits.x_train, digits.y_train, epochs=10, batch_size=32)
    keras_top1 = (
        model.predict(digits.x_test.astype(np.float32), verbose=0).argmax(1) == digits.y_test
    ).mean()
    assert keras_top1 >= 0.9  # a model worth quantizing
    content = deploy.to_tflite(model, "int8", representative=digits.x_train[:100])
    int8_top1 = (deploy.predict(content, digits.x_test) == digits.y_test).mean()
    assert abs(keras_top1 - int8_top1) <= 0.02
    assert len(content) < len(deploy.to_tflite(model))


def test_sparse_storage_is_smaller_at_80_percent():
    model = models.build("efficientnet-compact", 10, 32)
    pruner = MaskedPruner(PruningSpec())
    model = pruner.start(model)
    pruner.prune(model, 0.8)
    assert len(deploy.to_tflite(model, "sparse")) < len(deploy.to_tflite(model, "float"))


def test_litert_latency_and_bad_requests(trained):
    lat = deploy.latency(deploy.to_tflite(trained), (16, 16, 3), batch=2, warmup=1, repeats=5)
    assert 0 < lat.p50 <= lat.p90 and len(lat.samples_ms) == 5
    with pytest.raises(SpecError, match="unknown TFLite kind"):
        deploy.to_tflite(trained, "fp16")
    with pytest.raises(SpecError, match="representative"):
        deploy.to_tflite(trained, "int8")


def test_every_export_loads_and_predicts_like_the_keras_model(trained, tiny_data, tmp_path):
    reference = models.clone(trained)
    result = deploy.export_all(
        trained, tiny_data, tmp_path, representative=20, repeats=3, reference=reference
    )
    folder = Path(result.export_dir)
    assert folder.parent == tmp_path / "exports" and folder.name.startswith(
        deploy.model_digest(trained)
    )
    # 1 thread, timed in alternation with the dense float32 model
    for kind in ("float", "sparse", "int8"):
        assert (
            result.get(kind, "speedup_1t_lo")
            <= result.get(kind, "speedup_1t")
            <= result.get(kind, "speedup_1t_hi")
        )
        assert (
            result.get(kind, "ms_1t_b1_lo")
            <= result.get(kind, "ms_1t_b1_p50")
            <= result.get(kind, "ms_1t_b1_hi")
        )
    expected = trained.predict(tiny_data.x_test.astype(np.float32), verbose=0).argmax(1)
    for name in ("model.keras", "model.h5"):
        loaded = models.load_user_model(str(folder / name))
        np.testing.assert_array_equal(
            loaded.predict(tiny_data.x_test.astype(np.float32), verbose=0).argmax(1), expected
        )
    for kind in ("float", "sparse"):
        assert result.get(kind, "agreement") >= 0.99
        content = (folder / f"model-{kind}.tflite").read_bytes()
        assert (deploy.predict(content, tiny_data.x_test) == expected).mean() >= 0.99
    # 36 images
    assert abs(result.get("int8", "top1") - (expected == tiny_data.y_test).mean()) <= 0.1
    assert result.get("int8", "bytes") < result.get("float", "bytes") and result.export_dir == str(
        folder
    )
    # cached: no second conversion
    again = deploy.export_all(trained, tiny_data, tmp_path, representative=20, reference=reference)
    assert again == result
