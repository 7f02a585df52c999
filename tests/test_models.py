import numpy as np
import pytest

from prune_core.data import model_files
from prune_core.engine import criteria, models
from prune_core.errors import ModelError
from prune_core.engine.keras_env import keras


def test_compact_efficientnet_is_small_and_has_mbconv_blocks():
    model = models.build("efficientnet-compact", 10, 32)
    assert 0.4e6 < model.count_params() < 1.0e6
    names = [layer.name for layer in model.layers]
    assert any(n.endswith("se_squeeze") for n in names) and any(n.endswith("dwconv") for n in names)
    assert model.layers[-1].name == models.HEAD_NAME and model.output_shape == (None, 10)
    assert all(layer.momentum == models.BN_MOMENTUM for layer in model.layers
               if isinstance(layer, keras.layers.BatchNormalization))


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


def _lambda_model():
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_layers_are_refused_in_safe_mode(tmp_path, suffix):
    path = tmp_path / f"lambda{suffix}"
    _lambda_model().save(str(path))
    with pytest.raises(ModelError, match="Lambda layer"):
        models.load_user_model(str(path))


def test_files_that_are_not_keras_models_are_refused(tmp_path):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"definitely not a zip")
    with pytest.raises(ModelError, match="not a Keras model"):
        models.load_user_model(str(junk))
    txt = tmp_path / "model.txt"
    txt.write_text("hi")
    with pytest.raises(ModelError, match=".keras or .h5"):
        models.load_user_model(str(txt))
    with pytest.raises(ModelError, match="does not exist"):
        models.load_user_model(str(tmp_path / "absent.h5"))


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


def test_sequential_models_load_as_functional_and_nested_models_are_refused(tmp_path):
    seq = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    seq.save(str(tmp_path / "seq.keras"))
    loaded = models.load_user_model(str(tmp_path / "seq.keras"))
    assert not isinstance(loaded, keras.Sequential) and "input_layers" in loaded.get_config()
    inner = keras.Model(seq.input, seq.get_layer("c").output, name="backbone")
    inp = keras.Input((8, 8, 3))
    outer = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(inner(inp))))
    outer.save(str(tmp_path / "nested.keras"))
    with pytest.raises(ModelError, match="nests a model"):
        models.load_user_model(str(tmp_path / "nested.keras"))


# ---- hostile files: everything a file names is checked against allow-lists before it is built --------
def _op_model():
    """A model whose `x * 2.0` and `tf.nn.relu6` are stored as op-lambda layers (allowed arithmetic)."""
    from prune_core.engine.keras_env import tf

    inp = keras.Input((8, 8, 3))
    x = tf.nn.relu6(inp * 2.0)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))


def _rewritten(path, tmp_path, change):
    """A copy of a .keras file whose config.json went through `change(config)`."""
    import json
    import zipfile

    out = tmp_path / f"hostile-{path.name}"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    return out


def test_arithmetic_op_layers_load(tmp_path):
    path = tmp_path / "ops.keras"
    _op_model().save(str(path))
    classes = {layer["class_name"] for layer in model_files.read_config(path)["config"]["layers"]}
    assert "TFOpLambda" in classes
    assert models.load_user_model(str(path)).output_shape == (None, 2)


def _conv(config) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")


def _set_op_function(config, function):
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "TFOpLambda":
            layer["config"]["function"] = function
            return


@pytest.mark.parametrize("change, message", [
    (lambda c: _set_op_function(c, "io.write_file"), "calls the TensorFlow function 'io.write_file'"),
    (lambda c: _conv(c).update(module="os"), "names the Python module 'os'"),
    (lambda c: _conv(c).update(registered_name="evil>Layer"), "custom object ('evil>Layer')"),
    (lambda c: _conv(c).update(class_name="MyLayer", registered_name=None), "is a MyLayer, which this tool does not load"),
    (lambda c: c.update(class_name="Sneaky"), "does not hold a Keras model"),
])
def test_files_naming_code_outside_the_allow_lists_are_refused_with_the_layer(tmp_path, change, message):
    path = tmp_path / "ops.keras"
    _op_model().save(str(path))
    hostile = _rewritten(path, tmp_path, change)
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        models.load_user_model(str(hostile))
    assert "\n" not in str(refused.value)


def test_layers_the_engine_does_not_understand_are_refused_in_h5_too(tmp_path):
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2DTranspose(4, 3, name="upsampler")(inp)
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    path = tmp_path / "transpose.h5"
    model.save(str(path))
    with pytest.raises(ModelError, match="layer upsampler is a Conv2DTranspose"):
        models.load_user_model(str(path))


def test_every_layer_type_the_engine_knows_is_allowed():
    from prune_core.engine import layers

    assert set(layers.TYPES) <= model_files.LAYER_CLASSES


@pytest.mark.parametrize("odd", ["a\0b.keras", "x" * 5000 + ".keras"])
def test_odd_paths_are_one_clear_line(odd):
    with pytest.raises(ModelError, match="cannot be read|does not exist"):
        models.load_user_model(odd)
