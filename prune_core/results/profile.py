"""A model's pruning profile: what each criterion does one-shot, level by level and layer by layer.

Measured once per (baseline, criterion, levels) by `prune_core.engine.profiler` and stored as plain
numbers, so the Explore page answers what-ifs without TensorFlow and without a new job:

- **curves**: for each scope (`layerwise`, `global`, `auto`) and each level, the criterion's masks
  applied to the dense baseline with no fine-tuning, evaluated on the validation split — top-1,
  top-5 and loss as pruned, and again after BatchNorm statistics were re-estimated (`_bn`) — with
  the measured sparsity, nonzero parameters, the .h5's gzip bytes (measured) and theoretical
  speedup;
- **sensitivity**: every prunable layer pruned alone at a few levels: validation top-1 and loss (a
  layers × levels matrix), which the automatic allocation (`prune_core.results.allocation`) reads;
- **structured** (curves of their own): whole channels removed to each share of FLOPs by one global
  ranking (`structured`) and by the automatic allocation (`structured_auto`), BatchNorm re-estimated
  after the cut: top-1, parameters, FLOPs, measured gzip bytes and the LiteRT latency the per-layer
  table predicts; and **channel sensitivity**: each channel group's lowest-ranked channels removed
  alone at a few levels (validation top-1 and loss), which the automatic allocation reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from prune_core.errors import ResultError, SpecError
from prune_core.recipe.spec import CRITERIA

SCHEMA = 1
#: One-shot curve levels (12): dense, every tenth, and the high end where criteria part ways.
LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
#: Per-layer sensitivity levels.
LAYER_LEVELS = (0.25, 0.5, 0.75, 0.9, 0.95, 0.98)
MAX_LEVELS = 40
SCOPES = ("layerwise", "global", "auto")
#: Structured curve levels: the share of FLOPs removed by whole channels.
STRUCTURED_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
#: The structured curves: one global ranking, and the automatic allocation from each channel
#: group's measured sensitivity.
STRUCTURED_SCOPES = ("structured", "structured_auto")
#: Numbers per structured curve point (BatchNorm is always re-estimated after a cut).
STRUCTURED_KEYS = (
    "level",
    "budget_removed",
    "top1",
    "top5",
    "loss",
    "params",
    "flops",
    "gzip_bytes",
    "litert_ms_predicted",
)
#: Numbers per curve point (lists of equal length, one entry per level).
CURVE_KEYS = (
    "level",
    "sparsity",
    "top1",
    "top5",
    "loss",
    "top1_bn",
    "top5_bn",
    "loss_bn",
    "nonzero_params",
    "gzip_bytes",
    "theoretical_speedup",
)


def check_levels(levels, name: str = "levels") -> tuple:
    """Levels as a sorted tuple, or a SpecError: each in [0, 1), no duplicates, at most
    MAX_LEVELS."""
    try:
        values = [float(v) for v in levels]
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be numbers in [0, 1)") from None
    if not values:
        raise SpecError(f"{name}: give at least one level")
    if len(values) > MAX_LEVELS:
        raise SpecError(f"{name}: at most {MAX_LEVELS} levels, got {len(values)}")
    bad = [v for v in values if not (np.isfinite(v) and 0.0 <= v < 1.0)]
    if bad:
        raise SpecError(f"{name} must lie in [0, 1): got {bad[0]:g}")
    if len(set(values)) != len(values):
        raise SpecError(
            f"{name}: {sorted(v for v in set(values) if values.count(v) > 1)[0]:g} is given twice"
        )
    return tuple(sorted(values))


def check_criteria(names) -> list:
    """Criteria to profile, or a SpecError: known, at least one, none twice."""
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise SpecError("name at least one criterion to profile")
    for name in names:
        if name not in CRITERIA:
            raise SpecError(f"cannot profile {name!r}; choose from {', '.join(CRITERIA)}")
    if len(set(names)) != len(names):
        raise SpecError("a criterion is named twice")
    return names


@dataclass(frozen=True)
class Layer:
    """A prunable layer: its name, weights in its kernel, and its dense FLOPs."""

    name: str
    params: int
    flops: int


@dataclass(frozen=True)
class CriterionProfile:
    """One criterion's measured curves and layer sensitivity."""

    criterion: str
    curves: dict  # scope → {CURVE_KEYS → list, "layer_sparsity" → [[per layer] per level]}
    sensitivity_top1: list  # [layer][level]
    sensitivity_loss: list  # [layer][level]
    seconds: dict = field(default_factory=dict)  # phase → seconds
    # `engine.channel_allocation.ChannelSensitivity.to_dict()`: each channel group's sensitivity
    channel_sensitivity: dict | None = None

    def curve(self, scope: str) -> dict:
        return self.curves.get(scope, {})


