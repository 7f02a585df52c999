"""Tests for prune_core.engine.datasets: cifar10 through Keras, and its one-line failure offline."""

import pytest

from prune_core.engine import datasets as keras_datasets
from prune_core.engine.keras_env import keras
from prune_core.errors import DataError


def test_cifar10_offline_fails_with_one_clear_line(monkeypatch):
    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DataError) as info:
        keras_datasets.load_cifar10(32, 0)
    assert "download failed" in str(info.value) and "\n" not in str(info.value)
