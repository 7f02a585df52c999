"""Tests for prune_core.engine.surgery: a reduced model equals the original, channels zeroed."""

import numpy as np
import pytest

from prune_core.engine import models, structure, surgery
from prune_core.engine.keras_env import keras
from tests.engine.helpers import silence_removed_channels


def plain_cnn():
    inp = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inp)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c1")(x)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, activation="relu", name="c2")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(7, activation="relu", name="fc")(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="predictions")(x))


def _randomise(model, seed=0):
    """Non-trivial weights everywhere (BN statistics included) so the oracle can tell channels
    apart."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = [
                rng.uniform(0.5, 1.5, w.shape) if i in (0, 3) else rng.normal(0, 0.3, w.shape)
                for i, w in enumerate(weights)
            ]
        elif isinstance(
            layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
        ):
            weights = [w + rng.normal(0, 0.05, w.shape) for w in weights]
        layer.set_weights([np.asarray(w, np.float32) for w in weights])
    return model


def _random_plan(model, seed, fraction=0.5):
    groups = structure.trace(model)
    rng = np.random.default_rng(seed)
    keep = {
        g.id: sorted(
            rng.choice(g.size, max(1, int(g.size * (1 - fraction))), replace=False).tolist()
        )
        for g in groups
        if g.prunable
    }
    return surgery.Plan(tuple(groups), keep)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: models.build("efficientnet-compact", 10, 32), id="efficientnet-compact"
        ),
        pytest.param(
            lambda: models.build("efficientnet-b0", 10, 32),
            id="efficientnet-b0",
            marks=pytest.mark.slow,
        ),
        pytest.param(plain_cnn, id="plain-cnn-flatten-dense"),
    ],
)
def test_reduced_model_equals_the_original_with_those_channels_zeroed(build):
    model = _randomise(build())
    before = [w.copy() for w in model.get_weights()]
    plan = _random_plan(model, seed=1)
    smaller = surgery.apply(model, plan)
    x = (
        np.random.default_rng(2)
        .uniform(0, 255, (4,) + tuple(model.input_shape[1:]))
        .astype(np.float32)
    )
    expected = silence_removed_channels(model, plan)(x, training=False).numpy()
    np.testing.assert_allclose(smaller(x, training=False).numpy(), expected, atol=1e-4, rtol=1e-4)
    assert smaller.count_params() < model.count_params()
    for a, b in zip(before, model.get_weights()):  # the input model is never mutated
        np.testing.assert_array_equal(a, b)


def test_reduced_model_saves_and_loads_as_plain_keras(tmp_path):
    model = _randomise(models.build("efficientnet-compact", 10, 32))
    smaller = surgery.apply(model, _random_plan(model, seed=3, fraction=0.25))
    path = models.save(smaller, tmp_path / "small.keras")
    loaded = models.load_user_model(str(path))
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), smaller(x).numpy(), atol=1e-6)


def test_plans_that_would_break_the_model_are_refused():
    model = models.build("tiny-cnn", 3, 16)
    groups = structure.trace(model)
    prunable = next(g for g in groups if g.prunable)
    fixed = next(g for g in groups if not g.prunable)
    with pytest.raises(ValueError, match="every channel"):
        surgery.apply(model, surgery.Plan(tuple(groups), {prunable.id: []}))
    with pytest.raises(ValueError, match="cannot be pruned"):
        surgery.apply(model, surgery.Plan(tuple(groups), {fixed.id: [0]}))
    with pytest.raises(ValueError, match="distinct indices"):
        surgery.apply(model, surgery.Plan(tuple(groups), {prunable.id: [0, 0]}))
    plan = surgery.Plan(tuple(groups), {prunable.id: [0]})
    assert plan.to_dict()["groups"][0]["keep"] == [0]
