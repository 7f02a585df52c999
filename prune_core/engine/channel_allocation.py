"""Automatic channel allocation (`--scope auto` with structured granularity): how many channels
each group keeps, chosen from each group's measured sensitivity to meet a FLOPs, parameter or
latency budget.

The idea is Qualcomm AIMET's channel pruning and NVIDIA Model Optimizer's FastNAS: measure what
removing a share of one group's channels costs in accuracy, alone, at a few levels; then spend the
budget where it costs least. Here:
1. **sensitivity** (`measure`): each prunable group's lowest-ranked channels are *silenced* at each
   level — the producers' output slices, biases and the members' per-channel weights zeroed, which
   computes exactly what the reduced model computes (the oracle the surgery tests check) — and the
   validation loss and top-1 are measured; the weights are put back after each point. No surgery,
   no retracing: one evaluation per point.
2. **allocation** (`counts_for`): each group's loss curve is read as the cost of removing its share
   of the budget (its channels' FLOPs, parameters or predicted ms), and the Lagrangian allocation of
   `prune_core.results.allocation` (the one the single-weight `auto` uses) spends a fraction of the
   linearised budget at the least predicted loss. The budget is not linear in the channels (a
   layer between two pruned groups loses in both), so the fraction is found by bisection on the
   exact cost model until the reduced network meets the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prune_core.engine import layers
from prune_core.engine.channels import MIN_KEEP, CostModel, count_step, most_important
from prune_core.engine.keras_env import keras
from prune_core.errors import ResultError, SpecError
from prune_core.results import allocation

#: Shares of a group's channels silenced to measure its sensitivity (up to what a group may lose).
LEVELS = (0.25, 0.5, 0.75, 1.0 - MIN_KEEP)


# ---- silencing: removal without surgery
# ----------------------------------------------------------------
def silenced_weights(layer, group, gone: np.ndarray) -> list:
    """`layer`'s weights (a copy) with channels `gone` of `group` zeroed, as the layer's role in the
    group says: a producer's output slice and bias, a member's per-channel weights (BatchNorm's
    moving statistics kept, so its output for those channels is exactly zero)."""
    kind = layers.type_of(layer)
    weights = [w.copy() for w in layer.get_weights()]
    kernel = layers.kernel_of(layer)
    for i, w in enumerate(weights):
        if kernel is not None and w.shape == tuple(kernel.shape):
            axis = w.ndim + kind.out_axis if kind.role == "producer" else 2
            index = [slice(None)] * w.ndim
            index[axis] = gone
            w[tuple(index)] = 0.0
        elif kind.consumes == "separable" and i == 0:
            continue  # the depthwise stage reads the input's channels
        elif isinstance(layer, keras.layers.BatchNormalization) and i in (2, 3):
            continue  # moving statistics
        else:  # biases, BatchNorm's and LayerScale's gamma and beta
            w[..., gone] = 0.0
    return weights


def silence(model, removed: list):
    """Silence, in place, the channels `gone` (an index array) of each (group, gone) pair; returns a
    function that puts the original weights back."""
    saved = {}
    for group, gone in removed:
        if not len(gone):
            continue
        for name in group.producers + group.members:
            layer = model.get_layer(name)
            saved.setdefault(name, layer.get_weights())
            layer.set_weights(silenced_weights(layer, group, np.asarray(gone)))

    def restore():
        for name, weights in saved.items():
            model.get_layer(name).set_weights(weights)

    return restore


def removed_at(group, order: np.ndarray, level: float) -> np.ndarray:
    """The channels a group loses at `level` (its lowest-ranked, balanced over its equal blocks,
    never below one channel per step)."""
    step = count_step(group, 1)
    keep = max(step, int(math.ceil(group.size * (1.0 - level) / step)) * step)
    kept = most_important(order, min(keep, group.size), group.blocks)
    return np.setdiff1d(np.arange(group.size), kept)


# ---- sensitivity
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelSensitivity:
    """Validation top-1 and loss with one group's lowest-ranked channels removed, per group (named
    by its first producer) and level."""

    levels: tuple
    groups: tuple  # first producer of each group
    top1: list  # [group][level]
    loss: list  # [group][level]
    dense_top1: float
    dense_loss: float

    def to_dict(self) -> dict:
        return {
            "levels": list(self.levels),
            "groups": list(self.groups),
            "top1": self.top1,
            "loss": self.loss,
            "dense_top1": self.dense_top1,
            "dense_loss": self.dense_loss,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ChannelSensitivity:
        try:
            levels = tuple(float(v) for v in data["levels"])
            groups = tuple(str(g) for g in data["groups"])
            matrices = []
            for key in ("top1", "loss"):
                array = np.asarray(data[key], dtype=float)
                if array.shape != (len(groups), len(levels)) or not np.isfinite(array).all():
                    raise ValueError(f"{key}: one row of {len(levels)} numbers per group")
                matrices.append(array.tolist())
            return cls(
                levels,
                groups,
                matrices[0],
                matrices[1],
                float(data["dense_top1"]),
                float(data["dense_loss"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultError(f"the channel sensitivity does not read: {exc}") from None

    def row(self, name: str) -> int | None:
        return self.groups.index(name) if name in self.groups else None


def measure(model, groups, importance: dict, evaluate, levels=LEVELS, on_point=None):
    """The `ChannelSensitivity` of `model` (changed during the measurement, restored after each
    point): `importance` ranks each group's channels (`channels.importance`), `evaluate()` returns
    the validation top-1 and loss of `model` as it stands. `on_point(i, n)` after each point."""
    dense = evaluate()
    prunable = [g for g in groups if g.prunable and g.id in importance]
    top1, loss, done = [], [], 0
    for group in prunable:
        order = np.argsort(importance[group.id], kind="stable")
        row_top1, row_loss = [], []
        for level in levels:
            restore = silence(model, [(group, removed_at(group, order, level))])
            try:
                measured = evaluate()
            finally:
                restore()
            row_top1.append(float(measured["top1"]))
            row_loss.append(float(measured["loss"]))
            done += 1
            if on_point is not None:
                on_point(done, len(prunable) * len(levels))
        top1.append(row_top1)
        loss.append(row_loss)
    return ChannelSensitivity(
        tuple(levels),
        tuple(g.producers[0] for g in prunable),
        top1,
        loss,
        float(dense["top1"]),
        float(dense["loss"]),
    )


# ---- allocation
# ----------------------------------------------------------------------------------------
def counts_for(
    sensitivity: ChannelSensitivity,
    groups,
    cost: CostModel,
    budget: str,
    amount: float,
    original_total: float,
    original_sizes: dict,
    multiple: int = 1,
) -> dict:
    """group id → channels to keep so that the reduced model has shed `amount` of the original
    model's `budget` (`original_total`), at the least predicted loss. `original_sizes`: first
    producer → the group's channels in the original model (a gradual schedule cuts a model that is
    already smaller; shares are of the original). Groups the sensitivity does not name keep all."""
    rows = [(g, sensitivity.row(g.producers[0])) for g in groups if g.prunable]
    rows = [(g, r) for g, r in rows if r is not None]
    if not rows:
        raise SpecError("no channel group of this model was measured for the automatic allocation")
    base = {g.id: original_sizes.get(g.producers[0], g.size) for g, _ in rows}
    # each group's share of the budget, at the model's current widths (linearised)
    weights = np.array([max(cost.per_channel(g, budget), 1e-12) * base[g.id] for g, _ in rows])
    increase = [np.asarray(sensitivity.loss[r]) - sensitivity.dense_loss for _, r in rows]
    most = 1.0 - MIN_KEEP

    def counts(fraction: float) -> dict:
        shares = allocation.allocate(
            weights, sensitivity.levels, increase, fraction, max_sparsity=most
        ).sparsities
        out = {}
        for (g, _), share in zip(rows, shares):
            step = count_step(g, multiple)
            keep = max(int(math.ceil(MIN_KEEP * base[g.id])), round(base[g.id] * (1 - share)))
            keep = int(math.ceil(keep / step)) * step
            out[g.id] = max(step, min(keep, g.size))
        return out

    def removed(fraction: float) -> float:
        return 1.0 - cost.evaluate(counts(fraction))[budget] / original_total

    if removed(most) < amount - 1e-9:
        raise SpecError(
            f"cannot remove {amount:.0%} of the {budget}: the automatic allocation, every group "
            f"keeping at least {MIN_KEEP:.0%} of its channels, removes {removed(most):.1%}; use "
            "--scope global, or a smaller target"
        )
    lo, hi = 0.0, most
    for _ in range(40):  # the smallest fraction that meets the target
        mid = (lo + hi) / 2
        if removed(mid) >= amount:
            hi = mid
        else:
            lo = mid
    return counts(hi)
