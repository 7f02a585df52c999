"""Tests for prune_core.data.model_files: model files checked against allow-lists before loading."""

import pytest

from prune_core.data import model_allowlist, model_files
from prune_core.engine import models
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError


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


# ---- hostile files: everything a file names is checked against allow-lists before it is built
# --------
def _op_model():
    """A model whose `x * 2.0` and `tf.nn.relu6` are stored as op-lambda layers (allowed
    arithmetic)."""
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


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: _set_op_function(c, "io.write_file"),
            "calls the TensorFlow function 'io.write_file'",
        ),
        (lambda c: _conv(c).update(module="os"), "names the Python module 'os'"),
        (  # the one stock foreign object, but as another class of its module
            lambda c: _conv(c)["config"].update(
                bias_initializer={
                    "module": "tensorflow.python.ops.init_ops_v2",
                    "class_name": "Zeros",
                    "config": {},
                    "registered_name": "Zeros",
                }
            ),
            "names the Python module 'tensorflow.python.ops.init_ops_v2'",
        ),
        (lambda c: _conv(c).update(registered_name="evil>Layer"), "custom object ('evil>Layer')"),
        (
            lambda c: _conv(c).update(class_name="MyLayer", registered_name=None),
            "is a MyLayer, which this tool does not load",
        ),
        (lambda c: c.update(class_name="Sneaky"), "does not hold a Keras model"),
    ],
)
def test_files_naming_code_outside_the_allow_lists_are_refused_with_the_layer(
    tmp_path, change, message
):
    path = tmp_path / "ops.keras"
    _op_model().save(str(path))
    hostile = _rewritten(path, tmp_path, change)
    with pytest.raises(
        ModelError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as refused:
        models.load_user_model(str(hostile))
    assert "\n" not in str(refused.value)


def test_layers_the_engine_does_not_understand_are_refused_in_h5_too(tmp_path):
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Permute((2, 1, 3), name="upsampler")(inp)
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    path = tmp_path / "transpose.h5"
    model.save(str(path))
    with pytest.raises(ModelError, match="layer upsampler is a Permute"):
        models.load_user_model(str(path))


def test_the_initializer_stock_efficientnetv2_saves_is_loaded(tmp_path):
    path = tmp_path / "stock.keras"
    _op_model().save(str(path))
    stock = _rewritten(
        path,
        tmp_path,
        lambda c: _conv(c)["config"].update(
            bias_initializer={
                "module": "tensorflow.python.ops.init_ops_v2",
                "class_name": "Constant",
                "config": {"value": 0},
                "registered_name": "Constant",
            }
        ),
    )
    model = models.load_user_model(str(stock))
    assert model.count_params() == _op_model().count_params()


def test_every_layer_type_the_engine_knows_is_allowed():
    from prune_core.engine import layers

    assert set(layers.TYPES) <= model_allowlist.LAYER_CLASSES


@pytest.mark.parametrize("odd", ["a\0b.keras", "x" * 5000 + ".keras"])
def test_odd_paths_are_one_clear_line(odd):
    with pytest.raises(ModelError, match="cannot be read|does not exist"):
        models.load_user_model(odd)


def test_a_compiled_model_loads_its_loss_and_optimizer_are_never_read(tmp_path):
    """Users save compiled models; the tool loads with compile=False, so the compile config (a
    loss object, metrics) is not checked, and not built."""
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="c")(inp)
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["acc"])
    path = tmp_path / "compiled.keras"
    model.save(str(path))
    loaded = models.load_user_model(str(path))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
