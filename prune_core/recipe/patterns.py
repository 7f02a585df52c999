"""Sparsity patterns: which weights may be removed together, so that hardware can use the zeros.

- `unstructured`: any single weight (the default).
- `N:M`: in every group of M consecutive weights along the input-channel axis, the N lowest-scored
  are removed (tfmot's `sparsity_m_by_n`, with its layout: a Conv2D kernel [H, W, Cin, Cout] is read
  as rows [Cout·H·W] of Cin values, TFLite's order). The sparsity is exactly N/M. NVIDIA's sparse
  tensor cores (Ampere and newer) run 2:4 twice as fast as dense; CPUs and LiteRT's XNNPACK do not.
- `block:HxW`: blocks of H rows × W columns of the kernel read as a matrix [H·W·Cin, Cout] (Dense:
  [in, out]) go together, each scored by the mean of its weights' scores (tfmot's `block_size`).
  Blocks such as 1×4 are what sparse kernels (XNNPACK, TFLite's sparse encoding) vectorise.

Pure numpy: the spec checks patterns, the engine selects with them and Learn draws them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from prune_core.errors import SpecError

UNSTRUCTURED = "unstructured"
#: What the dashboard offers first (any N:M and block size can be typed).
COMMON = ("unstructured", "2:4", "1:4", "4:8", "block:1x4", "block:4x1", "block:2x2")
_NM = re.compile(r"^(\d+):(\d+)$")
_BLOCK = re.compile(r"^block:(\d+)x(\d+)$")
MAX_GROUP = 64


@dataclass(frozen=True)
class Pattern:
    kind: str = UNSTRUCTURED  # "unstructured" | "n:m" | "block"
    n: int = 0  # N:M: weights removed from every group of M
    m: int = 0
    height: int = 1  # block: rows × columns of the kernel matrix
    width: int = 1

    @classmethod
    def parse(cls, text: str) -> Pattern:
        text = str(text).strip().lower()
        if text == UNSTRUCTURED:
            return cls()
        nm, block = _NM.match(text), _BLOCK.match(text)
        if nm:
            n, m = int(nm.group(1)), int(nm.group(2))
            if not 0 < n < m <= MAX_GROUP:
                raise SpecError(
                    f"pattern {text}: N:M needs 0 < N < M ≤ {MAX_GROUP} (N of every M weights "
                    "are removed, e.g. 2:4)"
                )
            return cls("n:m", n=n, m=m)
        if block:
            h, w = int(block.group(1)), int(block.group(2))
            if not (1 <= h <= MAX_GROUP and 1 <= w <= MAX_GROUP) or h * w == 1:
                raise SpecError(
                    f"pattern {text}: a block is H×W weights with 1 ≤ H, W ≤ {MAX_GROUP}, more "
                    f"than "
                    "one weight (block:1x1 is unstructured)"
                )
            return cls("block", height=h, width=w)
        raise SpecError(
            f"unknown pattern {text!r}; choose unstructured, N:M (e.g. 2:4) or block:HxW (e.g. "
            f"block:1x4)"
        )

    def __str__(self) -> str:
        if self.kind == "n:m":
            return f"{self.n}:{self.m}"
        if self.kind == "block":
            return f"block:{self.height}x{self.width}"
        return UNSTRUCTURED

    @property
    def sparsity(self) -> float | None:
        """The sparsity an N:M pattern fixes (None: the recipe chooses)."""
        return self.n / self.m if self.kind == "n:m" else None


# ---- N:M
# ----------------------------------------------------------------------------------------------
def _rows(array: np.ndarray) -> np.ndarray:
    """A kernel as rows of input-channel values (tfmot's `weights_rearrange`): Cout first, Cin
    last."""
    a = np.asarray(array)
    if a.ndim < 2:
        raise SpecError(f"an N:M pattern needs a kernel of rank 2 or more, got shape {a.shape}")
    moved = np.moveaxis(a, -1, 0)
    return moved.reshape(-1, a.shape[-2])


def _unrows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    moved_shape = (shape[-1],) + tuple(shape[:-1])
    return np.moveaxis(rows.reshape(moved_shape), 0, -1)


def _groups(rows: np.ndarray, m: int, fill: float) -> np.ndarray:
    """Rows padded to a multiple of M with `fill`, as [rows, groups, M]."""
    pad = (-rows.shape[1]) % m
    padded = np.pad(rows, ((0, 0), (0, pad)), constant_values=fill)
    return padded.reshape(rows.shape[0], -1, m)


def nm_mask(scores, n: int, m: int, previous=None) -> np.ndarray:
    """Keep the M−N best-scored weights of every group of M (ties: the lower index stays, as tfmot's
    top_k); weights removed earlier stay removed. A last, shorter group keeps at most M−N."""
    shape = np.shape(scores)
    s = _rows(np.asarray(scores, dtype=np.float64)).copy()
    if previous is not None:
        s[_rows(previous) == 0] = -np.inf
    groups = _groups(s, m, -np.inf)
    order = np.argsort(-groups, axis=-1, kind="stable")[..., : m - n]
    keep = np.zeros(groups.shape, dtype=np.float32)
    np.put_along_axis(keep, order, 1.0, axis=-1)
    keep[np.isneginf(groups)] = 0.0  # never keep a padding slot or a weight removed earlier
    mask = _unrows(keep.reshape(s.shape[0], -1)[:, : s.shape[1]], shape)
    return mask.astype(np.float32)


def nm_violations(kernel, n: int, m: int) -> int:
    """How many full groups of M hold fewer than N zeros (0: the kernel is valid N:M)."""
    rows = _rows(kernel)
    full = rows.shape[1] - rows.shape[1] % m
    groups = rows[:, :full].reshape(rows.shape[0], -1, m)
    return int(np.sum(np.count_nonzero(groups == 0, axis=-1) < n))


# ---- blocks
# -------------------------------------------------------------------------------------------
def _matrix(array) -> np.ndarray:
    a = np.asarray(array)
    return a.reshape(-1, a.shape[-1]) if a.ndim >= 2 else a.reshape(1, -1)


def block_scores(scores, pattern: Pattern, previous=None) -> tuple[np.ndarray, np.ndarray | None]:
    """(each block's mean score, [rows/H, cols/W]; the blocks removed earlier as a 0/1 mask or
    None)."""
    mat = _matrix(np.asarray(scores, dtype=np.float64))
    h, w = pattern.height, pattern.width
    pr, pc = (-mat.shape[0]) % h, (-mat.shape[1]) % w
    padded = np.pad(mat, ((0, pr), (0, pc)), constant_values=np.nan)
    tiles = padded.reshape(padded.shape[0] // h, h, padded.shape[1] // w, w)
    means = np.nanmean(tiles, axis=(1, 3))
    if previous is None:
        return means, None
    prev = np.pad(_matrix(previous).astype(np.float64), ((0, pr), (0, pc)), constant_values=0.0)
    alive = prev.reshape(tiles.shape).max(axis=(1, 3))
    return means, (alive > 0).astype(np.float32)


def expand_blocks(block_mask: np.ndarray, shape: tuple, pattern: Pattern) -> np.ndarray:
    """A mask over blocks → the kernel's mask (every weight of a block shares its block's fate)."""
    rows = int(np.prod(shape[:-1])) if len(shape) >= 2 else 1
    cols = shape[-1]
    full = np.repeat(np.repeat(block_mask, pattern.height, axis=0), pattern.width, axis=1)
    return full[:rows, :cols].reshape(shape).astype(np.float32)
