"""Structured pruning through every layer family the table knows beyond plain convs: separable and
grouped convolutions, op-lambda arithmetic (`x + y`, `x * s`), LayerNormalization and LayerScale
(ConvNeXt), Conv1D, Conv2DTranspose and nested models. Each reduced model is checked against the
oracle: the original model with the removed channels silenced."""

import numpy as np
import pytest

from prune_core.engine import channels, criteria, layers, metrics, models, structure, surgery
from prune_core.engine.keras_env import keras, stock_layers, tf
from tests.engine.helpers import silence_removed_channels
from tests.engine.test_surgery import _randomise

L = keras.layers


def separable():
    inp = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", name="stem")(inp)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.ReLU()(x)
    x = L.SeparableConv2D(10, 3, padding="same", depth_multiplier=2, name="sep1")(x)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.SeparableConv2D(6, 3, strides=2, name="sep2")(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def grouped():
    inp = keras.Input((10, 10, 3))
    x = L.Conv2D(8, 3, padding="same", name="stem")(inp)
    x = L.Conv2D(12, 3, padding="same", groups=4, name="g4")(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.Activation("relu")(x)
    x = L.Conv2D(8, 1, groups=2, name="g2")(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def operators():
    """A residual join and a gate written as Python operators (op-lambda layers)."""
    inp = keras.Input((10, 10, 3))
    a = L.Conv2D(8, 3, padding="same", name="a")(inp)
    b = L.Conv2D(8, 3, padding="same", name="b")(tf.nn.relu(a))
    x = (a + b) * 0.5
    gate = L.Dense(8, activation="sigmoid", name="gate")(L.GlobalAveragePooling2D()(x))
    x = x * L.Reshape((1, 1, 8))(gate)
    x = L.Conv2D(6, 1, name="c")(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def convnext_like():
    """Patchify stem, LayerNorm, depthwise 3×3, pointwise Dense MLP, LayerScale, residual add."""
    layer_scale = stock_layers()["LayerScale"]
    inp = keras.Input((16, 16, 3))
    x = L.Conv2D(8, 2, strides=2, name="stem")(inp)
    x = L.LayerNormalization(epsilon=1e-6, name="stem_ln")(x)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = L.LayerNormalization(epsilon=1e-6, name="ln")(y)
    y = L.Dense(16, name="pw1")(y)
    y = L.Activation("gelu")(y)
    y = L.Dense(8, name="pw2")(y)
    y = layer_scale(0.5, 8, name="scale")(y)
    x = L.Add()([x, y])
    x = L.GlobalAveragePooling2D()(x)
    x = L.LayerNormalization(epsilon=1e-6, name="head_ln")(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def inception_resnet_like():
    """Inception-ResNet's residual join `x + branch * scale` (the stock CustomScaleLayer)."""
    scale = stock_layers()["CustomScaleLayer"]
    inp = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", name="stem")(inp)
    b1 = L.Conv2D(4, 1, name="b1")(x)
    b2 = L.Conv2D(4, 3, padding="same", name="b2")(L.Conv2D(3, 1, name="b2_in")(x))
    up = L.Conv2D(8, 1, name="up")(L.Concatenate(name="mixed")([b1, b2]))
    x = L.Activation("relu")(scale(0.17, name="join")([x, up]))
    x = L.GlobalAveragePooling2D()(L.Conv2D(6, 1, name="head")(x))
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def conv1d():
    inp = keras.Input((20, 3))
    x = L.Conv1D(8, 3, name="c1")(inp)
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling1D()(x)
    x = L.Conv1D(6, 3, groups=2, name="c2")(x)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def transposed():
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(8, 3, strides=2, padding="same", name="down")(inp)
    x = L.Conv2DTranspose(6, 3, strides=2, padding="same", name="up")(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.Conv2D(4, 1, name="mix")(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(3, name="predictions")(x))


def _plan(model, fraction=0.5, seed=1):
    groups = structure.trace(model)
    rng = np.random.default_rng(seed)
    scores = {g.id: rng.random(g.size) for g in groups if g.prunable}
    return channels.select(groups, scores, ratio=fraction)


@pytest.mark.parametrize(
    "build, prunable",
    [
        (separable, {"stem", "sep1", "sep2"}),
        (grouped, {"stem", "g4", "g2"}),
        (operators, {"a", "b", "gate", "c"}),
        (conv1d, {"c1", "c2"}),
        (transposed, {"down", "up", "mix"}),
        (inception_resnet_like, {"stem", "up", "b2_in", "head"}),  # concat inputs stay
    ],
)
def test_the_reduced_model_equals_the_original_with_those_channels_silenced(build, prunable):
    model = _randomise(build())
    groups = structure.trace(model)
    assert {p for g in groups if g.prunable for p in g.producers} == prunable, [
        g.fixed_reason for g in groups
    ]
    plan = _plan(model)
    smaller = surgery.apply(model, plan)
    x = np.random.default_rng(2).normal(0, 1, (3,) + model.input_shape[1:]).astype(np.float32)
    np.testing.assert_allclose(
        smaller(x, training=False).numpy(),
        silence_removed_channels(model, plan)(x, training=False).numpy(),
        atol=1e-4,
        rtol=1e-4,
    )
    # the cost model predicts the reduced model's FLOPs and parameters exactly
    counts = {g.id: len(plan.kept(g)) for g in groups if g.prunable}
    predicted = channels.CostModel(model, groups).evaluate(counts)
    assert predicted["params"] == smaller.count_params()
    assert (
        round(predicted["flops"]) == metrics.flops(smaller)["flops"] < metrics.flops(model)["flops"]
    )


def test_grouped_convolutions_keep_the_same_channels_in_every_group():
    model = _randomise(grouped())
    group = next(g for g in structure.trace(model) if g.producers == ["g4"])
    assert group.blocks == 4  # g4 makes 4 groups; g2 reads them in 2: every 4th block balanced
    smaller = surgery.apply(model, _plan(model, fraction=0.5))
    assert smaller.get_layer("g4").filters == 8 and smaller.get_layer("g4").groups == 4
    assert smaller.get_layer("g2").kernel.shape[-2] * 2 == 8  # reads 4 of 8 per group


def test_channels_read_by_two_grouped_convolutions_stay_balanced_for_both():
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(12, 3, name="twelve")(inp)
    a = L.Conv2D(4, 1, groups=2, name="pairs")(x)
    b = L.Conv2D(6, 1, groups=3, name="triples")(x)
    x = L.Concatenate()([L.GlobalAveragePooling2D()(a), L.GlobalAveragePooling2D()(b)])
    model = _randomise(keras.Model(inp, L.Dense(2, name="predictions")(x)))
    group = next(g for g in structure.trace(model) if g.producers == ["twelve"])
    assert group.prunable and group.blocks == 6
    plan = channels.select([group], {group.id: np.arange(12.0)}, ratio=0.5)
    assert plan.kept(group).tolist() == [1, 3, 5, 7, 9, 11]  # the better of each pair
    smaller = surgery.apply(model, plan)
    x = np.random.default_rng(0).normal(0, 1, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(
        smaller(x).numpy(), silence_removed_channels(model, plan)(x).numpy(), atol=1e-4, rtol=1e-4
    )


def test_convnext_blocks_lose_channels_through_layernorm_and_layerscale():
    model = _randomise(convnext_like())
    groups = structure.trace(model)
    residual = next(g for g in groups if "stem" in g.producers)
    assert residual.prunable, residual.fixed_reason
    assert {"stem_ln", "ln", "scale", "dw"} <= set(residual.members) and "pw2" in (
        residual.producers
    )
    plan = _plan(model)
    smaller = surgery.apply(model, plan)
    kept = plan.kept(residual)
    np.testing.assert_array_equal(
        smaller.get_layer("scale").get_weights()[0], model.get_layer("scale").get_weights()[0][kept]
    )
    assert smaller.get_layer("scale").projection_dim == len(kept)
    assert smaller.count_params() < model.count_params()
    x = np.random.default_rng(0).normal(0, 1, (2, 16, 16, 3)).astype(np.float32)
    assert np.isfinite(smaller(x).numpy()).all()


def test_a_layernorm_over_other_axes_keeps_its_channels():
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(6, 3, name="c")(inp)
    x = L.LayerNormalization(axis=[1, 2, 3], name="ln_all")(x)
    model = keras.Model(inp, L.Dense(2)(L.GlobalAveragePooling2D()(x)))
    group = next(g for g in structure.trace(model) if g.producers == ["c"])
    assert not group.prunable and "ln_all normalizes over axes" in group.fixed_reason


def test_a_per_channel_constant_operand_keeps_its_channels():
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3, name="c")(inp)
    x = x * tf.constant([1.0, 2.0, 3.0, 4.0])
    model = keras.Model(inp, L.Dense(2)(L.GlobalAveragePooling2D()(x)))
    group = next(g for g in structure.trace(model) if g.producers == ["c"])
    assert not group.prunable and "op-lambda" in group.fixed_reason


def test_separable_and_transposed_kernels_are_weight_pruning_targets():
    names = {t.name for t in criteria.find_targets(separable())}
    assert {"stem", "sep1", "sep2"} <= names
    assert layers.kernel_of(separable().get_layer("sep1")).name.startswith("sep1/pointwise")
    assert "up" in {t.name for t in criteria.find_targets(transposed())}


def test_a_nested_backbone_is_unfolded_into_one_graph(tmp_path):
    inner_in = keras.Input((12, 12, 3))
    h = L.Conv2D(8, 3, name="b_conv")(inner_in)
    h = L.BatchNormalization(name="b_bn")(h)
    backbone = keras.Model(inner_in, L.ReLU(name="b_relu")(h), name="backbone")
    inp = keras.Input((12, 12, 3))
    x = L.GlobalAveragePooling2D(name="gap")(backbone(inp))
    model = _randomise(keras.Model(inp, L.Dense(3, name="predictions")(x)))
    path = tmp_path / "nested.keras"
    model.save(path)
    flat = models.load_user_model(str(path))
    assert "b_conv" in [layer.name for layer in flat.layers]
    assert not any(isinstance(layer, keras.Model) for layer in flat.layers)
    x = np.random.default_rng(0).uniform(0, 255, (2, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(flat(x).numpy(), model(x).numpy(), atol=1e-5)
    assert next(g for g in structure.trace(flat) if "b_conv" in g.producers).prunable


def test_a_model_with_no_removable_channel_is_refused_before_any_work(tmp_path):
    from prune_core.engine import run_inputs
    from prune_core.errors import ModelError
    from prune_core.recipe.spec import RunSpec
    from tests.conftest import tiny_with_file

    inp = keras.Input((16, 16, 3))
    a = L.Conv2D(4, 3, padding="same", name="a")(inp)
    b = L.Conv2D(4, 3, padding="same", name="b")(inp)
    x = L.Concatenate(name="joined")([a, b])
    x = L.Reshape((256, 5), name="swap")(L.Conv2D(5, 1, name="c")(x))
    model = keras.Model(inp, L.Dense(3, name="predictions")(L.GlobalAveragePooling1D()(x)))
    path = tmp_path / "knotted.h5"
    model.save(path)
    recipe = {**tiny_with_file(path), "granularity": "structured", "sparsity": 0.3}
    with pytest.raises(ModelError) as refused:
        run_inputs.check(RunSpec.of(**recipe))
    said = str(refused.value)
    assert said.startswith("no channel of this model can be removed structurally (")
    assert "joined (Concatenate)" in said and "swap (Reshape) mixes channels" in said
    assert said.endswith("single weights can still be pruned (granularity unstructured)")
    run_inputs.check(RunSpec.of(**{**recipe, "granularity": "unstructured"}))  # accepted


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_inception_resnet_scale_layer_loads_by_its_exact_class_and_joins(tmp_path, suffix):
    model = _randomise(inception_resnet_like())
    path = tmp_path / f"irv2{suffix}"
    model.save(path)
    loaded = models.load_user_model(str(path))
    x = np.random.default_rng(0).normal(0, 1, (2, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-5)
    residual = next(g for g in structure.trace(loaded) if "stem" in g.producers)
    assert residual.prunable and "up" in residual.producers, residual.fixed_reason


def test_a_scale_layer_from_any_other_module_is_still_refused(tmp_path):
    from prune_core.data import model_files
    from prune_core.errors import ModelError

    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {
                    "module": "mymodule.layers",
                    "class_name": "CustomScaleLayer",
                    "registered_name": "Custom>CustomScaleLayer",
                    "config": {"name": "join", "scale": 0.1},
                }
            ]
        },
    }
    with pytest.raises(ModelError, match="names the Python module 'mymodule.layers'"):
        model_files.check_config(config, "evil.keras")
    config["config"]["layers"][0]["module"] = "tf_keras.src.layers"
    with pytest.raises(ModelError, match="custom object"):
        model_files.check_config(config, "evil.keras")
