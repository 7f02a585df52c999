"""Scores → 0/1 masks. Three ways to choose what goes:

- threshold: remove every weight whose score is below the threshold (the seed's rule);
- layerwise: each kernel loses the same fraction, its lowest-scored weights (tfmot's rule:
  keep max(round(n·(1−s)), 1) weights per kernel);
- global: one ranking over all kernels; each kernel keeps at least one weight;
- per-layer (`layerwise` with one sparsity per kernel): the automatic allocation's choice
  (`prune_core.allocation`), each kernel losing its own fraction.

Weights already removed (`previous` masks) are removed first, so masks only ever shrink during a
gradual schedule. Ties are broken by position (stable sort), so the count is exact.
"""
from __future__ import annotations

import numpy as np

from prune_core.errors import SpecError


def _ranked(scores: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    flat = np.asarray(scores, dtype=np.float64).ravel().copy()
    if previous is not None:
        flat[np.asarray(previous).ravel() == 0] = -np.inf
    return flat


def keep_count(size: int, sparsity: float) -> int:
    """How many weights a kernel of `size` keeps at `sparsity` (tfmot's rounding)."""
    return max(int(np.round(size * (1.0 - sparsity))), 1)


def _mask_keeping(flat_scores: np.ndarray, keep: int) -> np.ndarray:
    order = np.argsort(flat_scores, kind="stable")
    mask = np.ones(flat_scores.size, dtype=np.float32)
    mask[order[: flat_scores.size - keep]] = 0.0
    return mask


def layerwise(scores: list, sparsity, previous: list | None = None) -> list:
    """Each kernel loses `sparsity` of its weights — one fraction for all, or one per kernel (the
    automatic allocation's)."""
    each = list(sparsity) if np.ndim(sparsity) else [sparsity] * len(scores)
    if len(each) != len(scores):
        raise SpecError(f"{len(each)} per-layer sparsities for {len(scores)} layers")
    for value in each:
        _check_sparsity(value)
    previous = previous or [None] * len(scores)
    return [_mask_keeping(_ranked(s, p), keep_count(np.size(s), v)).reshape(np.shape(s))
            for s, p, v in zip(scores, previous, each)]


def global_(scores: list, sparsity: float, previous: list | None = None) -> list:
    _check_sparsity(sparsity)
    previous = previous or [None] * len(scores)
    flats = [_ranked(s, p) for s, p in zip(scores, previous)]
    sizes = [f.size for f in flats]
    mask = _mask_keeping(np.concatenate(flats), keep_count(sum(sizes), sparsity))
    masks = np.split(mask, np.cumsum(sizes)[:-1])
    for m, f in zip(masks, flats):
        if not m.any():  # never empty a whole kernel: that would cut the network in two
            m[int(np.argmax(f))] = 1.0
    return [m.reshape(np.shape(s)) for m, s in zip(masks, scores)]


def threshold(scores: list, value: float, previous: list | None = None) -> list:
    """Remove weights scoring below `value`; the sparsity this produces is measured, not chosen."""
    if not np.isfinite(value) or value < 0:
        raise SpecError(f"threshold must be a finite number >= 0, got {value}")
    previous = previous or [None] * len(scores)
    return [(_ranked(s, p) >= value).astype(np.float32).reshape(np.shape(s)) for s, p in zip(scores, previous)]


def select(scores: list, *, sparsity: float | None = None, threshold_value: float | None = None,
           scope: str = "layerwise", previous: list | None = None) -> list:
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
