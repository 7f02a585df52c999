"""Tests for prune_core.data.image_folders: what an image folder may hold; refusals in one line."""

import pytest

from prune_core.data import datasets as data
from prune_core.errors import DataError
from tests.data.helpers import _write_images


def test_folder_with_fewer_than_two_classes_is_refused(tmp_path):
    _write_images(tmp_path / "only", 5, 10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="needs at least two"):
        data.load_folder(str(tmp_path), 16, 0)
    with pytest.raises(DataError, match="does not exist"):
        data.load_folder(str(tmp_path / "nope"), 16, 0)


# ---- broken image folders: one clear line naming what is wrong, before anything is decoded
# ----------
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


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("corrupt", r"cats/3.png is not a readable image"),
        ("huge", r"dogs/big.png has 5000×5000 pixels, over the limit"),
        ("few", r"class 'dogs' has 3 image\(s\); every class needs at least 5"),
        ("small", r"25 images for 5 classes leave 3 for validation"),
    ],
)
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
