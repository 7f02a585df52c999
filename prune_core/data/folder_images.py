"""An image folder's images as an array that decodes on demand: indexing it (`x[i]`, `x[a:b]`,
`x[indices]`) decodes just those files, so a run's memory follows its batch, not the folder.

It stands where a dataset holds a numpy array (`Dataset.x_train`, …): `len`, `shape`, `dtype`,
`ndim` and indexing are what the engine reads. Training and evaluation go through it batch by
batch (`prune_core.engine.datasets.batches`); calibration, BatchNorm re-estimation and int8
representative data index a few hundred images. Decoding is `image_folders.decode`, the same as a
folder read whole, and the pixel range a model takes is applied as the images are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from prune_core.data.image_folders import MAX_PIXELS, decode


@dataclass(frozen=True, eq=False)
class FolderImages:
    root: Path
    paths: tuple  # one Path per image, in the dataset's order
    size: int  # square side the images are resized to
    scale: float = 1.0  # pixels 0–255 → scale · pixel + offset (`datasets.PIXEL_MAPS`)
    offset: float = 0.0
    max_pixels: int = MAX_PIXELS

    ndim = 4

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple:
        return (len(self.paths), self.size, self.size, 3)

    @property
    def dtype(self):
        return np.dtype(np.uint8 if (self.scale, self.offset) == (1.0, 0.0) else np.float32)

    def _one(self, path: Path) -> np.ndarray:
        pixels = decode(path, self.root, self.size, self.max_pixels)
        if self.dtype == np.uint8:
            return pixels
        return pixels.astype(np.float32) * np.float32(self.scale) + np.float32(self.offset)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return self._one(self.paths[index])
        chosen = (
            self.paths[index]
            if isinstance(index, slice)
            else [self.paths[i] for i in np.asarray(index, dtype=np.int64).reshape(-1)]
        )
        out = np.empty((len(chosen), self.size, self.size, 3), self.dtype)
        for i, path in enumerate(chosen):
            out[i] = self._one(path)
        return out

    def subset(self, indices) -> FolderImages:
        """These images at `indices` (a split), still undecoded."""
        return replace(self, paths=tuple(self.paths[i] for i in np.asarray(indices).reshape(-1)))

    def mapped(self, scale: float, offset: float) -> FolderImages:
        """The same images, decoded to `scale · pixel + offset` (float32)."""
        return replace(self, scale=scale, offset=offset)
