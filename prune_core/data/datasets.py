"""Datasets as plain numpy arrays: uint8 pixels 0–255, shape (N, S, S, 3), integer labels.

`digits` (scikit-learn's bundled handwritten digits, no download) is the default; `shapes` is a
second problem drawn reproducibly (`prune_core.data.shapes`, 5,000 images, 10 classes);
`folder:PATH` reads one sub-folder per class (`prune_core.data.image_folders`: listed, checked and
decoded here); `cifar10` downloads through `keras.datasets` (online only;
`prune_core.engine.datasets`); `synthetic` is a tiny learnable set for tests. Splits are
stratified and deterministic for a given seed."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from prune_core.data import image_folders, shapes
from prune_core.data.folder_images import FolderImages
from prune_core.errors import DataError

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil(len(self.x_train) / batch_size)


#: (scale, offset) mapping pixels 0–255 to each range a model may be trained on.
PIXEL_MAPS = {"0-255": (1.0, 0.0), "0-1": (1 / 255.0, 0.0), "-1-1": (1 / 127.5, -1.0)}


def in_range(dataset: Dataset, pixels: str) -> Dataset:
    """`dataset` with its images mapped from 0–255 to the range a model takes (float32); the
    dataset itself when that is 0–255."""
    scale, offset = PIXEL_MAPS[pixels]
    if (scale, offset) == (1.0, 0.0):
        return dataset

    def mapped(x):
        if isinstance(x, FolderImages):  # mapped as each batch is decoded
            return x.mapped(scale, offset)
        return (x.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)

    return replace(
        dataset,
        x_train=mapped(dataset.x_train),
        x_val=mapped(dataset.x_val),
        x_test=mapped(dataset.x_test),
    )


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (N, H, W[, C]) uint8 images to (N, size, size, 3) uint8."""
    from PIL import Image

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        pil = Image.fromarray(img.squeeze() if img.ndim == 3 and img.shape[-1] == 1 else img)
        pil = pil.convert("RGB")
        if pil.size != (size, size):
            pil = pil.resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(pil)
    return out


def split(name, x, y, class_names, seed) -> Dataset:
    """Stratified train / validation / test split, deterministic for `seed`."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y, minlength=len(class_names))
    if (counts < 3).any():
        few = [class_names[i] for i in np.flatnonzero(counts < 3)]
        raise DataError(f"{name}: every class needs at least 3 images to split; too few in {few}")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    val_share = VAL_FRACTION / (1 - TEST_FRACTION)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_share, stratify=y_rest, random_state=seed
    )
    return Dataset(
        name,
        x_train,
        y_train.astype(np.int32),
        x_val,
        y_val.astype(np.int32),
        x_test,
        y_test.astype(np.int32),
        tuple(class_names),
    )


def load_digits(image_size: int, seed: int) -> Dataset:
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    pixels = np.clip(bunch.images * (255.0 / 16.0), 0, 255).astype(np.uint8)
    return split(
        "digits", resize(pixels, image_size), bunch.target, [str(c) for c in range(10)], seed
    )


def load_shapes(image_size: int, seed: int) -> Dataset:
    """Shapes (`prune_core.data.shapes`): the same 5,000 images for everyone, drawn at the recipe's
    size, split by the recipe's seed. A second bundled problem, nothing like digits."""
    x, y = shapes.generate(size=image_size)
    return split("shapes", x, y, list(shapes.CLASSES), seed)


def load_synthetic(
    image_size: int, seed: int, num_classes: int = 3, per_class: int = 40
) -> Dataset:
    """Tiny learnable set: each class is a bright square of its own colour at a random place, on
    noise."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    side = max(image_size // 2, 2)
    for label in range(num_classes):
        for _ in range(per_class):
            img = rng.integers(0, 60, size=(image_size, image_size, 3))
            r, c = rng.integers(0, image_size - side + 1, size=2)
            img[r : r + side, c : c + side, label % 3] += 150 + 40 * (label // 3)
            xs.append(np.clip(img, 0, 255))
            ys.append(label)
    return split(
        "synthetic",
        np.asarray(xs, np.uint8),
        np.asarray(ys),
        [f"class{i}" for i in range(num_classes)],
        seed,
    )


def load_folder(path: str, image_size: int, seed: int) -> Dataset:
    """One sub-folder per class, listed and checked by `prune_core.data.image_folders` (the page
    runs the same checks before queueing)."""
    folder = image_folders.scan(path)
    image_folders.verify(folder)  # every image decoded once, none kept: a bad file fails here
    labels = np.array([label for _, label in folder.files], dtype=np.int64)
    # the split of the file indices: the same as splitting the decoded images (it depends only
    # on the labels and the seed); the images are decoded batch by batch as a run reads them
    parts = split(f"folder:{path}", np.arange(len(labels)), labels, list(folder.classes), seed)
    images = FolderImages(folder.root, tuple(p for p, _ in folder.files), image_size)
    return replace(
        parts,
        x_train=images.subset(parts.x_train),
        x_val=images.subset(parts.x_val),
        x_test=images.subset(parts.x_test),
    )


def check_folder(path: str) -> image_folders.ImageFolder:
    """Everything a job would refuse about an image folder, without decoding the pixels."""
    folder = image_folders.scan(path)
    image_folders.verify(folder)
    return folder


EXAMPLE_COUNTS = {"digits": 1797, "shapes": 5000, "synthetic": 120, "cifar10": 60000}


def split_sizes(n: int) -> tuple[int, int, int]:
    """(train, validation, test) sizes `split` produces for n examples (scikit-learn's rounding)."""
    test = math.ceil(TEST_FRACTION * n)
    val = math.ceil(VAL_FRACTION / (1 - TEST_FRACTION) * (n - test))
    return n - test - val, val, test


def train_size(name: str) -> int:
    """Training examples of a dataset without loading it (the dashboard sizes schedules with it)."""
    if name in EXAMPLE_COUNTS:
        return split_sizes(EXAMPLE_COUNTS[name])[0]
    if name.startswith("folder:"):
        return split_sizes(len(image_folders.scan(name[len("folder:") :]).files))[0]
    raise DataError(f"unknown dataset {name!r}")


@functools.lru_cache(maxsize=4)
def load(name: str, image_size: int = 32, seed: int = 0) -> Dataset:
    """Load a dataset by recipe name (cached per process)."""
    if name == "digits":
        return load_digits(image_size, seed)
    if name == "synthetic":
        return load_synthetic(image_size, seed)
    if name == "shapes":
        return load_shapes(image_size, seed)
    if name == "cifar10":
        raise DataError(
            "cifar10 is downloaded through Keras: load it with prune_core.engine.datasets"
        )
    if name.startswith("folder:"):
        return load_folder(name[len("folder:") :], image_size, seed)
    if name.startswith("memory:"):
        raise DataError(
            f"{name} was data passed from Python (prune_core.prune); it has no files to "
            "read again: rerun it from Python, or use folder:PATH"
        )
    raise DataError(f"unknown dataset {name!r}")
