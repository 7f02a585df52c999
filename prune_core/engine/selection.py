"""Scores → 0/1 masks. Three ways to choose what goes:

- threshold: remove every weight whose score is below the threshold (the seed's rule);
- layerwise: each kernel loses the same fraction, its lowest-scored weights (tfmot's rule:
  keep max(round(n·(1−s)), 1) weights per kernel);
- global: one ranking over all kernels; each kernel keeps at least one weight;
- per-layer (`layerwise` with one sparsity per kernel): the automatic allocation's choice
  (`prune_core.results.allocation`), each kernel losing its own fraction.

Weights already removed (`previous` masks) are removed first, so masks only ever shrink during a
gradual schedule. Ties are broken by position (stable sort), so the count is exact.

A sparsity pattern (`prune_core.recipe.patterns`) changes what is chosen, not how: N:M selects
inside each group of M; blocks are ranked by their mean score with the same three ways, then
expanded."""

from __future__ import annotations

import numpy as np

from prune_core.errors import SpecError
from prune_core.recipe import patterns


def _ranked(scores, previous) -> np.ndarray:
    """A kernel's scores, flat, at their own precision (float32 stays float32: a large model's
    scores are not copied to float64), weights already removed at −inf. Read, not copied, when
    nothing was removed before."""
    flat = np.asarray(scores)
    flat = flat.astype(np.result_type(flat.dtype, np.float32), copy=False).ravel()
    removed = None if previous is None else np.asarray(previous).ravel() == 0
    if removed is not None and removed.any():
        flat = flat.copy()
        flat[removed] = -np.inf
    return flat


def keep_count(size: int, sparsity: float) -> int:
    """How many weights a kernel of `size` keeps at `sparsity` (tfmot's rounding)."""
    return max(int(np.round(size * (1.0 - sparsity))), 1)


class Ranking:
    """Scores sorted once: a mask at any sparsity is then read off the sorted values (the score
    at the cut, and how many of its ties go, first by position), so a profile reads dozens of
    sparsities off one criterion's scores. The sorted values are one copy of the scores at their
    own precision, nothing more: a full index sort held float64 and int64 copies, ~8× the
    scores (11 GB for ConvNeXtXLarge's 350 M weights, ranked globally)."""

    def __init__(self, scores: list, previous: list | None = None):
        previous = previous or [None] * len(scores)
        self.shapes = [np.shape(s) for s in scores]
        self.flats = [_ranked(s, p) for s, p in zip(scores, previous)]
        self._sorted: list = [None] * len(self.flats)
        self._global: np.ndarray | None = None

    def layer(self, index: int, sparsity: float) -> np.ndarray:
        """Kernel `index`'s mask at `sparsity` (its lowest-scored weights removed)."""
        _check_sparsity(sparsity)
        flat = self.flats[index]
        if self._sorted[index] is None:
            self._sorted[index] = np.sort(flat)
        remove = flat.size - keep_count(flat.size, sparsity)
        return _masks_removing([flat], self._sorted[index], remove)[0].reshape(self.shapes[index])

    def layerwise(self, sparsity) -> list:
        """Each kernel loses `sparsity` of its weights — one fraction for all, or one per kernel
        (the automatic allocation's)."""
        each = list(sparsity) if np.ndim(sparsity) else [sparsity] * len(self.flats)
        if len(each) != len(self.flats):
            raise SpecError(f"{len(each)} per-layer sparsities for {len(self.flats)} layers")
        return [self.layer(i, v) for i, v in enumerate(each)]

    def global_(self, sparsity: float) -> list:
        """One ranking over all kernels; each kernel keeps at least one weight."""
        _check_sparsity(sparsity)
        if self._global is None:
            self._global = np.concatenate(self.flats)
            self._global.sort()
        total = self._global.size
        masks = _masks_removing(self.flats, self._global, total - keep_count(total, sparsity))
        for m, f in zip(masks, self.flats):
            if not m.any():  # never empty a whole kernel: that would cut the network in two
                m[int(np.argmax(f))] = 1.0
        return [m.reshape(shape) for m, shape in zip(masks, self.shapes)]


