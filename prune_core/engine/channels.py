"""Channel importance and selection (structured pruning, step 2 of 3): scores → a surgery `Plan`.

Importance of channel c of a group = the mean, over every weight attached to c (the producers'
output slices, the consumers' input slices, depthwise slices), of the criterion's per-weight score,
divided by the group's average importance — so a global ranking compares channels with their own
group (un-normalised global magnitude empties late, wide layers whose weights are small by
construction: measured, it cut top_conv from 640 channels to 1).

Selection: `ratio` removes that fraction of every group's channels (per-group); `target` removes the
lowest-ranked channels across all groups until that fraction of the model's FLOPs (or parameters, or
LiteRT ms predicted by a `latency_table`) is gone, measured by a cost model of the reduced network
(exact for FLOPs and parameters). Latency-aware ranking (`rank="latency"`) divides each channel's
importance by how slowly its share of the budget runs in LiteRT. Every group keeps at least one
channel (globally: at least `MIN_KEEP` of its channels), or `multiple` when counts are rounded up to
multiples of e.g. 8 for hardware-friendly shapes."""

from __future__ import annotations

import math

import numpy as np

from prune_core.engine import layers
from prune_core.engine.structure import layer_roles
from prune_core.engine.surgery import Plan
from prune_core.errors import SpecError


