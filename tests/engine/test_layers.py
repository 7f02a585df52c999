"""Tests for prune_core.engine.layers: the table of layer types the engine understands."""

import pytest

from prune_core.engine import layers, models, structure
from prune_core.engine.keras_env import keras


def test_every_efficientnet_layer_type_is_in_the_table_except_normalization():
    model = models.build("efficientnet-compact", 10, 32)
    unknown = {type(layer).__name__ for layer in model.layers if layers.type_of(layer) is None}
    # its per-channel mean/variance sit on the fixed input group
    assert unknown == {"Normalization"}


def test_kernels_are_found_by_the_table(tiny_model):
    assert layers.kernel_of(tiny_model.get_layer("conv1")) is tiny_model.get_layer("conv1").kernel
    assert (
        layers.kernel_of(tiny_model.get_layer("dw1"))
        is tiny_model.get_layer("dw1").depthwise_kernel
    )
    assert layers.kernel_of(tiny_model.get_layer("bn1")) is None
    assert layers.is_producer(tiny_model.get_layer("fc1")) and not layers.is_producer(
        tiny_model.get_layer("dw1")
    )


@pytest.mark.parametrize(
    "layer, reason",
    [
        (keras.layers.Permute((2, 1, 3), name="perm"), "perm (Permute) is not understood"),
        (
            keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw2"),
            "dw2 has depth_multiplier 2",
        ),
        (
            keras.layers.LayerNormalization(axis=[1, 2, 3], name="ln"),
            "ln normalizes over axes [1, 2, 3]",
        ),
    ],
)
def test_a_layer_the_table_refuses_keeps_its_channels_and_says_why(layer, reason):
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(8, 1, name="before")(inp)
    x = layer(x)
    x = keras.layers.Conv2D(8, 1, name="after")(x)
    model = keras.Model(
        inp, keras.layers.Dense(3, name="predictions")(keras.layers.GlobalAveragePooling2D()(x))
    )
    group = next(g for g in structure.trace(model) if "before" in g.producers)
    assert not group.prunable and reason in group.fixed_reason