def _masks_removing(flats: list, ascending: np.ndarray, remove: int) -> list:
    """Masks removing the `remove` lowest of all `flats`' scores (`ascending`: them all, sorted),
    ties at the cut removed first by position, kernel after kernel: what a stable sort of all
    the scores would remove. NaN ranks above everything (where a sort puts it)."""
    if remove <= 0:
        return [np.ones(f.size, np.float32) for f in flats]
    cut = ascending[remove - 1]
    ties_left = remove - int(np.searchsorted(ascending, cut, side="left"))
    masks = []
    for flat in flats:
        if np.isnan(cut):  # every number goes, and the first NaNs
            mask, tied = np.zeros(flat.size, np.float32), np.isnan(flat)
        else:
            mask = ((flat > cut) | np.isnan(flat)).astype(np.float32)
            tied = flat == cut
        positions = np.flatnonzero(tied)
        gone = min(ties_left, positions.size)
        mask[positions[gone:]] = 1.0
        ties_left -= gone
        masks.append(mask)
    return masks


def layerwise(scores: list, sparsity, previous: list | None = None) -> list:
    """Each kernel loses `sparsity` of its weights — one fraction for all, or one per kernel."""
    return Ranking(scores, previous).layerwise(sparsity)


def global_(scores: list, sparsity: float, previous: list | None = None) -> list:
    return Ranking(scores, previous).global_(sparsity)


def threshold(scores: list, value: float, previous: list | None = None) -> list:
    """Remove weights scoring below `value`; the sparsity this produces is measured, not chosen."""
    if not np.isfinite(value) or value < 0:
        raise SpecError(f"threshold must be a finite number >= 0, got {value}")
    previous = previous or [None] * len(scores)
    return [  # compared in float64, as the threshold was given
        (_ranked(s, p).astype(np.float64, copy=False) >= value)
        .astype(np.float32)
        .reshape(np.shape(s))
        for s, p in zip(scores, previous)
    ]


def select(
    scores: list,
    *,
    sparsity=None,
    threshold_value: float | None = None,
    scope: str = "layerwise",
    previous: list | None = None,
    pattern: patterns.Pattern = patterns.Pattern(),
) -> list:
    """Masks for `scores` (one array per kernel). `sparsity` may be one fraction or one per kernel
    (layerwise). With a pattern: N:M ignores the amount (the pattern fixes it); blocks are chosen
    like single weights, by their mean score."""
    previous = previous or [None] * len(scores)
    if pattern.kind == "n:m":
        return [patterns.nm_mask(s, pattern.n, pattern.m, p) for s, p in zip(scores, previous)]
    if pattern.kind == "block":
        blocks = [patterns.block_scores(s, pattern, p) for s, p in zip(scores, previous)]
        chosen = select(
            [b for b, _ in blocks],
            sparsity=sparsity,
            threshold_value=threshold_value,
            scope=scope,
            previous=[p for _, p in blocks],
        )
        return [
            patterns.expand_blocks(c, np.shape(s), pattern)
            * (1.0 if p is None else np.asarray(p, np.float32))
            for c, s, p in zip(chosen, scores, previous)
        ]
    if threshold_value is not None:
        return threshold(scores, threshold_value, previous)
    if scope == "global":
        return global_(scores, sparsity, previous)
    if scope == "layerwise":
        return layerwise(scores, sparsity, previous)
    raise SpecError(f"unknown scope {scope!r}; choose layerwise or global")


def sparsity_of(masks: list) -> float:
    """Fraction of zeros over all masks together."""
    total = sum(np.size(m) for m in masks)
    return float(sum(np.size(m) - np.count_nonzero(m) for m in masks) / total) if total else 0.0


def _check_sparsity(sparsity) -> None:
    if sparsity is None or not (0.0 <= sparsity < 1.0):
        raise SpecError(f"sparsity must be in [0, 1), got {sparsity}")
