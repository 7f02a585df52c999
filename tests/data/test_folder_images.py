"""Tests for prune_core.data.folder_images: an image folder read batch by batch gives exactly what
reading it whole gave, split the same way, mapped to the model's pixel range as it is decoded."""

import numpy as np
import pytest

from prune_core.data import datasets as data
from prune_core.data import image_folders
from prune_core.data.folder_images import FolderImages


@pytest.fixture
def folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("ants", "bees", "wasps")):
        (tmp_path / name).mkdir()
        for i in range(9):  # sizes that need resizing, in every class
            pixels = rng.integers(0, 256, (10 + i, 14 + c, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_the_split_and_the_pixels_are_those_of_the_folder_read_whole(folder):
    scanned = image_folders.scan(str(folder))
    whole = data.split("w", *image_folders.load(scanned, 12), list(scanned.classes), 3)
    streamed = data.load_folder(str(folder), 12, 3)
    for part in ("train", "val", "test"):
        x = getattr(streamed, f"x_{part}")
        assert isinstance(x, FolderImages) and x.shape == getattr(whole, f"x_{part}").shape
        np.testing.assert_array_equal(x[:], getattr(whole, f"x_{part}"))
        np.testing.assert_array_equal(getattr(streamed, f"y_{part}"), getattr(whole, f"y_{part}"))
    x = streamed.x_train
    picked = np.array([4, 0, 2])
    np.testing.assert_array_equal(x[picked], whole.x_train[picked])
    np.testing.assert_array_equal(x[1], whole.x_train[1])
    assert x[1:3].dtype == np.uint8 and len(x[1:3]) == 2


def test_the_pixel_range_is_applied_as_images_are_decoded(folder):
    streamed = data.in_range(data.load_folder(str(folder), 12, 0), "-1-1")
    whole = data.in_range(data.load_folder(str(folder), 12, 0), "0-255")
    assert streamed.x_test.dtype == np.float32 and isinstance(streamed.x_test, FolderImages)
    np.testing.assert_allclose(
        streamed.x_test[:], whole.x_test[:].astype(np.float32) / 127.5 - 1, atol=1e-6
    )
