"""Tests for prune_core.engine.pruners.tfmot: tfmot's recipe, stripped to a plain sparse model."""

import numpy as np
import pytest

from prune_core.engine import criteria
from prune_core.engine.keras_env import tf
from prune_core.engine.pruners import tfmot as tfmot_reference
from prune_core.recipe.schedules import Schedule
from prune_core.recipe.spec import PruningSpec
from tests.engine.pruners.helpers import _train


def test_tfmot_reference_recipe_strips_to_a_plain_sparse_model(tiny_model, tiny_data):
    before = [w.copy() for w in tiny_model.get_weights()]
    pruner = tfmot_reference.TfmotPruner(
        PruningSpec(strategy="tfmot", sparsity=0.6), Schedule("oneshot", 0.6)
    )
    wrapped = pruner.start(tiny_model)
    wrapped, history = pruner.fine_tune(wrapped, tiny_data, Schedule("oneshot", 0.6), _train(1))
    pruned = pruner.finish(wrapped)
    assert len(history) == 1
    assert not any("prune_low_magnitude" in layer.name for layer in pruned.layers)
    targets = criteria.find_targets(pruned)
    zeros = sum(t.size - np.count_nonzero(t.variable.numpy()) for t in targets)
    assert zeros / sum(t.size for t in targets) == pytest.approx(0.6, abs=0.01)
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_tfmot_masks_measured_before_fine_tuning_are_the_ones_it_trains_with(tiny_model, tiny_data):
    """The one-shot mask update run by hand (to measure top-1 before fine-tuning on the model that
    is trained) computes exactly the masks tfmot's own training step then computes, and the step
    counter is back where tfmot expects it."""
    schedule = Schedule("oneshot", 0.7)
    pruner = tfmot_reference.TfmotPruner(PruningSpec(strategy="tfmot", sparsity=0.7), schedule)
    wrapped = pruner.start(tiny_model)
    _, event = pruner.prune(wrapped, 0.7, 0)
    assert event.achieved == pytest.approx(0.7, abs=0.01)
    by_hand = [
        mask.numpy().copy() for layer in pruner.wrappers for _, mask, _ in layer.pruning_vars
    ]
    assert all(int(layer.pruning_step.numpy()) == 0 for layer in pruner.wrappers)
    wrapped(tf.constant(tiny_data.x_train[:4], tf.float32), training=True)  # tfmot's step 1
    assert all(int(layer.pruning_step.numpy()) == 1 for layer in pruner.wrappers)
    for layer, mask in zip(
        [m for wrapper in pruner.wrappers for _, m, _ in wrapper.pruning_vars], by_hand
    ):
        np.testing.assert_array_equal(layer.numpy(), mask)
