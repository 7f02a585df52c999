"""Channel dependency groups of a Keras functional model (structured pruning, step 1 of 3).

Every tensor's last axis is a "channel space". A Conv2D or Dense layer *produces* a new space (its
filters) and *consumes* its input's; pass-through layers (BatchNorm, activations, padding, dropout,
pooling, depthwise conv, a Reshape that only adds size-1 axes) keep their input's space; Add and
Multiply (or `x + y` saved as an op-lambda) *couple* the spaces they join. A grouped convolution
splits both its spaces into equal blocks: a group keeps the same number of channels in each block.
Coupled spaces form a group: removing channel c means
removing it from every producer, consumer and member of the group at once (inside an MBConv block:
expand conv ↔ BN ↔ depthwise ↔ BN ↔ SE-expand ↔ multiply ↔ project-conv input; residual Adds couple
a whole stage).

A group is *fixed* (never pruned) when it touches the model's input or output, or any layer this
module does not understand — named in `fixed_reason`, never silently mis-pruned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from prune_core.engine import layers
from prune_core.errors import ModelError


@dataclass
class Group:
    """Channels that must be removed together."""

    id: int
    size: int
    producers: list = field(default_factory=list)  # Conv2D / Dense whose output channels these are
    # (layer, "conv" | "dense" | "flatten-dense") reading them
    consumers: list = field(default_factory=list)
    members: list = field(default_factory=list)  # BatchNorm / depthwise with per-channel weights
    # Reshape layers whose target shape ends in these channels
    reshapes: list = field(default_factory=list)
    # weightless layers whose output holds them (cost model only)
    carriers: list = field(default_factory=list)
    fixed_reason: str | None = None
    # equal blocks (a grouped convolution's groups) that must each keep the same number of channels
    blocks: int = 1

    @property
    def prunable(self) -> bool:
        return self.fixed_reason is None and bool(self.producers)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "size": self.size,
            "producers": self.producers,
            "consumers": [list(c) for c in self.consumers],
            "members": self.members,
            "reshapes": self.reshapes,
            "carriers": self.carriers,
            "fixed_reason": self.fixed_reason,
            "blocks": self.blocks,
        }


class _Spaces:
    """Union-find over channel spaces, remembering why a space must stay fixed."""

    def __init__(self):
        self.parent, self.fixed, self.size = [], {}, []
        self.blocks: dict = {}  # root → equal blocks its channels fall into

    def new(self, size: int, fixed: str | None = None) -> int:
        self.parent.append(len(self.parent))
        self.size.append(size)
        if fixed:
            self.fixed[len(self.parent) - 1] = fixed
        return len(self.parent) - 1

    def find(self, s: int) -> int:
        while self.parent[s] != s:
            self.parent[s] = self.parent[self.parent[s]]
            s = self.parent[s]
        return s

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            if rb in self.fixed and ra not in self.fixed:
                self.fixed[ra] = self.fixed[rb]
            if rb in self.blocks:
                self.split(ra, self.blocks.pop(rb))
        return ra

    def split(self, s: int, blocks: int) -> None:
        root = self.find(s)
        self.blocks[root] = math.lcm(self.blocks.get(root, 1), blocks)

    def fix(self, s: int, reason: str) -> None:
        self.fixed.setdefault(self.find(s), reason)


def _tensor_refs(value, known: set) -> list:
    """Every [layer, node, index] reference to a known layer inside call arguments."""
    if isinstance(value, (list, tuple)):
        if (
            len(value) >= 3
            and isinstance(value[0], str)
            and value[0] in known
            and isinstance(value[1], int)
        ):
            return [(value[0], value[1], value[2])] + _tensor_refs(list(value[3:]), known)
        return [r for v in value for r in _tensor_refs(v, known)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _tensor_refs(v, known)]
    return []


def _op_inputs(nodes, known: set):
    """An op-lambda call `f(x, y=…)`: ([x] or [x, y], every tensor referenced); None when the other
    operand is neither a tensor nor a plain number (a per-channel constant is not followed)."""
    everything = _tensor_refs(nodes, known)
    call = nodes[0] if len(nodes) == 1 else None  # [layer, node, index, keyword arguments]
    if not (isinstance(call, list) and len(call) == 4 and isinstance(call[3], dict)):
        return None, everything
    if call[0] not in known:
        return None, everything
    positional = [(call[0], call[1], call[2])]
    extra = {k: v for k, v in call[3].items() if k != "name"}
    if set(extra) - {"y"}:
        return None, everything
    other = extra.get("y")
    refs = _tensor_refs([other], known) if other is not None else []
    if refs and len(refs) == 1 and list(other[:3]) == list(refs[0]):
        positional.append(refs[0])
    elif other is not None and not isinstance(other, (int, float)):
        return None, everything
    if len(everything) != len(positional):
        return None, everything
    return positional, everything


def _inputs(layer_config, known: set):
    """(positional input tensors, every tensor the call references). The first is None for calls
    this module does not understand: a shared layer, or tensors passed as keyword arguments (`x + y`
    recorded as TFOpLambda keeps `y` there)."""
    nodes = layer_config.get("inbound_nodes") or []
    if not nodes:
        return [], []
    if layer_config.get("class_name") == "TFOpLambda":
        return _op_inputs(nodes, known)
    everything = _tensor_refs(nodes, known)
    node = nodes[0]
    if (
        len(nodes) > 1
        or isinstance(node, dict)
        or not all(isinstance(t, (list, tuple)) for t in node)
    ):
        return None, everything
    positional = [(t[0], t[1], t[2]) for t in node]
    if len(everything) != len(positional):
        return None, everything
    return positional, everything


def trace(model) -> list[Group]:
    """The channel groups of `model` (a functional tf_keras model), fixed ones included."""
    config = model.get_config()
    if "layers" not in config or "input_layers" not in config:
        raise ModelError("structured pruning needs a functional Keras model (not a subclassed one)")
    spaces = _Spaces()
    # (layer, node, index) → space; flatten output space → (input space, positions)
    tensor_space, flattened, tensor_width = {}, {}, {}
    roles = []  # (space, kind, layer name, extra)
    known = {entry["name"] for entry in config["layers"]}
    for entry in config["layers"]:
        name, cls = entry["name"], entry["class_name"]
        layer = model.get_layer(name)
        inputs, referenced = _inputs(entry, known)
        out_shape = layer.output_shape if not isinstance(layer.output_shape, list) else None
        width = out_shape[-1] if out_shape else None
        if cls == "InputLayer":
            tensor_space[(name, 0, 0)] = spaces.new(width or 0, "model input")
            tensor_width[(name, 0, 0)] = width
            continue
        label = f"{entry['config'].get('function')} (op-lambda)" if cls == "TFOpLambda" else cls
        if inputs is None or any(t not in tensor_space for t in inputs):
            how = (
                "has an operand that is neither a tensor nor a number"
                if cls == "TFOpLambda"
                else "is shared or called in a way not understood"
            )
            for t in referenced:
                if t in tensor_space:
                    spaces.fix(tensor_space[t], f"{name} ({label}) {how}")
            tensor_space[(name, 0, 0)] = spaces.new(
                width or 0, f"output of {name} ({label}), not understood"
            )
            continue
        ins = [tensor_space[t] for t in inputs]
        kind = layers.type_of(entry)
        if cls == "TFOpLambda" and kind is not None and kind.role == "coupling" and len(ins) == 1:
            kind = layers.type_of("Activation")  # `x * 0.5`: one tensor and a number
        # only a Dense can read a flattened map channel by channel
        if kind is None or kind.consumes != "dense":
            for s in ins:
                if s in flattened:
                    spaces.fix(flattened[s][0], f"{name} ({label}) reads a Flatten output")
        arity_ok = len(ins) >= 2 if kind is not None and kind.role == "coupling" else len(ins) == 1
        refused = kind.refuse(layer) if kind is not None and arity_ok else None
        if (
            kind is None
            or not arity_ok
            or refused
            or kind.role == "input"
            or (kind.role == "flatten" and None in layer.input_shape[1:])
        ):
            reason = refused or f"{name} ({label}) is not understood by structured pruning"
            for s in ins:
                spaces.fix(s, reason)
            out = spaces.new(
                width or 0,
                f"output of {name} ({label})" + (f": {refused}" if refused else ", not understood"),
            )
        elif kind.role == "producer":
            if kind.consumes == "dense" and ins[0] in flattened:
                roles.append((flattened[ins[0]][0], "consumer", name, "flatten-dense"))
            else:
                roles.append((ins[0], "consumer", name, kind.consumes))
            out = spaces.new(width)
            roles.append((out, "producer", name, None))
            if getattr(layer, "groups", 1) > 1:  # each group reads and makes its own channels
                spaces.split(ins[0], layer.groups)
                spaces.split(out, layer.groups)
        elif kind.role == "flatten":
            out = spaces.new(width)
            flattened[out] = (ins[0], int(np.prod(layer.input_shape[1:-1])))
        elif kind.passes_channels:
            out = ins[0]
            roles.append((out, "member" if kind.role == "member" else "carrier", name, None))
            if cls == "Reshape":
                roles.append((out, "reshape", name, None))
        else:  # coupling
            widths = {tensor_width.get(t) for t in inputs}
            out = ins[0]
            for other in ins[1:]:
                out = spaces.union(out, other)
            if len(widths) != 1:  # broadcasting across channels (C × 1): keep every side as it is
                spaces.fix(out, f"{name} ({label}) broadcasts across channels")
            roles.append((out, "carrier", name, None))
        tensor_space[(name, 0, 0)] = out
        tensor_width[(name, 0, 0)] = width
    for output in config["output_layers"]:
        spaces.fix(tensor_space[tuple(output)], "model output")
    groups: dict[int, Group] = {}
    for space, kind, name, extra in roles:
        root = spaces.find(space)
        group = groups.setdefault(root, Group(id=len(groups), size=spaces.size[root]))
        if kind == "producer":
            group.producers.append(name)
            group.size = model.get_layer(name).output_shape[-1]
        elif kind == "consumer":
            group.consumers.append((name, extra))
        elif kind == "member":
            group.members.append(name)
        elif kind == "carrier":
            group.carriers.append(name)
        else:
            group.reshapes.append(name)
    for root, group in groups.items():
        group.fixed_reason = spaces.fixed.get(root)
        group.blocks = spaces.blocks.get(root, 1)
        if group.fixed_reason is None and group.size % group.blocks:
            group.fixed_reason = (
                f"the {group.size} channels of {group.producers[0] if group.producers else '?'} "
                f"do not split evenly into the {group.blocks} groups of its grouped convolutions"
            )
    return sorted(groups.values(), key=lambda g: g.id)


def unprunable(groups, shown: int = 3) -> str | None:
    """Why no channel of the model can be removed, naming the layers that hold most channels
    back, and that single weights still can; None when some group can be pruned."""
    if any(g.prunable for g in groups):
        return None
    reasons: dict = {}
    for g in groups:
        if g.fixed_reason and g.fixed_reason not in ("model input", "model output"):
            reasons[g.fixed_reason] = reasons.get(g.fixed_reason, 0) + g.size
    named = sorted(reasons, key=lambda r: -reasons[r])[:shown]
    return (
        "no channel of this model can be removed structurally"
        + (f" ({'; '.join(named)})" if named else "")
        + "; single weights can still be pruned (granularity unstructured)"
    )


def layer_roles(groups) -> dict:
    """layer name → {"out": group, "in": (group, kind)} for every layer a group touches."""
    roles: dict = {}
    for g in groups:
        for name in g.producers:
            roles.setdefault(name, {})["out"] = g
        for name in g.members:
            roles.setdefault(name, {}).update(out=g, member=True)
        for name in g.carriers:
            roles.setdefault(name, {})["out"] = g
        for name, kind in g.consumers:
            roles.setdefault(name, {})["in"] = (g, kind)
    return roles
