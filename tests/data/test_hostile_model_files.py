"""Hostile model files, each built here, against the one check every model file passes (at upload,
on the page and in the job): weights only from inside the file, a bounded config."""

import io
import re
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest

from prune_core.data import model_files, model_storage
from prune_core.engine import models
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError

MARKER = b"SERVER-SECRET-MARKER-"


def _model():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def _secret(tmp_path, size: int):
    """A server file the hostile model tries to read: the marker repeated to `size` bytes."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes((MARKER * (size // len(MARKER) + 1))[:size])
    return secret


def _kernel(f) -> str:
    found = []
    f.visititems(lambda name, obj: found.append(name) if name.endswith("kernel:0") else None)
    found = found or []
    if not found:  # .keras weights files name them vars/0
        f.visititems(
            lambda name, obj: (
                found.append(name)
                if isinstance(obj, h5py.Dataset) and len(obj.shape) == 4
                else None
            )
        )
    return found[0]


def _external_kernel(f, secret) -> None:
    """Replace the conv kernel by a dataset whose bytes live in `secret` (external raw storage)."""
    name = _kernel(f)
    shape, dtype = f[name].shape, f[name].dtype
    del f[name]
    size = int(np.prod(shape)) * dtype.itemsize
    f.create_dataset(name, shape=shape, dtype=dtype, external=[(str(secret), 0, size)])


def _h5(tmp_path):
    path = tmp_path / "model.h5"
    _model().save(str(path))
    return path


def _keras_with(tmp_path, change) -> object:
    """A .keras file whose weights file was changed by `change(h5 file)` and zipped back."""
    path = tmp_path / "model.keras"
    _model().save(str(path))
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    weights = tmp_path / "weights.h5"
    weights.write_bytes(members[model_storage.KERAS_WEIGHTS])
    with h5py.File(weights, "r+") as f:
        change(f)
    members[model_storage.KERAS_WEIGHTS] = weights.read_bytes()
    hostile = tmp_path / "hostile.keras"
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return hostile


def _refused(path, words: str) -> str:
    """The file is refused by the check, the page's reader and the job's loader, in one line."""
    with pytest.raises(ModelError) as refused:
        model_files.checked_config(path)
    message = str(refused.value)
    assert words in message and "\n" not in message and MARKER.decode() not in message
    with pytest.raises(ModelError, match=words):
        models.load_user_model(str(path))  # the job's own loader: the same check first
    return message


def test_a_kernel_stored_in_a_server_file_is_refused(tmp_path):
    secret = _secret(tmp_path, 4096)
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        _external_kernel(f, secret)
    message = _refused(path, "keeps its bytes in another file")
    assert message.startswith("model.h5: dataset /model_weights/")


def test_a_keras_file_whose_weights_read_a_server_file_is_refused(tmp_path):
    secret = _secret(tmp_path, 4096)
    hostile = _keras_with(tmp_path, lambda f: _external_kernel(f, secret))
    _refused(hostile, "keeps its bytes in another file")


def test_an_external_link_is_refused_without_following_it(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.frombuffer(MARKER * 4, dtype=np.uint8)
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        f["model_weights/stolen"] = h5py.ExternalLink(str(other), "/data")
    _refused(path, "links to another file")


def test_a_virtual_dataset_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.zeros(16, dtype=np.float32)
    hostile = _keras_with(
        tmp_path,
        lambda f: f.create_virtual_dataset("mapped", _layout(other), fillvalue=0),
    )
    _refused(hostile, "virtual dataset")


def _layout(other):
    layout = h5py.VirtualLayout(shape=(16,), dtype=np.float32)
    layout[:] = h5py.VirtualSource(str(other), "data", shape=(16,))
    return layout


def test_a_config_bomb_is_refused_before_it_is_read(tmp_path):
    """A small file whose config unpacks to 64 MB: refused from the zip directory's size, with
    the check's memory bounded far below what reading it would take."""
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", '{"a": "' + " " * (64 * 2**20) + '"}')
        archive.writestr("metadata.json", "{}")
    assert bomb.stat().st_size < 2**20
    tracemalloc.start()
    with pytest.raises(ModelError, match="its architecture config is 64.0 MB"):
        model_files.checked_config(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20  # measured: 64 kB for a 0.5 MB file that unpacks to 500 MB


def test_a_zip_directory_that_understates_the_config_is_still_cut_off(tmp_path):
    big = '{"a": "' + " " * (model_storage.MAX_CONFIG_BYTES + 10) + '"}'
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("config.json", big)
    raw = bytearray(data.getvalue())
    # the central directory's uncompressed size of config.json, rewritten to 100 bytes
    at = raw.rfind(b"PK\x01\x02")
    raw[at + 24 : at + 28] = (100).to_bytes(4, "little")
    lying = tmp_path / "lying.keras"
    lying.write_bytes(bytes(raw))
    with pytest.raises(ModelError):
        model_storage.read_config(lying)


def test_an_h5_config_attribute_over_the_limit_is_refused(tmp_path):
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = '{"a": "' + " " * (5 * 2**20) + '"}'
    with pytest.raises(ModelError, match="its architecture config is 5.0 MB"):
        model_files.checked_config(path)


def test_an_upload_that_reads_a_server_file_stores_nothing(home, tmp_path):
    from prune_core import paths
    from prune_core.serving import uploads

    secret = _secret(tmp_path, 4096)
    hostile = _keras_with(tmp_path, lambda f: _external_kernel(f, secret))
    with pytest.raises(ModelError, match="keeps its bytes in another file"):
        uploads.store_model(hostile.read_bytes(), "innocent.keras", "mallory")
    stored = [p for p in paths.uploads_dir().rglob("*") if p.is_file()]
    assert stored == []


def _keras_config_changed(tmp_path, change, name="edited.keras"):
    """A .keras file whose config.json was changed by `change(config)` (a hostile editor)."""
    import json

    path = tmp_path / "model.keras"
    _model().save(str(path))
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    edited = tmp_path / name
    with zipfile.ZipFile(edited, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return edited


def _conv(config) -> dict:
    return next(
        layer["config"] for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D"
    )


def _input(config) -> dict:
    return config["config"]["layers"][0]["config"]


@pytest.mark.parametrize(
    "change, words",
    [
        (  # a function object without a module
            lambda c: _conv(c).update(activation={"class_name": "function", "config": "relu"}),
            "the function 'relu' from 'None' is not one of Keras' activations",
        ),
        (  # a function from another keras module
            lambda c: _conv(c).update(
                activation={
                    "class_name": "function",
                    "config": "print_tensor",
                    "module": "keras.backend",
                }
            ),
            "the function 'print_tensor' from 'keras.backend'",
        ),
        (  # a custom initializer
            lambda c: _conv(c).update(
                kernel_initializer={"class_name": "MyInit", "config": {}, "module": "keras"}
            ),
            "a MyInit object is not one this tool loads",
        ),
        (  # an activation named by a string Keras' activations do not have
            lambda c: _conv(c).update(activation="os.system"),
            "names the activation 'os.system'",
        ),
        (  # a 4096×4096 input: tens of GiB in the first layer
            lambda c: _input(c).update(batch_input_shape=[None, 4096, 4096, 3]),
            "takes 4096×4096 images; a run takes 1 to 1,024 pixels a side",
        ),
        (  # a zero-sized input
            lambda c: _input(c).update(batch_input_shape=[None, 0, 0, 3]),
            "takes 0×0 images",
        ),
        (  # an undefined input size
            lambda c: _input(c).update(batch_input_shape=[None, None, None, 3]),
            "must take square RGB images (N, S, S, 3); its input is (N, None, None, 3)",
        ),
        (  # more channels than RGB
            lambda c: _input(c).update(batch_input_shape=[None, 8, 8, 64]),
            "its input is (N, 8, 8, 64)",
        ),
    ],
)
def test_what_the_file_says_is_checked_at_once_in_one_line(home, tmp_path, change, words):
    from prune_core import paths
    from prune_core.serving import uploads

    edited = _keras_config_changed(tmp_path, change)
    with pytest.raises(ModelError) as refused:
        model_files.checked_config(edited)
    assert words in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(ModelError, match=re.escape(words)):  # the upload runs the same check
        uploads.store_model(edited.read_bytes(), "upload.keras", "mallory")
    assert not [p for p in paths.uploads_dir().rglob("*") if p.is_file()]


def test_the_model_input_limit_is_the_recipes_image_limit():
    from prune_core.recipe.fields import MAX_IMAGE_SIZE

    assert model_files.MAX_INPUT_SIZE == MAX_IMAGE_SIZE
