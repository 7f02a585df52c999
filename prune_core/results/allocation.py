"""Automatic per-layer sparsity from measured layer sensitivity (numpy only).

Each layer's sensitivity curve — the validation loss increase when only that layer is pruned, at a
few levels — is read as the cost of removing weights there. The allocation removes the requested
fraction of all weights at the least total predicted cost, assuming costs add up across layers
(the usual first-order assumption of sensitivity analysis: Distiller, NNI's sensitivity pruner).

Method (a Lagrangian allocation, solved exactly by a greedy walk): each layer's curve, made
non-decreasing and continued to `MAX_SPARSITY` along its last slope, is replaced by its lower convex
hull; every hull segment is a block of weights with a constant cost per weight. Taking segments
from the cheapest cost per weight upwards, across all layers, until the budget is met (the last one
in part) minimises the summed hull cost — the same solution as minimising cost + λ·weights for the
λ that meets the budget. No layer goes past `MAX_SPARSITY`, so no layer is emptied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prune_core.errors import SpecError

MAX_SPARSITY = 0.99


@dataclass(frozen=True)
class Allocation:
    sparsities: np.ndarray  # per layer
    predicted_loss_increase: float
    predicted_top1_drop: float | None = None


def _curve(levels, costs, max_sparsity: float) -> tuple[np.ndarray, np.ndarray]:
    """(sparsity, cost) points from 0 to `max_sparsity`: cost ≥ 0, non-decreasing, extended
    linearly."""
    x, y = np.asarray(levels, float), np.clip(np.asarray(costs, float), 0.0, None)
    if not len(x) or x[0] > 0:  # nothing removed costs nothing
        x, y = np.concatenate([[0.0], x]), np.concatenate([[0.0], y])
    y = np.maximum.accumulate(y)
    if x[-1] < max_sparsity:
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2]) if len(x) > 1 else 0.0
        x, y = (
            np.append(x, max_sparsity),
            np.append(y, y[-1] + max(slope, 0.0) * (max_sparsity - x[-1])),
        )
    keep = x <= max_sparsity + 1e-12
    return x[keep], y[keep]


def _lower_hull(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Indices of the lower convex hull of points sorted by x (Andrew's monotone chain)."""
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (y[b] - y[a]) * (x[i] - x[a]) >= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()  # b lies on or above the chord a–i
            else:
                break
        hull.append(i)
    return hull


def allocate(
    sizes,
    levels,
    loss_increase,
    target: float,
    *,
    top1_drop=None,
    max_sparsity: float = MAX_SPARSITY,
) -> Allocation:
    """Per-layer sparsities removing `target` of all weights (`sizes`: weights per layer;
    `loss_increase[layer][level]`: measured at `levels`) at the least predicted loss increase."""
    sizes = np.asarray(sizes, dtype=float)
    if not 0.0 <= target < 1.0:
        raise SpecError(f"sparsity must be in [0, 1), got {target}")
    if not sizes.size or sizes.sum() <= 0:
        raise SpecError("the model has no layer that this recipe may prune")
    if target > max_sparsity:
        raise SpecError(
            f"no allocation reaches {target:.0%}: no layer may lose more than {max_sparsity:.0%}"
        )
    segments = []  # (cost per weight, layer, x0, x1)
    for layer, costs in enumerate(loss_increase):
        x, y = _curve(levels, costs, max_sparsity)
        hull = _lower_hull(x, y)
        for a, b in zip(hull, hull[1:]):
            rate = (y[b] - y[a]) / (sizes[layer] * (x[b] - x[a]))
            segments.append((rate, layer, x[a], x[b]))
    segments.sort(key=lambda s: (s[0], s[1], s[2]))
    sparsities = np.zeros(len(sizes))
    needed = target * sizes.sum()
    for _rate, layer, x0, x1 in segments:
        if needed <= 0:
            break
        take = min(x1 - x0, needed / sizes[layer])
        sparsities[layer] = x0 + take
        needed -= take * sizes[layer]
    return Allocation(
        sparsities,
        predicted(levels, loss_increase, sparsities, max_sparsity),
        predicted(levels, top1_drop, sparsities, max_sparsity) if top1_drop is not None else None,
    )


def predicted(levels, costs_per_layer, sparsities, max_sparsity: float = MAX_SPARSITY) -> float:
    """The summed cost of per-layer sparsities, read off each layer's (monotone, extended) curve."""
    total = 0.0
    for costs, s in zip(costs_per_layer, sparsities):
        x, y = _curve(levels, costs, max_sparsity)
        total += float(np.interp(s, x, y))
    return total
