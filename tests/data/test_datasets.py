"""Tests for prune_core.data.datasets: digits, synthetic, image folders split and resized."""

import numpy as np

from prune_core.data import datasets as data
from tests.data.helpers import _write_images


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


def test_shapes_are_the_same_images_for_everyone_split_by_the_seed():
    a, b = data.load("shapes", 16, 0), data.load("shapes", 16, 1)
    assert a.num_classes == 10 and a.class_names[0] == "circle" and a.input_shape == (16, 16, 3)
    assert len(a.x_train) == data.train_size("shapes")  # the dashboard sizes schedules with it
    assert sorted(map(bytes, a.x_test)) != sorted(map(bytes, b.x_test))  # another split …
    everything = sorted(
        bytes(x) for d in (a, b) for x in np.concatenate([d.x_train, d.x_val, d.x_test])
    )
    assert everything[0::2] == everything[1::2]  # … of the very same images


def test_synthetic_is_small_and_balanced():
    d = data.load_synthetic(16, 0)
    assert d.num_classes == 3 and d.input_shape == (16, 16, 3)
    assert set(np.bincount(d.y_train)) <= {27, 28}


def test_folder_with_two_classes_loads_resized(tmp_path):
    _write_images(tmp_path / "cats", 6, 30)
    _write_images(tmp_path / "dogs", 6, 220)
    d = data.load_folder(str(tmp_path), 16, 0)
    assert d.class_names == ("cats", "dogs")
    assert d.x_train.shape[1:] == (16, 16, 3)
    assert len(d.x_train) + len(d.x_val) + len(d.x_test) == 12
