import numpy as np
import pytest

from prune_core.data import datasets as data
from prune_core.errors import DataError


def test_digits_is_a_deterministic_stratified_split_of_real_images():
    a = data.load_digits(32, seed=0)
    b = data.load_digits(32, seed=0)
    c = data.load_digits(32, seed=1)
    assert a.x_train.shape[1:] == (32, 32, 3) and a.x_train.dtype == np.uint8
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797
    assert len(a.x_test) == 360 and a.num_classes == 10
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.y_test, c.y_test)
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified
    assert a.x_train.max() > 200 and a.x_train.min() == 0  # pixels 0–255


def test_synthetic_is_small_and_balanced():
    d = data.load_synthetic(16, 0)
    assert d.num_classes == 3 and d.input_shape == (16, 16, 3)
    assert set(np.bincount(d.y_train)) <= {27, 28}


def _write_images(folder, n, color):
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (20, 12), (color, 255 - color, i * 10)).save(folder / f"{i}.png")


def test_folder_with_two_classes_loads_resized(tmp_path):
    _write_images(tmp_path / "cats", 6, 30)
    _write_images(tmp_path / "dogs", 6, 220)
    d = data.load_folder(str(tmp_path), 16, 0)
    assert d.class_names == ("cats", "dogs")
    assert d.x_train.shape[1:] == (16, 16, 3)
    assert len(d.x_train) + len(d.x_val) + len(d.x_test) == 12


def test_folder_with_fewer_than_two_classes_is_refused(tmp_path):
    _write_images(tmp_path / "only", 5, 10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="needs at least two"):
        data.load_folder(str(tmp_path), 16, 0)
    with pytest.raises(DataError, match="does not exist"):
        data.load_folder(str(tmp_path / "nope"), 16, 0)


def test_cifar10_offline_fails_with_one_clear_line(monkeypatch):
    from prune_core.engine.keras_env import keras

    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    from prune_core.engine import datasets as keras_datasets

    with pytest.raises(DataError) as info:
        keras_datasets.load_cifar10(32, 0)
    assert "download failed" in str(info.value) and "\n" not in str(info.value)


# ---- broken image folders: one clear line naming what is wrong, before anything is decoded ----------
def _good(tmp_path, per_class=6):
    _write_images(tmp_path / "cats", per_class, 30)
    _write_images(tmp_path / "dogs", per_class, 220)
    return tmp_path


def test_hidden_and_empty_folders_and_outside_links_are_skipped(tmp_path):
    root = _good(tmp_path / "data")
    _write_images(root / ".thumbnails", 6, 90)
    (root / "empty").mkdir()
    _write_images(tmp_path / "outside", 6, 120)
    (root / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "cats" / "escape.png").symlink_to(tmp_path / "outside" / "0.png")
    (root / "cats" / ".hidden.png").write_bytes((root / "cats" / "0.png").read_bytes())
    d = data.load_folder(str(root), 16, 0)
    assert d.class_names == ("cats", "dogs") and len(d.x_train) + len(d.x_val) + len(d.x_test) == 12


@pytest.mark.parametrize("breakage, message", [
    ("corrupt", r"cats/3.png is not a readable image"),
    ("huge", r"dogs/big.png has 5000×5000 pixels, over the limit"),
    ("few", r"class 'dogs' has 3 image\(s\); every class needs at least 5"),
    ("small", r"25 images for 5 classes leave 3 for validation"),
])
def test_a_broken_folder_names_what_is_wrong(tmp_path, breakage, message):
    from PIL import Image

    root = _good(tmp_path)
    if breakage == "corrupt":
        (root / "cats" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif breakage == "huge":  # a small file holding many pixels
        Image.new("L", (5000, 5000)).save(root / "dogs" / "big.png")
    elif breakage == "few":
        for i in range(3, 6):
            (root / "dogs" / f"{i}.png").unlink()
    else:  # five classes of five images: 25 images leave 3 for validation
        for i, name in enumerate(("birds", "fish", "frogs")):
            _write_images(root / name, 5, 60 + 40 * i)
        for name in ("cats", "dogs"):
            (root / name / "5.png").unlink()
    with pytest.raises(DataError, match=message):
        data.check_folder(str(root))
    with pytest.raises(DataError, match=message):  # and the job refuses it the same way
        data.load_folder(str(root), 16, 0)
