"""Datasets that come through Keras: `cifar10` downloads with `keras.datasets` (online only); every
other name is read by `prune_core.data.datasets` without Keras."""

from __future__ import annotations

import functools

import numpy as np

from prune_core.data import datasets
from prune_core.data.datasets import Dataset, resize, split
from prune_core.engine.keras_env import keras
from prune_core.errors import DataError


@functools.lru_cache(maxsize=4)
def load(name: str, image_size: int = 32, seed: int = 0) -> Dataset:
    """Load a dataset by recipe name (cached per process)."""
    if name == "cifar10":
        return load_cifar10(image_size, seed)
    return datasets.load(name, image_size, seed)


def load_cifar10(image_size: int, seed: int) -> Dataset:
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:  # offline machines: one clear line instead of a urllib traceback
        raise DataError(
            f"cifar10 must be downloaded and the download failed ({type(exc).__name__}); "
            "use --dataset digits or folder:PATH when offline"
        ) from None
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test]).reshape(-1)
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    return split("cifar10", resize(x, image_size) if image_size != 32 else x, y, names, seed)