def _per_input_channel(s, kind: str, size: int, layer) -> np.ndarray:
    """A consumer's kernel score summed over everything but the input channel it reads."""
    if kind == "flatten-dense":  # rows: positions × channels
        return s.reshape(-1, size, s.shape[-1]).sum(axis=(0, 2))
    if kind == "separable":  # pointwise rows c · m + j read input channel c
        return s.reshape(size, -1, s.shape[-1]).sum(axis=(1, 2))
    axis = s.ndim + layers.type_of(layer).in_axis
    per = np.moveaxis(s, axis, -1).reshape(-1, s.shape[axis])
    if kind == "dense" or getattr(layer, "groups", 1) == 1:
        return per.sum(axis=0)
    # grouped: (…, cin / g, cout); input channel b · cin/g + j feeds group b's outputs only
    groups = layer.groups
    per_group = np.moveaxis(s, axis, -2).reshape(-1, s.shape[axis], groups, s.shape[-1] // groups)
    return per_group.sum(axis=(0, 3)).T.ravel()


def importance(model, groups, scores: dict) -> dict:
    """group id → per-channel importance: the mean weight score attached to each channel, divided by
    the group's average (Torch-Pruning's "mean" normaliser), so a global ranking compares each
    channel with its own group rather than layers whose weights are small by construction (a conv
    followed by BatchNorm, a wide 1×1). `scores` maps layer name → that layer's kernel-shaped score
    array (summed in float64, one layer at a time)."""
    result = {}

    def score_of(name: str) -> np.ndarray:
        return np.asarray(scores[name], np.float64)

    for g in groups:
        if not g.prunable:
            continue
        total, count = np.zeros(g.size), 0
        for name in g.producers:
            s = np.moveaxis(score_of(name), layers.type_of(model.get_layer(name)).out_axis, -1)
            total += s.reshape(-1, s.shape[-1]).sum(axis=0)
            count += s.size // s.shape[-1]
        for name in g.members:
            if name in scores:  # depthwise kernels (kh, kw, c, 1); BatchNorm has no kernel score
                s = score_of(name)
                total += s.sum(axis=(0, 1, 3))
                count += s.size // g.size
        for name, kind in g.consumers:
            total += _per_input_channel(score_of(name), kind, g.size, model.get_layer(name))
            count += scores[name].size // g.size
        mean_score = total / max(count, 1)
        centre = mean_score.mean()
        result[g.id] = mean_score / centre if centre > 0 else mean_score
    return result


class CostModel:
    """FLOPs (2 × MACs of conv / depthwise / dense layers, as `metrics.flops`), parameters and —
    given a `latency_table` (layer name → `LayerTime`) — predicted LiteRT milliseconds of the model
    after keeping `counts[group id]` channels per group."""

    def __init__(self, model, groups, times: dict | None = None):
        roles = layer_roles(groups)
        # (flops per in·out channel, params per in·out, in group, out group, bias per out, bn)
        self.terms = []
        for layer in model.layers:
            kind = layers.type_of(layer)
            role = roles.get(layer.name, {})
            out_g = role.get("out")
            in_g = role["in"][0] if "in" in role else None
            weights = layer.get_weights()
            if kind is None or not weights:
                continue
            if kind.role == "producer":
                kernel = layers.kernel_of(layer).shape
                cin, cout = layer.input_shape[-1], layer.output_shape[-1]
                positions = layers.positions(layer)
                # kh·kw / groups for a conv, the depth multiplier for a separable's pointwise
                per = int(np.prod(kernel)) / (cin * cout)
                if role.get("in") and role["in"][1] == "flatten-dense":
                    per, cin = kernel[0] / in_g.size, in_g.size  # rows = positions × channels
                biases = len(weights) - (2 if kind.consumes == "separable" else 1)
                self.terms.append((2 * positions * per, per, in_g, cin, out_g, cout, biases))
                if kind.consumes == "separable":  # its depthwise stage, one filter per input
                    per = int(np.prod(weights[0].shape)) / cin
                    self.terms.append((2 * positions * per, per, in_g, cin, None, 1, 0))
            elif kind.role == "member" and kind.kernel:  # depthwise: one filter per channel
                kernel = weights[0]
                positions = layers.positions(layer)
                per = kernel.shape[0] * kernel.shape[1]
                self.terms.append(
                    (2 * positions * per, per, None, 1, out_g, kernel.shape[2], len(weights) - 1)
                )
            elif kind.role == "member":  # per-channel vectors only (BatchNorm)
                self.terms.append((0, 0, None, 1, out_g, weights[0].shape[-1], len(weights)))
        # (LayerTime, input group if the layer is a conv / dense reading one, group of its channels)
        self.times = [
            (t, roles.get(name, {}).get("in", (None,))[0], roles.get(name, {}).get("out"))
            for name, t in (times or {}).items()
        ]
        self.has_latency = times is not None
        self.other_params = 0.0
        # layers without channels
        self.other_params = model.count_params() - self.evaluate({})["params"]
        self.total = self.evaluate({})

    def evaluate(self, counts: dict) -> dict:
        flops, params = 0.0, self.other_params
        for f, p, in_g, cin, out_g, cout, per_out in self.terms:
            i = counts.get(in_g.id, cin) if in_g is not None else cin
            o = counts.get(out_g.id, cout) if out_g is not None else cout
            flops += f * i * o
            params += p * i * o + per_out * o
        result = {"flops": flops, "params": params}
        if self.has_latency:
            result["latency"] = sum(
                t.at(
                    counts.get(in_g.id, in_g.size) if in_g is not None else t.in_ref,
                    counts.get(out_g.id, out_g.size) if out_g is not None else t.out_ref,
                )
                for t, in_g, out_g in self.times
            )
        return result

    def per_channel(self, group, budget: str) -> float:
        """What removing one channel of `group` (from the full model) saves of `budget`."""
        return self.total[budget] - self.evaluate({group.id: group.size - 1})[budget]


#: A global ranking never takes a group below this share of its channels (a 1-channel bottleneck
#: cannot be fine-tuned back).
MIN_KEEP = 0.1


def _round_up(n: int, multiple: int, size: int) -> int:
    return (
        min(size, max(multiple, int(math.ceil(n / multiple)) * multiple))
        if multiple > 1
        else max(1, n)
    )


def count_step(group, multiple: int) -> int:
    """Counts a group may keep: multiples of `multiple` and of its equal blocks."""
    return math.lcm(max(1, multiple), group.blocks)


def most_important(order: np.ndarray, count: int, blocks: int) -> list:
    """The `count` most important channels (`order`: ascending importance), the same number from
    each of `blocks` equal blocks."""
    if blocks == 1:
        return sorted(order[len(order) - count :].tolist())
    per_block, width = count // blocks, len(order) // blocks
    kept = []
    for b in range(blocks):
        in_block = order[order // width == b]
        kept += in_block[len(in_block) - per_block :].tolist()
    return sorted(kept)


def _plan(groups, order_by_group: dict, counts: dict) -> Plan:
    by_id = {g.id: g for g in groups}
    keep = {
        gid: most_important(order, counts[gid], by_id[gid].blocks)
        for gid, order in order_by_group.items()
        if counts[gid] < len(order)
    }
    return Plan(tuple(groups), keep)


def rank_keys(groups, scores: dict, cost: CostModel, budget: str, rank: str) -> dict:
    """group id → per-channel ranking key (lowest goes first): importance, or for `rank="latency"`
    importance × (budget a channel carries ÷ LiteRT ms it costs), so that at equal importance the
    budget is taken from the work that runs slowest on the device (see `specs.RANKINGS`)."""
    if rank == "importance":
        return {g.id: scores[g.id] for g in groups}
    if rank != "latency" or not cost.has_latency or budget == "latency":
        raise ValueError(
            "latency ranking needs a cost model with a latency table and a flops or params budget"
        )
    keys = {}
    for g in groups:
        ms = cost.per_channel(g, "latency")
        keys[g.id] = scores[g.id] * cost.per_channel(g, budget) / max(ms, 1e-12)
    return keys


def _capped_by(groups, cost: CostModel, budget: str, shown: int = 3) -> str:
    """Which channels that cannot be cut carry most of the budget, and why (a budget out of reach
    is refused with the layers that cap it, not a bare number)."""
    total = cost.total[budget]
    if not total:
        return ""
    shares = sorted(
        (
            ((total - cost.evaluate({g.id: 0})[budget]) / total, g.fixed_reason)
            for g in groups
            if not g.prunable and g.fixed_reason
        ),
        key=lambda pair: -pair[0],
    )
    named = [f"{reason} ({share:.0%})" for share, reason in shares[:shown] if share >= 0.01]
    if not named:
        return ""
    return f"; the channels that cannot be cut carry the rest, most in: {'; '.join(named)}"


def select(
    groups,
    scores: dict,
    *,
    ratio: float | None = None,
    counts: dict | None = None,
    target: float | None = None,
    threshold: float | None = None,
    cost: CostModel | None = None,
    budget: str = "flops",
    multiple: int = 1,
    rank: str = "importance",
) -> Plan:
    """A plan from per-channel importance: per-group `ratio` (or explicit kept `counts`), a global
    `target` fraction of the budget (needs `cost`; ranked by `rank`), or a `threshold` on
    importance."""
    prunable = [g for g in groups if g.prunable and g.id in scores]
    # ascending importance
    order = {g.id: np.argsort(scores[g.id], kind="stable") for g in prunable}
    if ratio is not None:
        counts = {g.id: g.size - int(math.floor(ratio * g.size)) for g in prunable}
    if counts is not None:
        counts = {
            g.id: _round_up(min(counts.get(g.id, g.size), g.size), count_step(g, multiple), g.size)
            for g in prunable
        }
        return _plan(groups, order, counts)
    if threshold is not None:
        counts = {
            g.id: _round_up(int((scores[g.id] >= threshold).sum()), count_step(g, multiple), g.size)
            for g in prunable
        }
        return _plan(groups, order, counts)
    if target is None or cost is None:
        raise ValueError("give a ratio, a threshold, or a target with a cost model")
    # Global: remove the k lowest-ranked channels (never a group's last ones), the smallest k that
    # reaches the target; cost only falls as k grows, so binary search finds it.
    keys = rank_keys(prunable, scores, cost, budget, rank)
    ranked = sorted(
        ((keys[g.id][c], g.id, c) for g in prunable for c in range(g.size)), key=lambda t: t[0]
    )
    sizes = {g.id: g.size for g in prunable}
    steps = {g.id: count_step(g, multiple) for g in prunable}

    floor = {gid: max(1, int(math.ceil(MIN_KEEP * size))) for gid, size in sizes.items()}

    def counts_after(k):
        removed = {gid: 0 for gid in sizes}
        for _, gid, _ in ranked[:k]:
            removed[gid] += 1
        return {
            gid: _round_up(max(sizes[gid] - removed[gid], floor[gid]), steps[gid], sizes[gid])
            for gid in sizes
        }

    def fraction(k):
        return 1 - cost.evaluate(counts_after(k))[budget] / cost.total[budget]

    most = fraction(len(ranked))
    if most < target - 1e-9:
        raise SpecError(
            f"cannot remove {target:.0%} of the {budget}: removing every channel the plan may "
            f"(each group keeps at least {MIN_KEEP:.0%}) removes {most:.1%}"
            + (
                "; the rest is per-op time that no channel count changes"
                if budget == "latency"
                else _capped_by(groups, cost, budget)
            )
        )
    lo, hi = 0, len(ranked)
    while lo < hi:
        mid = (lo + hi) // 2
        if fraction(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    counts = counts_after(lo)
    # A channel's rank decides *which* go; counts decide how many per group.
    return _plan(groups, order, counts)