@dataclass(frozen=True)
class Profile:
    """Everything Explore needs about one baseline: plain numbers, no TensorFlow to read."""

    baseline: dict  # the recipe's baseline fields (model, dataset, image_size, …) and its key
    levels: tuple
    layer_levels: tuple
    # top1, top5, loss, params, nonzero_params, gzip_bytes, flops, litert_ms_predicted
    dense: dict
    layers: tuple  # Layer per prunable kernel, in model order
    criteria: dict  # name → CriterionProfile

    @property
    def sizes(self) -> np.ndarray:
        return np.array([layer.params for layer in self.layers], dtype=float)

    def merged(self, other: Profile) -> Profile:
        """This profile with `other`'s criteria added (same baseline and levels)."""
        if (other.baseline.get("key"), other.levels, other.layer_levels) != (
            self.baseline.get("key"),
            self.levels,
            self.layer_levels,
        ):
            raise ValueError("profiles of different baselines or levels do not merge")
        return Profile(
            self.baseline,
            self.levels,
            self.layer_levels,
            self.dense,
            self.layers,
            {**self.criteria, **other.criteria},
        )

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "baseline": self.baseline,
            "levels": list(self.levels),
            "layer_levels": list(self.layer_levels),
            "dense": self.dense,
            "layers": [[layer.name, layer.params, layer.flops] for layer in self.layers],
            "criteria": {
                name: {
                    "curves": c.curves,
                    "sensitivity_top1": c.sensitivity_top1,
                    "sensitivity_loss": c.sensitivity_loss,
                    "seconds": c.seconds,
                    **(
                        {"channel_sensitivity": c.channel_sensitivity}
                        if c.channel_sensitivity
                        else {}
                    ),
                }
                for name, c in self.criteria.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        """A stored profile, checked: every list the length its levels and layers say, every number
        finite."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ResultError("not a pruning profile (schema 1)")
        try:
            levels = check_levels(data["levels"])
            layer_levels = check_levels(data["layer_levels"], "layer levels")
            layers = tuple(Layer(str(n), int(p), int(f)) for n, p, f in data["layers"])
            criteria = {
                name: _criterion(name, raw, len(levels), len(layers), len(layer_levels))
                for name, raw in data["criteria"].items()
            }
            dense = {k: float(v) for k, v in data["dense"].items() if v is not None}
        except (KeyError, TypeError, ValueError, SpecError) as exc:
            raise ResultError(f"the profile does not read: {exc}") from None
        return cls(dict(data["baseline"]), levels, layer_levels, dense, layers, criteria)


def _numbers(values, length: int, what: str) -> list:
    array = np.asarray(values, dtype=float)
    if array.shape[:1] != (length,) or not np.isfinite(array).all():
        raise ResultError(f"{what}: expected {length} finite numbers")
    return array.tolist()


def _criterion(
    name: str, raw: dict, n_levels: int, n_layers: int, n_layer_levels: int
) -> CriterionProfile:
    curves = {}
    for scope, curve in raw["curves"].items():
        if scope in STRUCTURED_SCOPES:
            length = len(curve["level"])
            curves[scope] = {
                k: _numbers(curve[k], length, f"{name} structured {k}") for k in STRUCTURED_KEYS
            }
            continue
        if scope not in SCOPES:
            raise ResultError(f"{name}: unknown scope {scope!r}")
        checked = {k: _numbers(curve[k], n_levels, f"{name} {scope} {k}") for k in CURVE_KEYS}
        if "layer_sparsity" in curve:
            rows = [
                _numbers(row, n_layers, f"{name} {scope} layer sparsity")
                for row in curve["layer_sparsity"]
            ]
            if len(rows) != n_levels:
                raise ResultError(f"{name} {scope}: one row of layer sparsities per level")
            checked["layer_sparsity"] = rows
        curves[scope] = checked
    matrices = []
    for key in ("sensitivity_top1", "sensitivity_loss"):
        rows = raw[key]
        if len(rows) != n_layers:
            raise ResultError(f"{name} {key}: one row per layer")
        matrices.append([_numbers(row, n_layer_levels, f"{name} {key}") for row in rows])
    sensitivity = raw.get("channel_sensitivity")
    if sensitivity is not None:
        sensitivity = _channel_sensitivity(name, sensitivity)
    return CriterionProfile(
        name,
        curves,
        matrices[0],
        matrices[1],
        {str(k): float(v) for k, v in raw.get("seconds", {}).items()},
        sensitivity,
    )


def _channel_sensitivity(name: str, raw) -> dict:
    """A stored channel sensitivity, checked: a row of finite numbers per group and level."""
    if not isinstance(raw, dict):
        raise ResultError(f"{name} channel sensitivity: not an object")
    levels = check_levels(raw.get("levels", []), "channel sensitivity levels")
    groups = raw.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ResultError(f"{name} channel sensitivity: groups must be layer names")
    checked = {"levels": list(levels), "groups": list(groups)}
    for key in ("top1", "loss"):
        rows = raw.get(key)
        if not isinstance(rows, list) or len(rows) != len(groups):
            raise ResultError(f"{name} channel sensitivity {key}: one row per group")
        checked[key] = [_numbers(row, len(levels), f"{name} channel sensitivity") for row in rows]
    for key in ("dense_top1", "dense_loss"):
        checked[key] = _numbers([raw.get(key)], 1, f"{name} channel sensitivity {key}")[0]
    return checked


def at_level(curve: dict, key: str, sparsity: float) -> float:
    """`key` on a curve, linearly interpolated at a sparsity (the curve's measured `sparsity`
    axis)."""
    return float(np.interp(sparsity, curve["sparsity"], curve[key]))


def layer_sparsity_at(curve: dict, sparsity: float) -> np.ndarray:
    """A curve's per-layer sparsities interpolated at an overall sparsity."""
    rows = np.asarray(curve["layer_sparsity"], dtype=float)
    overall = np.asarray(curve["sparsity"], dtype=float)
    return np.array([np.interp(sparsity, overall, rows[:, i]) for i in range(rows.shape[1])])
