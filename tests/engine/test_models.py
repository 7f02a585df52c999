"""Tests for prune_core.engine.models: the built-in models, and users' model files loaded safely."""

import numpy as np
import pytest

from prune_core.engine import criteria, models
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError


def test_compact_efficientnet_is_small_and_has_mbconv_blocks():
    model = models.build("efficientnet-compact", 10, 32)
    assert 0.4e6 < model.count_params() < 1.0e6
    names = [layer.name for layer in model.layers]
    assert any(n.endswith("se_squeeze") for n in names) and any(n.endswith("dwconv") for n in names)
    assert model.layers[-1].name == models.HEAD_NAME and model.output_shape == (None, 10)
    assert all(
        layer.momentum == models.BN_MOMENTUM
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )


@pytest.mark.slow
def test_efficientnet_b0_builds_with_a_new_head_and_its_targets_skip_depthwise_and_head():
    model = models.build("efficientnet-b0", 7, 32)
    assert model.output_shape == (None, 7)
    targets = criteria.find_targets(model)
    assert targets and all(not isinstance(t.layer, keras.layers.DepthwiseConv2D) for t in targets)
    assert models.HEAD_NAME not in [t.name for t in targets]


def test_efficientnet_weights_file_missing_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        models.build("efficientnet-b0", 3, 32, weights=f"file:{tmp_path / 'nope.h5'}")


def test_user_model_round_trip_in_keras_and_h5(tmp_path, tiny_model):
    for name in ("m.keras", "m.h5"):
        path = models.save(tiny_model, tmp_path / name)
        loaded = models.load_user_model(str(path))
        x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
        np.testing.assert_allclose(loaded(x).numpy(), tiny_model(x).numpy(), rtol=1e-5)


def test_non_image_models_are_refused(tmp_path):
    inp = keras.Input((10,))
    path = tmp_path / "mlp.keras"
    keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp)).save(str(path))
    with pytest.raises(ModelError, match="square RGB images"):
        models.load_user_model(str(path))


def test_logit_outputs_are_detected(tiny_model):
    assert not models.outputs_logits(tiny_model)
    inp = keras.Input((4,))
    assert models.outputs_logits(keras.Model(inp, keras.layers.Dense(3)(inp)))


def test_sequential_models_load_as_functional_and_nested_models_unfold(tmp_path):
    seq = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="c"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    seq.save(str(tmp_path / "seq.keras"))
    loaded = models.load_user_model(str(tmp_path / "seq.keras"))
    assert not isinstance(loaded, keras.Sequential) and "input_layers" in loaded.get_config()
    inner = keras.Model(seq.input, seq.get_layer("c").output, name="backbone")
    stem = keras.Sequential([keras.layers.BatchNormalization(name="stem_bn")], name="stem")
    inp = keras.Input((8, 8, 3))
    outer = keras.Model(
        inp,
        keras.layers.Dense(2, activation="softmax", name="head")(
            keras.layers.GlobalAveragePooling2D()(stem(inner(inp)))
        ),
    )
    outer.save(str(tmp_path / "nested.keras"))
    flat = models.load_user_model(str(tmp_path / "nested.keras"))
    names = [layer.name for layer in flat.layers]
    assert "c" in names and "stem_bn" in names and "backbone" not in names
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(flat(x).numpy(), outer(x).numpy(), atol=1e-6)
