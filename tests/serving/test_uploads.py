"""Tests for prune_core.serving.uploads: checked, kept under the data directory, all or nothing."""

import io
import zipfile

import pytest
from PIL import Image

from prune_core import paths
from prune_core.errors import DataError, ModelError, PruneError
from prune_core.serving import uploads


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _stored(home) -> list:
    return sorted(p.relative_to(home) for p in (home / "uploads").rglob("*") if p.is_file())


def _png(shade: int, size=(10, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (shade, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def _zip(entries: dict, links: tuple = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            z.writestr(info, "/etc/passwd")
    return out.getvalue()


def _classes(prefix="", n=6, extra=None):
    entries = {
        f"{prefix}{c}/{i}.png": _png(i * 20 + k)
        for k, c in enumerate(("cats", "dogs"))
        for i in range(n)
    }
    return {**entries, **(extra or {})}


def test_a_zip_of_class_folders_is_unpacked_checked_and_kept_once(home):
    content = _zip(
        _classes(
            "pets/",
            extra={
                "pets/README.txt": "labels",
                "pets/.DS_Store": "x",
                "__MACOSX/pets/._0.png": "x",
            },
        )
    )
    root = uploads.store_images(content, "pets.zip", "alice")
    assert root.is_relative_to(paths.uploads_dir()) and root.name == "pets"  # its single top folder
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["cats", "dogs"]
    assert not (root / "README.txt").exists() and not (root.parent / "__MACOSX").exists()
    # the same content is stored once
    assert uploads.store_images(content, "pets.zip", "alice") == root
    # each visitor has their own copy
    assert uploads.store_images(content, "pets.zip", "bob") != root


@pytest.mark.parametrize(
    "entries, links, message",
    [
        (_classes(extra={"../outside.png": _png(1)}), (), "points outside the zip"),
        (_classes(extra={"/abs/evil.png": _png(1)}), (), "points outside the zip"),
        (_classes(), ("cats/link.png",), "is a link"),
        (_classes(extra={"dogs/5.png": b"not an image"}), (), "dogs/5.png is not a readable image"),
        (_classes(n=3), (), "has 3 image"),
        ({"cats/0.png": _png(0)}, (), "pets.zip has 1 class sub-folder"),
    ],
)
def test_a_bad_zip_is_refused_by_name_and_leaves_nothing(home, tmp_path, entries, links, message):
    with pytest.raises(DataError, match=message):
        uploads.store_images(_zip(entries, links), "pets.zip", "alice")
    assert _stored(home) == []
    assert not (tmp_path / "outside.png").exists() and not (home / "outside.png").exists()


def test_not_a_zip_an_oversize_upload_and_a_zip_bomb_are_refused(home, monkeypatch):
    with pytest.raises(DataError, match="not a readable zip"):
        uploads.store_images(b"PK\x03\x04 truncated", "pets.zip", "alice")
    with pytest.raises(DataError, match="not a zip file"):
        uploads.store_images(_zip(_classes()), "pets.tar", "alice")
    monkeypatch.setenv("PRUNE_MAX_UPLOAD_MB", "1")
    with pytest.raises(PruneError, match="uploads may be at most 1 MB"):
        uploads.store_images(b"\0" * (1024 * 1024 + 1), "big.zip", "alice")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:  # 3 MB of zeros packs into a few KB
        z.writestr("cats/0.bmp", b"\0" * (3 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(DataError, match="unpacks to more than 2 MB"):
        uploads.store_images(out.getvalue(), "bomb.zip", "alice")
    assert _stored(home) == []


def test_a_model_file_is_kept_only_when_the_allow_lists_accept_it(home, tiny_model, tmp_path):
    from prune_core.engine import models
    from prune_core.engine.keras_env import keras

    good = models.save(tiny_model, tmp_path / "tiny.keras").read_bytes()
    stored = uploads.store_model(good, "tiny.keras", "alice")
    assert stored.is_relative_to(paths.uploads_dir()) and stored.read_bytes() == good
    assert models.load_user_model(str(stored)).count_params() == tiny_model.count_params()

    inp = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(x))).save(
        str(tmp_path / "lambda.h5")
    )
    with pytest.raises(ModelError, match="Lambda"):
        uploads.store_model((tmp_path / "lambda.h5").read_bytes(), "lambda.h5", "alice")
    with pytest.raises(ModelError, match="not a Keras model file"):
        uploads.store_model(b"definitely not a model", "junk.keras", "alice")
    with pytest.raises(ModelError, match="upload a .keras or .h5 file"):
        uploads.store_model(good, "tiny.pkl", "alice")
    assert _stored(home) == [stored.relative_to(home)]


def test_an_error_quoting_an_upload_names_only_the_file(home):
    where = paths.uploads_dir() / "alice" / "0a1b2c" / "model.keras"
    error = f"could not load {where}: bad weights; model file '{where}' does not exist"
    shown = uploads.public_text(error)
    assert str(paths.uploads_dir()) not in shown and "alice" not in shown
    assert (
        shown == "could not load model.keras: bad weights; model file 'model.keras' does not exist"
    )
    assert uploads.public_text("/etc/elsewhere/x.keras is fine") == "/etc/elsewhere/x.keras is fine"
