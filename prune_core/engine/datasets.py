"""Datasets that come through Keras: `cifar10` downloads with `keras.datasets` (online only); every
other name is read by `prune_core.data.datasets` without Keras. And the one `tf.data` pipeline
that feeds training and evaluation, batch by batch, from arrays or an image folder alike."""

from __future__ import annotations

import functools

import numpy as np

from prune_core.data import datasets
from prune_core.data.datasets import Dataset, resize, split
from prune_core.engine.keras_env import keras, tf
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


def epoch_orders(n: int, seed: int):
    """Each epoch's order of `n` examples, as an iterator of index arrays: tf.data's seeded
    reshuffle (the order training has always used, `Dataset.shuffle` over n elements)."""
    order = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
    while True:
        yield np.fromiter(order.as_numpy_iterator(), dtype=np.int64, count=n)


class Feed:
    """Images and labels as the pipeline reads them: arrays in memory are copied into TensorFlow
    once and gathered a batch at a time in the graph; an image folder is decoded a batch at a
    time (Pillow, in `tf.numpy_function`), in parallel and ahead of the model, in order."""

    def __init__(self, x, y):
        self.x, self.labels = x, np.asarray(y, dtype=np.int32)
        self.held = isinstance(x, np.ndarray)
        if self.held:
            self._images, self._labels = tf.constant(x), tf.constant(self.labels)

    def batches(self, order: np.ndarray, batch_size: int, first: int = 0):
        """(images, labels) batches of the examples at `order`, from batch `first` on. Memory
        follows the batch, never the dataset (beyond arrays already held)."""
        count = -(-len(order) // batch_size)
        steps = tf.data.Dataset.range(first, count)
        if self.held:
            order_t = tf.constant(order)

            def gathered(b):
                idx = order_t[b * batch_size : (b + 1) * batch_size]
                return tf.gather(self._images, idx), tf.gather(self._labels, idx)

            return steps.map(gathered).prefetch(2)
        x, labels = self.x, self.labels
        dtype = tf.as_dtype(np.dtype(x.dtype))

        def load(b):
            idx = order[b * batch_size : (b + 1) * batch_size]
            return x[idx], labels[idx]

        def loaded(b):
            images, ys = tf.numpy_function(load, [b], [dtype, tf.int32], stateful=False)
            images.set_shape((None,) + tuple(x.shape[1:]))
            ys.set_shape((None,))
            return images, ys

        return steps.map(loaded, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
            2
        )


def batches(x, y, order: np.ndarray, batch_size: int, first: int = 0):
    """`Feed(x, y).batches(order, batch_size, first)`, for one pass."""
    return Feed(x, y).batches(order, batch_size, first)
