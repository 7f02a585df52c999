"""Tests for prune_core.engine.reconstruction: the refit reads each layer as the layer computes
it, keeps every removed weight at zero, and brings a cut model's outputs closer to the dense
model's on images it was not fitted on."""

import numpy as np
import pytest

from prune_core.engine import reconstruction, structure, surgery
from prune_core.engine.keras_env import keras
from tests.engine.helpers import small_model
from tests.engine.test_surgery import _randomise

L = keras.layers


@pytest.mark.parametrize(
    "conv",
    [
        dict(filters=5, kernel_size=3, padding="same"),
        dict(filters=5, kernel_size=3, strides=2, padding="same"),
        dict(filters=5, kernel_size=(3, 1), padding="valid", dilation_rate=2),
        dict(filters=5, kernel_size=1, use_bias=False),
    ],
)
def test_the_rows_times_the_kernel_are_the_layers_own_output(conv):
    layer = L.Conv2D(**conv)
    x = np.random.default_rng(0).normal(0, 1, (2, 9, 9, 4)).astype(np.float32)
    out = layer(x).numpy()
    weights = layer.get_weights()
    rows = reconstruction._design(layer, x, np.arange(out[..., 0].size))
    flat = weights[0].reshape(-1, 5)
    if layer.use_bias:
        flat = np.vstack([flat, weights[1][None, :]])
    np.testing.assert_allclose(rows @ flat, out.reshape(-1, 5), atol=1e-4)


def _error(a, b, x):
    return float(np.mean((a(x, training=False).numpy() - b(x, training=False).numpy()) ** 2))


def test_masked_weights_stay_zero_and_the_outputs_come_closer_to_the_dense_ones():
    dense = _randomise(small_model())
    pruned = keras.models.clone_model(dense)
    pruned.set_weights(dense.get_weights())
    rng = np.random.default_rng(0)
    masks = {}
    for name in ("conv_a", "conv_b"):
        layer = pruned.get_layer(name)
        weights = layer.get_weights()
        mask = rng.random(weights[0].shape) > 0.7  # 70 % removed
        weights[0] = weights[0] * mask
        layer.set_weights(weights)
        masks[name] = mask
    fit, held_out = rng.normal(0, 1, (64, 16, 16, 3)), rng.normal(0, 1, (32, 16, 16, 3))
    fit, held_out = fit.astype(np.float32), held_out.astype(np.float32)
    before = _error(dense, pruned, held_out)
    assert reconstruction.refit(dense, pruned, fit, masks=masks) == ["conv_a", "conv_b"]
    for name, mask in masks.items():
        kernel = pruned.get_layer(name).get_weights()[0]
        assert not kernel[~mask].any()  # every removed weight is still exactly zero
    assert _error(dense, pruned, held_out) < 0.5 * before


def test_a_channel_cut_is_refitted_towards_the_dense_model():
    dense = _randomise(small_model())
    groups = structure.trace(dense)
    group = next(g for g in groups if "conv_a" in g.producers)
    kept = list(range(0, 16, 2))  # half of conv_a's channels
    plan = surgery.Plan(tuple(groups), {group.id: kept})
    pruned = surgery.apply(dense, plan)
    rng = np.random.default_rng(1)
    fit = rng.normal(0, 1, (64, 16, 16, 3)).astype(np.float32)
    held_out = rng.normal(0, 1, (32, 16, 16, 3)).astype(np.float32)
    before = _error(dense, pruned, held_out)
    refitted = reconstruction.refit(dense, pruned, fit, kept_out={"conv_a": kept})
    # conv_a's kept outputs already match; conv_b lost half its inputs and is refitted
    assert "conv_b" in refitted
    assert pruned.get_layer("conv_b").get_weights()[0].shape[2] == len(kept)
    assert _error(dense, pruned, held_out) < before
