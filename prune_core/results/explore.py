"""What the Explore page shows, computed from stored profiles (pandas + numpy; no TensorFlow).

Every function here is instant: profiles are plain numbers, the allocation is a convex-hull walk
over a few dozen layer curves. A slider move recomputes these and redraws; no job is queued."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prune_core.results import allocation
from prune_core.results.profile import (
    SCOPES,
    STRUCTURED_KEYS,
    Profile,
    at_level,
    layer_sparsity_at,
)

#: How each scope reads on the page.
SCOPE_LABELS = {
    "layerwise": "uniform (layerwise)",
    "global": "global ranking",
    "auto": "automatic per layer",
}


def merge(profiles: list) -> Profile | None:
    """One profile holding every criterion of `profiles` (same baseline and levels; later ones
    win)."""
    merged = None
    for p in profiles:
        merged = p if merged is None else merged.merged(p)
    return merged


def curves(profile: Profile, batchnorm: bool = True) -> pd.DataFrame:
    """One row per (criterion, scope, level): sparsity, one-shot top-1/top-5/loss (BatchNorm
    re-estimated or as pruned), nonzero parameters, gzip bytes, theoretical speedup."""
    suffix = "_bn" if batchnorm else ""
    rows = []
    for name, measured in profile.criteria.items():
        for scope in SCOPES:
            curve = measured.curve(scope)
            for i, level in enumerate(curve.get("level", [])):
                rows.append(
                    {
                        "criterion": name,
                        "scope": scope,
                        "level": level,
                        "sparsity": curve["sparsity"][i],
                        "top1": curve["top1" + suffix][i],
                        "top5": curve["top5" + suffix][i],
                        "loss": curve["loss" + suffix][i],
                        "nonzero_params": curve["nonzero_params"][i],
                        "gzip_bytes": curve["gzip_bytes"][i],
                        "theoretical_speedup": curve["theoretical_speedup"][i],
                    }
                )
    return pd.DataFrame(rows)


def points_at(profile: Profile, sparsity: float, batchnorm: bool = True) -> pd.DataFrame:
    """Every (criterion, scope) curve read at one sparsity (linear between measured levels)."""
    suffix = "_bn" if batchnorm else ""
    rows = []
    for name, measured in profile.criteria.items():
        for scope in SCOPES:
            curve = measured.curve(scope)
            if not curve:
                continue
            rows.append(
                {
                    "criterion": name,
                    "scope": scope,
                    "sparsity": sparsity,
                    "top1": at_level(curve, "top1" + suffix, sparsity),
                    "gzip_bytes": at_level(curve, "gzip_bytes", sparsity),
                    "nonzero_params": at_level(curve, "nonzero_params", sparsity),
                    "theoretical_speedup": at_level(curve, "theoretical_speedup", sparsity),
                }
            )
    return pd.DataFrame(rows)


def drops(profile: Profile, criterion: str) -> tuple[np.ndarray, np.ndarray]:
    """(loss increase, top-1 drop) per [layer][layer level] against the dense baseline."""
    measured = profile.criteria[criterion]
    return (
        np.asarray(measured.sensitivity_loss) - profile.dense["loss"],
        profile.dense["top1"] - np.asarray(measured.sensitivity_top1),
    )


def allocation_for(profile: Profile, criterion: str, sparsity: float) -> allocation.Allocation:
    """The automatic per-layer sparsities at `sparsity` (the same computation a `--scope auto` run
    makes)."""
    loss_increase, top1_drop = drops(profile, criterion)
    return allocation.allocate(
        profile.sizes, profile.layer_levels, loss_increase, sparsity, top1_drop=top1_drop
    )


def layer_table(
    profile: Profile,
    criterion: str,
    sparsity: float,
    automatic: allocation.Allocation | None = None,
) -> pd.DataFrame:
    """Per layer: parameters, FLOPs, and the sparsity each scope gives it at `sparsity`
    (`automatic`: the allocation already computed for it, if the caller has one)."""
    auto = (automatic or allocation_for(profile, criterion, sparsity)).sparsities
    global_curve = profile.criteria[criterion].curve("global")
    per_global = (
        layer_sparsity_at(global_curve, sparsity) if global_curve.get("layer_sparsity") else None
    )
    return pd.DataFrame(
        {
            "layer": [layer.name for layer in profile.layers],
            "params": [layer.params for layer in profile.layers],
            "flops": [layer.flops for layer in profile.layers],
            "layerwise": np.full(len(profile.layers), sparsity),
            "global": per_global if per_global is not None else np.nan,
            "auto": auto,
        }
    )


def sensitivity_frame(profile: Profile, criterion: str) -> pd.DataFrame:
    """Long form of the layers × levels matrix: top-1 drop and loss increase per layer and level."""
    loss_increase, top1_drop = drops(profile, criterion)
    rows = []
    for i, layer in enumerate(profile.layers):
        for j, level in enumerate(profile.layer_levels):
            rows.append(
                {
                    "layer": layer.name,
                    "params": layer.params,
                    "flops": layer.flops,
                    "level": level,
                    "top1_drop": top1_drop[i][j],
                    "loss_increase": loss_increase[i][j],
                }
            )
    return pd.DataFrame(rows)


#: The profile's channel-removal curves, by the scope the page shows them as.
CHANNEL_CURVES = {"channels": "structured", "channels_auto": "structured_auto"}
#: How each channel curve reads on the page, and the recipe scope that reproduces it.
CHANNEL_LABELS = {
    "channels": "whole channels, global ranking",
    "channels_auto": "whole channels, automatic per group",
}
CHANNEL_RECIPE_SCOPES = {"channels": "global", "channels_auto": "auto"}


def structured_curves(profile: Profile) -> pd.DataFrame:
    """One row per (criterion, channel curve, FLOPs level) of the channel-removal curves (empty
    without them)."""
    rows = []
    for name, measured in profile.criteria.items():
        for scope, key in CHANNEL_CURVES.items():
            rows += _channel_rows(name, scope, measured.curve(key))
    return pd.DataFrame(rows)


def _channel_rows(name: str, scope: str, curve: dict) -> list:
    rows = []
    for i, level in enumerate(curve.get("level", [])):
        rows.append(
            {
                "criterion": name,
                "scope": scope,
                "level": level,
                **{k: curve[k][i] for k in STRUCTURED_KEYS if k != "level"},
            }
        )
    return rows


def structured_points_at(profile: Profile, removed: float) -> pd.DataFrame:
    """Every channel-removal curve read at a share of FLOPs removed (linear between measured
    cuts)."""
    rows = []
    for name, measured in profile.criteria.items():
        for scope, key in CHANNEL_CURVES.items():
            curve = measured.curve(key)
            if not curve or len(curve["level"]) < 2 or removed > max(curve["budget_removed"]):
                continue
            rows.append(
                {
                    "criterion": name,
                    "scope": scope,
                    "budget_removed": removed,
                    **{
                        k: float(np.interp(removed, curve["budget_removed"], curve[k]))
                        for k in ("top1", "params", "gzip_bytes", "litert_ms_predicted")
                    },
                }
            )
    return pd.DataFrame(rows)


def dense_latency(profile: Profile) -> float | None:
    """The dense model's LiteRT latency as the per-layer table predicts it (the structured curves'
    start)."""
    for measured in profile.criteria.values():
        curve = measured.curve("structured")
        if curve.get("litert_ms_predicted"):
            return float(curve["litert_ms_predicted"][0])
    return None
