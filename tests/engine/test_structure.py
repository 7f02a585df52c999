"""Tests for prune_core.engine.structure: which channels are coupled, and which must stay."""

import pytest

from prune_core.engine import models, structure
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError


def _by_producer(groups, name):
    return next(g for g in groups if name in g.producers)


def test_mbconv_expanded_channels_form_one_group_with_se_expand_and_project_input():
    groups = structure.trace(models.build("efficientnet-compact", 10, 32))
    g = _by_producer(groups, "block2a_expand_conv")
    assert g.prunable and g.size == 48
    assert set(g.producers) == {"block2a_expand_conv", "block2a_se_expand"}
    assert set(g.members) == {"block2a_expand_bn", "block2a_dwconv", "block2a_bn"}
    assert {c for c, _ in g.consumers} == {"block2a_se_reduce", "block2a_project_conv"}
    assert g.reshapes == ["block2a_se_reshape"]
    # squeeze-excite reduce outputs: a group of their own
    se = _by_producer(groups, "block2a_se_reduce")
    assert se.consumers == [("block2a_se_expand", "conv")] and se.prunable


def test_residual_adds_couple_block_outputs_across_a_stage():
    groups = structure.trace(models.build("efficientnet-b0", 10, 32))
    stage = _by_producer(groups, "block2a_project_conv")
    assert "block2b_project_conv" in stage.producers  # joined by block2b_add
    assert {"block2a_project_bn", "block2b_project_bn"} <= set(stage.members)
    assert {"block2b_expand_conv", "block3a_expand_conv"} <= {c for c, _ in stage.consumers}


def test_input_and_output_channels_are_fixed():
    groups = structure.trace(models.build("tiny-cnn", 3, 16))
    head = _by_producer(groups, models.HEAD_NAME)
    assert not head.prunable and head.fixed_reason == "model output"
    first = next(g for g in groups if ("conv1", "conv") in g.consumers)
    assert not first.prunable  # the RGB input


def test_a_layer_it_does_not_understand_is_named_and_its_channels_stay():
    inp = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 1, name="a")(inp)
    b = keras.layers.Conv2D(4, 1, name="b")(inp)
    x = keras.layers.Concatenate(name="cat")([a, b])
    x = keras.layers.Conv2D(6, 1, name="c")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="predictions")(x))
    groups = structure.trace(model)
    for producer in ("a", "b"):
        g = _by_producer(groups, producer)
        assert not g.prunable and "cat (Concatenate)" in g.fixed_reason
    assert _by_producer(groups, "c").prunable


def test_flatten_then_dense_is_understood():
    inp = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(5, 3, activation="relu", name="conv")(inp)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="predictions")(x))
    g = _by_producer(structure.trace(model), "conv")
    assert g.prunable and g.consumers == [("predictions", "flatten-dense")]


def test_subclassed_models_are_refused_clearly():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ModelError, match="functional"):
        structure.trace(Net())


def test_python_operators_couple_like_layers_and_channel_broadcasts_stay_fixed():
    inp = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 1, name="a")(inp)
    b = keras.layers.Conv2D(4, 1, name="b")(inp)
    summed = a + b  # recorded as a TFOpLambda with `b` in its keyword arguments
    gate = keras.layers.Conv2D(1, 1, name="gate")(inp)
    x = keras.layers.Multiply(name="broadcast")([keras.layers.Conv2D(4, 1, name="c")(summed), gate])
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="predictions")(x))
    groups = structure.trace(model)
    joined = _by_producer(groups, "a")
    assert joined.prunable and joined is _by_producer(groups, "b")
    for producer in ("c", "gate"):
        group = _by_producer(groups, producer)
        assert not group.prunable and "broadcasts across channels" in group.fixed_reason
