"""A folder of images, one sub-folder per class: listed, checked and decoded by the project itself
(Pillow and numpy; no TensorFlow), so the same checks run on the page before a job is queued and in
the job. Hidden files and folders are skipped, nothing is followed outside the folder (symlinks that
lead out are ignored), every image's size is read from its header before it is decoded (a 190 KB PNG
can hold 14000² pixels), and a bad file is named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prune_core.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
#: The largest image decoded (width × height); bigger ones are refused by name.
MAX_PIXELS = 4096 * 4096
#: Images a class needs so that the stratified train / validation / test split keeps it in every
#: part.
MIN_PER_CLASS = 5


@dataclass(frozen=True)
class ImageFolder:
    root: Path
    classes: tuple  # class names, sorted
    files: tuple  # (path, class index) pairs, in a stable order

    def counts(self) -> dict:
        out = {name: 0 for name in self.classes}
        for _, label in self.files:
            out[self.classes[label]] += 1
        return out


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def scan(path_text: str) -> ImageFolder:
    """List the folder's classes and images, or a DataError saying what is missing."""
    try:
        root = Path(path_text).expanduser().resolve()
        if not root.is_dir():
            raise DataError(f"image folder {path_text!r} does not exist or is not a folder")
        folders = [
            d
            for d in sorted(root.iterdir())
            if not d.name.startswith(".") and d.is_dir() and _inside(d, root)
        ]
        found = {}
        for folder in folders:
            images = [
                f
                for f in sorted(folder.iterdir())
                if not f.name.startswith(".")
                and f.is_file()
                and f.suffix.lower() in IMAGE_SUFFIXES
                and _inside(f, root)
            ]
            if images:
                found[folder.name] = images
    except OSError as exc:
        raise DataError(
            f"image folder {path_text!r} cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    if len(found) < 2:
        raise DataError(
            f"image folder {path_text!r} has {len(found)} class sub-folder(s) with images; "
            "it needs at least two (one sub-folder per class)"
        )
    few = {name: len(images) for name, images in found.items() if len(images) < MIN_PER_CLASS}
    if few:
        name, count = next(iter(few.items()))
        raise DataError(
            f"class {name!r} has {count} image(s); every class needs at least {MIN_PER_CLASS} "
            "for the training, validation and test splits"
        )
    classes = tuple(found)
    folder = ImageFolder(
        root, classes, tuple((f, i) for i, name in enumerate(classes) for f in found[name])
    )
    n = len(folder.files)
    test = math.ceil(0.2 * n)
    val = math.ceil(0.125 * (n - test))
    if val < len(classes):
        raise DataError(
            f"{n} images for {len(classes)} classes leave {val} for validation; add images until "
            f"the validation split holds one per class (about {math.ceil(len(classes) / 0.1)} in "
            f"all)"
        )
    return folder


def _open(path: Path, root: Path, max_pixels: int):
    """The image, opened lazily after its header passed the pixel limit; a DataError names a bad
    file."""
    from PIL import Image

    name = str(path.relative_to(root))
    try:
        image = Image.open(path)
        width, height = image.size
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise DataError(f"{name} is not a readable image ({type(exc).__name__})") from None
    if width * height > max_pixels:
        image.close()
        raise DataError(
            f"{name} has {width}×{height} pixels, over the limit of {max_pixels:,}; shrink it or "
            "leave it out"
        )
    return image


def verify(
    folder: ImageFolder, max_pixels: int = MAX_PIXELS
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Decode every image as a job will (a truncated file is found here, not minutes later in the
    job) without keeping the pixels; returns the smallest and the largest (width, height) by pixel
    count. A DataError names the first image that cannot be read."""
    sizes = []
    for path, _ in folder.files:
        image = _open(path, folder.root, max_pixels)
        try:
            image.convert("RGB")  # the job's own decoding (`load`)
            sizes.append(image.size)
        except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken file
            raise DataError(
                f"{path.relative_to(folder.root)} is not a readable image ({type(exc).__name__})"
            ) from None
        finally:
            image.close()
    return min(sizes, key=lambda s: s[0] * s[1]), max(sizes, key=lambda s: s[0] * s[1])


def decode(path: Path, root: Path, image_size: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """One image as uint8 (S, S, 3), converted to RGB and resized bilinearly: the one decoding every
    run uses, whether a folder is read whole or batch by batch."""
    from PIL import Image

    image = _open(path, root, max_pixels)
    try:
        rgb = image.convert("RGB")
        if rgb.size != (image_size, image_size):
            rgb = rgb.resize((image_size, image_size), Image.BILINEAR)
        return np.asarray(rgb)
    except Exception as exc:  # noqa: BLE001
        raise DataError(
            f"{path.relative_to(root)} is not a readable image ({type(exc).__name__})"
        ) from None
    finally:
        image.close()


def load(
    folder: ImageFolder, image_size: int, max_pixels: int = MAX_PIXELS
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, S, S, 3) resized bilinearly, integer labels), all in memory."""
    xs = np.empty((len(folder.files), image_size, image_size, 3), dtype=np.uint8)
    ys = np.empty(len(folder.files), dtype=np.int64)
    for i, (path, label) in enumerate(folder.files):
        xs[i] = decode(path, folder.root, image_size, max_pixels)
        ys[i] = label
    return xs, ys
