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
        dict(filters=5, kernel_size=2, strides=2, padding="same"),
        dict(filters=5, kernel_size=3, strides=2, padding="valid"),
        dict(filters=5, kernel_size=(3, 1), padding="valid", dilation_rate=2),
        dict(filters=5, kernel_size=1, use_bias=False),
    ],
)
@pytest.mark.parametrize("size", [9, 8])
def test_the_rows_times_the_kernel_are_the_layers_own_output(conv, size):
    layer = L.Conv2D(**conv)
    x = np.random.default_rng(0).normal(0, 1, (2, size, size, 4)).astype(np.float32)
    out = layer(x).numpy().reshape(-1, 5)
    weights = layer.get_weights()
    flat = weights[0].reshape(-1, 5)
    if layer.use_bias:
        flat = np.vstack([flat, weights[1][None, :]])
    rows = np.random.default_rng(1).permutation(len(out))[: len(out) // 2]  # any positions
    design = reconstruction._design(layer, reconstruction._patches_at(layer, x, rows))
    np.testing.assert_allclose(design @ flat, out[rows], atol=1e-4)


@pytest.mark.parametrize("name", ["conv_b", "head"])
def test_inputs_are_gathered_a_batch_at_a_time_as_if_at_once(monkeypatch, name):
    model = small_model()
    layer = model.get_layer(name)
    images = np.random.default_rng(0).uniform(0, 255, (7, 16, 16, 3)).astype(np.float32)
    per_image = reconstruction._positions(layer, (None, *layer.input_shape[1:]))
    count = min(40, 7 * per_image)
    rows = np.sort(np.random.default_rng(2).choice(7 * per_image, count, replace=False))
    whole = reconstruction._gather(model, name, layer, images, rows)
    per_pass = 4 * int(np.prod(layer.input_shape[1:]))
    monkeypatch.setattr(reconstruction, "BATCH_BYTES", 3 * per_pass)  # 3 images a pass
    np.testing.assert_array_equal(reconstruction._gather(model, name, layer, images, rows), whole)
    assert whole.shape[0] == count


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
