"""What the engine knows about each Keras layer type, in one table (Torch-Pruning's per-layer-type
handlers): the tracer, surgery, the cost model, FLOPs, the latency table and the criteria all read
it, so supporting a new layer type is one entry here. A class not in the table is not understood:
its channels stay as they are, and it is never a pruning target.

Roles:
- "producer": makes new channels (Conv1D/2D, SeparableConv2D, Conv2DTranspose, Dense); `width`
  names the config key of their count, `consumes` how they read their input's channels.
- "member": keeps its input's channels and holds per-channel weights (BatchNorm, LayerNormalization
  over channels, LayerScale, depthwise conv).
- "carrier": keeps its input's channels and holds no weights (activations, padding, pooling, …).
- "coupling": joins its inputs element-wise, so their channels are coupled (Add, Multiply, …, and
  `x + y` / `x * y` saved as op-lambda layers).
- "flatten": Flatten (a following Dense reads the flattened channels position by position).
- "input": the model's input.

Pure Python (the layer is only inspected through its attributes and config).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prune_core.data import model_allowlist


@dataclass(frozen=True)
class LayerType:
    role: str
    kernel: str | None = None  # attribute of the weight a criterion scores and a mask zeroes
    width: str | None = None  # producers: config key of the output channel count
    # producers: how they read their input's channels ("conv" | "dense" | "separable")
    consumes: str | None = None
    # producers: the kernel axes holding input and output channels (Conv2DTranspose swaps them)
    in_axis: int = -2
    out_axis: int = -1
    # producers: their cost scales with the input's positions (transposed convs), not the output's
    cost_at_input: bool = False
    # costs no time once converted (folded or removed by the TFLite converter)
    free: bool = False
    #: Why this layer, as configured, must not be pruned through (None: it may).
    refuse: Callable[[object], str | None] = lambda layer: None

    @property
    def passes_channels(self) -> bool:
        """Output channels are the input's (so removing one removes it on both sides)."""
        return self.role in ("member", "carrier")


def _depth_multiplier(layer) -> str | None:
    multiplier = getattr(layer, "depth_multiplier", 1)
    return f"{layer.name} has depth_multiplier {multiplier}" if multiplier != 1 else None


def _channels_last(layer) -> str | None:
    return (
        f"{layer.name} reads channels first"
        if getattr(layer, "data_format", "channels_last") != "channels_last"
        else None
    )


def _transposed(layer) -> str | None:
    if problem := _channels_last(layer):
        return problem
    return f"{layer.name} is a grouped convolution" if getattr(layer, "groups", 1) != 1 else None


def _last_axis_only(layer) -> str | None:
    """LayerNormalization over the channels alone keeps one scale and offset per channel."""
    axis = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    rank = len(layer.input_shape)
    return (
        None
        if [a % rank for a in axis] == [rank - 1]
        else f"{layer.name} normalizes over axes {list(axis)}, not the channels alone"
    )


def _per_channel_scale(layer) -> str | None:
    return f"{layer.name} (Rescaling) has per-channel scales" if np.size(layer.scale) > 1 else None


def _reshape_mixes_channels(layer) -> str | None:
    """A Reshape may only add or drop size-1 axes (e.g. squeeze-excite's (C,) → (1, 1, C))."""
    target = tuple(layer.get_config().get("target_shape", ()))
    in_shape = layer.input_shape
    spatial_in = [d for d in in_shape[1:-1] if d != 1]
    spatial_out = [d for d in target[:-1] if d != 1]
    keeps = bool(target) and target[-1] == in_shape[-1] and spatial_in == spatial_out
    return None if keeps else f"{layer.name} (Reshape) mixes channels with other axes"


_CARRIER = LayerType("carrier")
_FREE_CARRIER = LayerType("carrier", free=True)
_COUPLING = LayerType("coupling")

_CONV = LayerType(
    "producer", kernel="kernel", width="filters", consumes="conv", refuse=_channels_last
)

TYPES: dict[str, LayerType] = {
    "Conv2D": _CONV,  # grouped ones keep the same number of channels in every group
    "Conv1D": _CONV,
    "SeparableConv2D": LayerType(
        "producer",
        kernel="pointwise_kernel",  # weights: [depthwise (kh, kw, cin, m), pointwise, bias]
        width="filters",
        consumes="separable",
        refuse=_channels_last,
    ),
    "Conv2DTranspose": LayerType(
        "producer",
        kernel="kernel",  # (kh, kw, out, in)
        width="filters",
        consumes="conv",
        in_axis=-1,
        out_axis=-2,
        cost_at_input=True,
        refuse=_transposed,
    ),
    "Dense": LayerType("producer", kernel="kernel", width="units", consumes="dense"),
    "DepthwiseConv2D": LayerType("member", kernel="depthwise_kernel", refuse=_depth_multiplier),
    "BatchNormalization": LayerType("member", free=True),
    "LayerNormalization": LayerType("member", refuse=_last_axis_only),
    # ConvNeXt's per-channel scale (tf_keras.applications.convnext.LayerScale)
    "LayerScale": LayerType("member", width="projection_dim"),
    # InceptionResNetV2's residual join `inputs[0] + inputs[1] * scale` (a scalar scale)
    "CustomScaleLayer": _COUPLING,
    "Custom>CustomScaleLayer": _COUPLING,  # the same, named as an `.h5` config names it
    "Reshape": LayerType("carrier", free=True, refuse=_reshape_mixes_channels),
    "Rescaling": LayerType("carrier", refuse=_per_channel_scale),
    "Flatten": LayerType("flatten", free=True),
    "InputLayer": LayerType("input", free=True),
    **{name: _CARRIER for name in model_allowlist.CARRIER_LAYERS},
    **{name: _FREE_CARRIER for name in model_allowlist.FREE_CARRIER_LAYERS},
    **{name: _COUPLING for name in model_allowlist.JOIN_LAYERS},
}


#: Op-lambda layers (`x + y`, `tf.nn.relu(x)` in a functional model) by the function they call:
#: element-wise ones keep channels like their layer forms.
OP_TYPES: dict[str, LayerType] = {
    **{name: _COUPLING for name in model_allowlist.OP_JOINS},
    **{name: _CARRIER for name in model_allowlist.OP_ELEMENTWISE},
}


def _op_function(layer) -> str | None:
    if isinstance(layer, dict):  # a layer's entry in a model config
        return (layer.get("config") or {}).get("function")
    return layer.get_config().get("function")


def type_of(layer) -> LayerType | None:
    """The table's entry for a layer, a class name or a config entry; None when the type is not
    understood."""
    if isinstance(layer, str):
        return TYPES.get(layer)
    cls = layer.get("class_name") if isinstance(layer, dict) else type(layer).__name__
    if cls == "TFOpLambda":
        return OP_TYPES.get(_op_function(layer))
    return TYPES.get(cls)


def kernel_of(layer):
    """The prunable kernel variable of a layer (None for layers without one)."""
    kind = type_of(layer)
    return getattr(layer, kind.kernel) if kind is not None and kind.kernel else None


def positions(layer) -> int:
    """How many times a layer's kernel is applied to one example: the output's spatial positions
    (the input's for a transposed convolution); 1 for a Dense on a vector."""
    kind = type_of(layer)
    shape = layer.input_shape if kind is not None and kind.cost_at_input else layer.output_shape
    return int(np.prod([d for d in shape[1:-1]])) if len(shape) > 2 else 1


def is_producer(layer) -> bool:
    kind = type_of(layer)
    return kind is not None and kind.role == "producer"
