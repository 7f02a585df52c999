"""A profile's channel curves: whole channels removed to each share of FLOPs, by one global
ranking and by the automatic allocation from each channel group's measured sensitivity.

Part of `profiler.Profiler.criterion`, kept apart because it builds new, smaller models (the
weight curves only mask the baseline in place) and measures the per-layer LiteRT table they need.
"""

from __future__ import annotations

from prune_core.engine import channel_allocation, latency_table, metrics, pruners, structure
from prune_core.errors import SpecError
from prune_core.results.profile import STRUCTURED_KEYS


def measure(profiler, name: str, calibration, curves: dict):
    """Whole channels removed to each share of FLOPs, a new, smaller model per level (the
    baseline is never changed), BatchNorm re-estimated, evaluated and measured: by one global
    ranking (`curves["structured"]`) and by the automatic allocation
    (`curves["structured_auto"]`) from each group's sensitivity, measured first; returns that
    `ChannelSensitivity` (None when no channel can be cut)."""
    groups = structure.trace(profiler.model)
    if not any(g.prunable for g in groups):
        return None
    if profiler.times is None:
        profiler.times = latency_table.load_or_measure(profiler.model, groups, profiler.root)
    recipe = profiler.spec.with_(
        strategy=name,
        granularity="structured",
        scope="global",
        budget="flops",
        rank="importance",
        sparsity=0.5,
    )

    def pruner(scope, sensitivity=None):
        return pruners.ChannelPruner(
            profiler.model,
            recipe.with_(scope=scope).pruning,
            times=profiler.times,
            calibration=calibration,
            seed=profiler.spec.training.seed,
            recalibration=profiler.dataset.x_train,
            sensitivity=sensitivity,
        )

    ranked = pruner("global")
    groups, importance = ranked.importance(profiler.model)
    sensitivity = channel_allocation.measure(
        profiler.model,
        groups,
        importance,
        profiler.evaluate,
        on_point=lambda i, n: profiler.tick(f"{name}: channel group sensitivity {i}/{n}"),
    )
    curves["structured"] = _curve(profiler, name, ranked, "global ranking")
    curves["structured_auto"] = _curve(
        profiler, name, pruner("auto", sensitivity), "automatic allocation"
    )
    return sensitivity


def _curve(profiler, name: str, pruner, how: str) -> dict:
    out = {k: [] for k in STRUCTURED_KEYS}
    for level in profiler.structured_levels:
        if level == 0:
            smaller, removed = profiler.model, 0.0
            measured = {k: profiler.dense[k] for k in ("top1", "top5", "loss")}
        else:
            try:
                smaller, event = pruner.prune(profiler.model, level)
            except SpecError:  # the plan cannot remove that much: the curve ends here
                break
            removed = event.achieved
            measured = metrics.evaluator(smaller, profiler.dataset.x_val, profiler.dataset.y_val)()
        cost = pruner.cost(smaller)
        out["level"].append(level)
        out["budget_removed"].append(removed)
        for key in ("top1", "top5", "loss"):
            out[key].append(measured[key])
        out["params"].append(metrics.param_counts(smaller)["params"])
        out["flops"].append(cost["flops"])
        out["gzip_bytes"].append(metrics.file_sizes(smaller)["gzip_bytes"])
        out["litert_ms_predicted"].append(cost["latency"])
        profiler.tick(
            f"{name}: channels removed to {level:.0%} of the FLOPs ({how}): top-1 "
            f"{measured['top1']:.3f}"
        )
    return out
