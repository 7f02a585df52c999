"""What the engine knows about each Keras layer type, in one table (Torch-Pruning's per-layer-type
handlers): the tracer, surgery, the cost model, FLOPs, the latency table and the criteria all read
it, so supporting a new layer type is one entry here. A class not in the table is not understood:
its channels stay as they are, and it is never a pruning target.

Roles:
- "producer": makes new channels (Conv2D, Dense); `width` names the config key of their count.
- "member": keeps its input's channels and holds per-channel weights (BatchNorm, depthwise conv).
- "carrier": keeps its input's channels and holds no weights (activations, padding, pooling, …).
- "coupling": joins its inputs element-wise, so their channels are coupled (Add, Multiply, …).
- "flatten": Flatten (a following Dense reads the flattened channels position by position).
- "input": the model's input.

Pure Python (the layer is only inspected through its attributes and config).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerType:
    role: str
    kernel: str | None = None  # attribute of the weight a criterion scores and a mask zeroes
    width: str | None = None  # producers: config key of the output channel count
    # producers: how they read their input's channels ("conv" | "dense")
    consumes: str | None = None
    # costs no time once converted (folded or removed by the TFLite converter)
    free: bool = False
    #: Why this layer, as configured, must not be pruned through (None: it may).
    refuse: Callable[[object], str | None] = lambda layer: None

    @property
    def passes_channels(self) -> bool:
        """Output channels are the input's (so removing one removes it on both sides)."""
        return self.role in ("member", "carrier")


def _grouped_conv(layer) -> str | None:
    return f"{layer.name} is a grouped convolution" if getattr(layer, "groups", 1) != 1 else None


def _depth_multiplier(layer) -> str | None:
    multiplier = getattr(layer, "depth_multiplier", 1)
    return f"{layer.name} has depth_multiplier {multiplier}" if multiplier != 1 else None


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

TYPES: dict[str, LayerType] = {
    "Conv2D": LayerType(
        "producer", kernel="kernel", width="filters", consumes="conv", refuse=_grouped_conv
    ),
    "Dense": LayerType("producer", kernel="kernel", width="units", consumes="dense"),
    "DepthwiseConv2D": LayerType("member", kernel="depthwise_kernel", refuse=_depth_multiplier),
    "BatchNormalization": LayerType("member", free=True),
    "Reshape": LayerType("carrier", free=True, refuse=_reshape_mixes_channels),
    "Rescaling": LayerType("carrier", refuse=_per_channel_scale),
    "Flatten": LayerType("flatten", free=True),
    "InputLayer": LayerType("input", free=True),
    **{
        name: _CARRIER
        for name in (
            "Activation",
            "ReLU",
            "LeakyReLU",
            "ELU",
            "ZeroPadding2D",
            "Cropping2D",
            "MaxPooling2D",
            "AveragePooling2D",
            "GlobalAveragePooling2D",
            "GlobalMaxPooling2D",
            "UpSampling2D",
        )
    },
    **{
        name: _FREE_CARRIER
        for name in ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Identity")
    },
    **{
        name: _COUPLING for name in ("Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract")
    },
}


def type_of(layer) -> LayerType | None:
    """The table's entry for a layer (or a class name); None when the type is not understood."""
    return TYPES.get(layer if isinstance(layer, str) else type(layer).__name__)


def kernel_of(layer):
    """The prunable kernel variable of a layer (None for layers without one)."""
    kind = type_of(layer)
    return getattr(layer, kind.kernel) if kind is not None and kind.kernel else None


def is_producer(layer) -> bool:
    kind = type_of(layer)
    return kind is not None and kind.role == "producer"
