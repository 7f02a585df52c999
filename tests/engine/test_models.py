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


def test_a_keras_files_weights_are_never_read_by_seeking_inside_the_archive(
    tmp_path, tiny_model, monkeypatch
):
    """h5py reading an archive member seeks backwards, and before Python 3.12 each backward seek
    re-reads the member from its start: ResNetRS270's file took over ten minutes to load. Checking
    and loading read the weights from a file of their own, removed afterwards; a file whose weights
    are compressed (not what Keras writes) is still read from the archive."""
    import tempfile
    import zipfile

    path = models.save(tiny_model, tmp_path / "m.keras")
    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    expected = tiny_model(x).numpy()
    stock_seek = zipfile.ZipExtFile.seek

    def forward_only(self, offset, whence=0):
        if whence == 2 or {0: offset, 1: self.tell() + offset}[whence] < self.tell():
            raise AssertionError("a backward seek inside the archive")
        return stock_seek(self, offset, whence)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with monkeypatch.context() as patched:
        patched.setattr(zipfile.ZipExtFile, "seek", forward_only)
        loaded = models.load_user_model(str(path))
    np.testing.assert_allclose(loaded(x).numpy(), expected, rtol=1e-5)
    assert not list(scratch.iterdir())

    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    np.testing.assert_allclose(
        models.load_user_model(str(deflated))(x).numpy(), expected, rtol=1e-5
    )


def test_a_keras_files_weights_are_extracted_once_for_checking_and_loading(
    tmp_path, tiny_model, monkeypatch
):
    """The check walks the extracted weights and the loader reads that same file: one copy on
    disk per load (a 0.5 GB model was extracted twice), and what is loaded is what was checked."""
    import zipfile

    path = models.save(tiny_model, tmp_path / "m.keras")
    stock_extract = zipfile.ZipFile.extract
    extracted = []

    def counted(self, member, *args, **kwargs):
        extracted.append(getattr(member, "filename", member))
        return stock_extract(self, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "extract", counted)
    loaded = models.load_user_model(str(path))
    assert extracted == ["model.weights.h5"]
    for got, want in zip(loaded.get_weights(), tiny_model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    # a file that is no archive at all still gets the check's own words
    (tmp_path / "fake.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a Keras model file"):
        models.load_user_model(str(tmp_path / "fake.keras"))


def test_a_graph_deeper_than_pythons_recursion_limit_loads(tmp_path):
    """tf_keras maps a graph by recursion, one frame per layer on its longest path: ResNetRS270
    and deeper passed Python's default limit of 1,000 frames and could not be loaded."""
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="c")(inp)
    for _ in range(1100):
        x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    deep = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))
    deep.save(str(tmp_path / "deep.keras"))
    loaded = models.load_user_model(str(tmp_path / "deep.keras"))
    assert len(loaded.layers) == len(deep.layers)
    np.testing.assert_array_equal(loaded.get_layer("c").kernel, deep.get_layer("c").kernel)


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
