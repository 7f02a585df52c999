"""Tests for prune_core.data.shapes: the second dataset is the same for the same seed, balanced,
visible, and reads back through the image-folder path with labels in its own class order."""

import numpy as np
import pytest

from prune_core.data import datasets as data
from prune_core.data import shapes


def test_the_same_seed_draws_the_same_images_and_another_seed_others():
    x, y = shapes.generate(per_class=3, size=24, seed=5)
    again, labels = shapes.generate(per_class=3, size=24, seed=5)
    np.testing.assert_array_equal(x, again)
    np.testing.assert_array_equal(y, labels)
    assert not np.array_equal(x, shapes.generate(per_class=3, size=24, seed=6)[0])
    assert x.shape == (30, 24, 24, 3) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [3] * len(shapes.CLASSES)


def test_every_figure_stands_out_from_its_background():
    x, _ = shapes.generate(per_class=4, size=32, seed=0)
    # a figure covers a fair share of the image in a colour far from the background's
    assert all(img.reshape(-1, 3).std(axis=0).max() > 20 for img in x)


def test_filled_and_outlined_figures_differ_at_their_centre():
    """Ring vs circle and frame vs square differ by topology: the centre of an outline shows the
    background, which is what makes them separate classes."""

    def centre_contrast(name):
        from PIL import Image, ImageDraw

        big = 128
        canvas = Image.new("RGB", (big, big), (0, 0, 0))
        shapes._draw(ImageDraw.Draw(canvas), name, 64, 64, 36, 0.0, (255, 255, 255), 10)
        return np.asarray(canvas)[64, 64].mean()

    assert centre_contrast("circle") == 255 and centre_contrast("ring") == 0
    assert centre_contrast("square") == 255 and centre_contrast("frame") == 0


def test_the_folder_reads_back_with_labels_in_class_order(tmp_path):
    assert list(shapes.CLASSES) == sorted(shapes.CLASSES)  # the folder's alphabetical order
    shapes.write_folder(tmp_path / "shapes", per_class=12, size=20, seed=1)
    loaded = data.load(f"folder:{tmp_path / 'shapes'}", 20, 0)
    assert loaded.class_names == shapes.CLASSES
    x, y = shapes.generate(per_class=12, size=20, seed=1)
    first = np.asarray(loaded.x_train[0])
    # every image read back is one of those drawn, under its own label
    match = [i for i in range(len(x)) if np.array_equal(x[i], first)]
    assert match and y[match[0]] == loaded.y_train[0]
    with pytest.raises(FileExistsError, match="not empty"):
        shapes.write_folder(tmp_path / "shapes", per_class=1)
