"""Structured surgery (step 3 of 3): build a new, smaller dense model with chosen channels gone.

Plan, then apply: a `Plan` says which channels of which groups stay (plain data, stored with the
run); `apply` rebuilds the architecture from the model's config with fewer filters / units, then
copies every weight sliced to the kept channels. The input model is never touched, and the result is
a plain Keras model that saves and loads with no custom layers."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from prune_core.engine import layers
from prune_core.engine.keras_env import keras, stock_layers
from prune_core.engine.structure import Group


@dataclass(frozen=True)
class Plan:
    """Which channels of each group stay. Groups not listed keep all their channels."""

    groups: tuple
    keep: dict  # group id → sorted kept channel indices

    def kept(self, group: Group) -> np.ndarray:
        return np.asarray(self.keep.get(group.id, range(group.size)), dtype=int)

    @property
    def channels_removed(self) -> int:
        return sum(g.size - len(self.kept(g)) for g in self.groups)

    def to_dict(self) -> dict:
        return {
            "groups": [
                {**g.to_dict(), "keep": self.kept(g).tolist()} for g in self.groups if g.prunable
            ]
        }

    def validate(self) -> None:
        by_id = {g.id: g for g in self.groups}
        for gid, kept in self.keep.items():
            group = by_id.get(gid)
            if group is None or not group.prunable:
                raise ValueError(
                    f"group {gid} cannot be pruned ({group.fixed_reason if group else 'unknown'})"
                )
            kept = np.asarray(kept)
            if kept.size == 0:
                raise ValueError(f"group {gid} would lose every channel")
            if kept.min() < 0 or kept.max() >= group.size or len(set(kept.tolist())) != kept.size:
                raise ValueError(
                    f"group {gid}: kept channels must be distinct indices below {group.size}"
                )


def _index(plan: Plan):
    """layer name → (output kept indices or None, input kept indices or None, input group size,
    kind)."""
    out_keep, in_keep = {}, {}
    for g in plan.groups:
        kept = plan.kept(g)
        if len(kept) == g.size:
            continue
        for name in g.producers:
            out_keep[name] = kept
        for name in g.members:
            out_keep[name] = kept
        for name, kind in g.consumers:
            in_keep[name] = (kept, g.size, kind)
        for name in g.reshapes:
            out_keep[name] = kept
    return out_keep, in_keep


def _grouped(kernel, groups: int, in_kept, out_kept):
    """A grouped kernel (…, cin / groups, cout) cut to kept input and output channels, each kept
    set holding the same number of channels in every group (so the layer stays grouped)."""
    per_in, per_out = kernel.shape[-2], kernel.shape[-1] // groups
    blocks = []
    for g in range(groups):
        rows = np.arange(per_in)
        if in_kept is not None:
            rows = in_kept[in_kept // per_in == g] - g * per_in
        cols = np.arange(g * per_out, (g + 1) * per_out)
        if out_kept is not None:
            cols = out_kept[out_kept // per_out == g]
        blocks.append(kernel[..., rows, :][..., cols])
    return np.concatenate(blocks, axis=-1)


def _slice(layer, weights, out_kept, in_info):
    kind = layers.type_of(layer)
    if not weights or kind is None:
        return weights
    bias = [np.take(w, out_kept, axis=-1) if out_kept is not None else w for w in weights[1:]]
    if kind.role == "producer" and kind.consumes == "separable":
        depthwise, pointwise = weights[0], weights[1]  # (kh, kw, cin, m), (1, 1, cin · m, cout)
        if in_info is not None:
            kept, m = in_info[0], depthwise.shape[-1]
            depthwise = np.take(depthwise, kept, axis=2)
            pointwise = np.take(pointwise, (kept[:, None] * m + np.arange(m)).ravel(), axis=2)
        if out_kept is not None:
            pointwise = np.take(pointwise, out_kept, axis=-1)
        return [depthwise, pointwise] + bias[1:]
    if kind.role == "producer":
        kernel = weights[0]
        if getattr(layer, "groups", 1) > 1:
            in_kept = in_info[0] if in_info is not None else None
            return [_grouped(kernel, layer.groups, in_kept, out_kept)] + bias
        if in_info is not None:
            kept, size, how = in_info
            if how == "flatten-dense":
                positions = kernel.shape[0] // size
                rows = (np.arange(positions)[:, None] * size + kept[None, :]).ravel()
                kernel = kernel[rows]
            else:
                kernel = np.take(kernel, kept, axis=kernel.ndim + kind.in_axis)
        if out_kept is not None:
            kernel = np.take(kernel, out_kept, axis=kernel.ndim + kind.out_axis)
        return [kernel] + bias
    if kind.role == "member" and out_kept is not None:
        if kind.kernel:  # a depthwise kernel (kh, kw, channels, 1): channels on axis 2
            return [np.take(weights[0], out_kept, axis=2)] + bias
        return [np.take(w, out_kept, axis=-1) for w in weights]
    return weights


def apply(model, plan: Plan):
    """A new model with the plan's channels removed; `model` is left exactly as it was."""
    plan.validate()
    out_keep, in_keep = _index(plan)
    config = copy.deepcopy(model.get_config())
    for entry in config["layers"]:
        name, cls = entry["name"], entry["class_name"]
        if name not in out_keep:
            continue
        n = int(len(out_keep[name]))
        kind = layers.type_of(entry)
        if kind is not None and kind.width:
            entry["config"][kind.width] = n
        elif cls == "Reshape":
            entry["config"]["target_shape"] = tuple(entry["config"]["target_shape"][:-1]) + (n,)
    smaller = keras.Model.from_config(config, custom_objects=stock_layers())
    for layer in model.layers:
        new = smaller.get_layer(layer.name)
        new.set_weights(
            _slice(layer, layer.get_weights(), out_keep.get(layer.name), in_keep.get(layer.name))
        )
    return smaller
