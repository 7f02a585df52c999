"""Tests for prune_core.engine.pruners.masked: masks meet targets, survive fine-tuning; RigL."""

import numpy as np
import pytest

from prune_core.engine import criteria, pruners, selection
from prune_core.engine.keras_env import tf
from prune_core.engine.pruners import tfmot as tfmot_reference
from prune_core.engine.pruners.masked import MaskedPruner
from prune_core.recipe.schedules import Schedule
from prune_core.recipe.spec import PruningSpec, RunSpec
from tests.conftest import TINY
from tests.engine.pruners.helpers import _train


def _masked(model, strategy="magnitude", **kwargs):
    """(a MaskedPruner, the copy of `model` it prunes)."""
    pruner = MaskedPruner(PruningSpec(strategy=strategy), **kwargs)
    return pruner, pruner.start(model)


def test_zero_sparsity_changes_nothing(tiny_model, tiny_data):
    before = [w.copy() for w in tiny_model.get_weights()]
    x = tiny_data.x_test[:8].astype(np.float32)
    out_before = tiny_model(x, training=False).numpy()
    pruner, model = _masked(tiny_model)
    assert pruner.prune(model, 0.0)[1].achieved == 0.0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out_before, model(x, training=False).numpy())


def test_pruning_a_clone_never_touches_the_input_model(tiny_model):
    before = [w.copy() for w in tiny_model.get_weights()]
    pruner = MaskedPruner(PruningSpec())
    model = pruner.start(tiny_model)
    _, event = pruner.prune(model, 0.9)
    assert event.achieved == pytest.approx(0.9, abs=0.005)
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("strategy", ["magnitude", "fisher"])
def test_masks_survive_fine_tuning(strategy, tiny_model, tiny_data):
    cal = criteria.Calibration(tiny_data.x_train[:16].astype(np.float32), tiny_data.y_train[:16])
    pruner, model = _masked(tiny_model, strategy, calibration=cal)
    pruner.prune(model, 0.7)
    zeros = [t.variable.numpy() == 0 for t in pruner.targets]
    start = [t.variable.numpy().copy() for t in pruner.targets]
    pruner.fine_tune(model, tiny_data, Schedule("oneshot", 0.7), _train(2, 1e-2))
    for t, z, s in zip(pruner.targets, zeros, start):
        w = t.variable.numpy()
        assert (w[z] == 0).all(), t.name  # exactly zero after every optimizer step
        assert not np.allclose(w[~z], s[~z])  # while the kept weights did train
    assert pruner.sparsity() == pytest.approx(0.7, abs=0.005)


def test_gradual_schedule_prunes_at_its_steps_up_to_the_final_sparsity(tiny_model, tiny_data):
    steps_per_epoch = tiny_data.steps_per_epoch(16)
    schedule = Schedule(
        "polynomial",
        final_sparsity=0.8,
        initial_sparsity=0.2,
        begin_step=1,
        end_step=steps_per_epoch * 2,
        frequency=1,
    )
    pruner, model = _masked(tiny_model)
    seen = []
    pruner.fine_tune(
        model, tiny_data, schedule, _train(3), on_event=lambda model, event: seen.append(event)
    )
    steps = [e.step for e in pruner.events]
    assert steps == schedule.pruning_steps(3 * steps_per_epoch) and seen == pruner.events
    achieved = [e.achieved for e in pruner.events]
    assert all(b >= a - 1e-9 for a, b in zip(achieved, achieved[1:]))  # masks only shrink
    assert achieved[-1] == pytest.approx(0.8, abs=0.01)
    weights = [t.variable.numpy() for t in pruner.targets]
    # the weights, not just the masks
    assert selection.sparsity_of(weights) == pytest.approx(0.8, abs=0.01)


@pytest.mark.parametrize("sparsity", [0.5, 0.8])
def test_layerwise_magnitude_masks_equal_tfmot_prune_low_magnitude(sparsity, tiny_model, tiny_data):
    ours = MaskedPruner(PruningSpec())
    ours.prune(ours.start(tiny_model), sparsity)

    wrapped = tfmot_reference.wrap(tiny_model, Schedule("oneshot", sparsity))
    from prune_core.engine.keras_env import tfmot_sparsity

    callback = tfmot_sparsity().UpdatePruningStep()
    callback.set_model(wrapped)
    callback.on_train_begin()
    # step 1: tfmot computes its masks
    wrapped(tf.constant(tiny_data.x_train[:4], tf.float32), training=True)
    theirs = {
        layer.layer.name: layer.pruning_vars[0][1].numpy()
        for layer in wrapped.layers
        if hasattr(layer, "pruning_vars")
    }
    assert set(theirs) == {t.name for t in ours.targets}
    for target, mask in zip(ours.targets, ours.masks):
        np.testing.assert_array_equal(mask.numpy(), theirs[target.name], err_msg=target.name)


def test_a_one_shot_prune_re_estimates_batchnorm_and_keeps_its_masks(tiny_model, tiny_data):
    from prune_core.engine.keras_env import keras

    pruner, model = _masked(tiny_model, recalibration=tiny_data.x_train)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms, "the tiny model has BatchNorm"
    before = [layer.moving_mean.numpy().copy() for layer in norms]
    pruner.prune(model, 0.8)
    assert any(not np.allclose(b, layer.moving_mean.numpy()) for b, layer in zip(before, norms))
    assert pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    for target, mask in zip(pruner.targets, pruner.masks):
        # statistics only: zeros stay zero
        assert (target.variable.numpy()[mask.numpy() == 0] == 0).all()


def test_rigl_fine_tuning_keeps_the_sparsity_and_grown_weights_start_at_zero(tiny_data, tiny_model):
    spec = RunSpec.of(
        **{**TINY, "fine_tune_epochs": 1},
        strategy="magnitude",
        sparsity=0.8,
        regrow="rigl",
        regrow_every=2,
        regrow_fraction=0.3,
    )
    pruner = pruners.create(spec, tiny_model)
    model = pruner.start(tiny_model)
    model, _ = pruner.prune(model, 0.8)
    kept = [m.numpy().sum() for m in pruner.masks]
    before = [m.numpy().copy() for m in pruner.masks]
    steps = tiny_data.steps_per_epoch(spec.training.batch_size)
    pruner._regrow(tiny_data, spec.training, 2, steps)
    after = [m.numpy() for m in pruner.masks]
    assert [m.sum() for m in after] == kept  # each kernel keeps as many weights
    assert pruner.moved > 0 and any((a != b).any() for a, b in zip(after, before))
    for target, b, a in zip(pruner.targets, before, after):
        grown = (a == 1) & (b == 0)
        assert np.all(target.variable.numpy()[grown] == 0.0)  # grown weights start at zero
        assert np.all(target.variable.numpy()[a == 0] == 0.0)  # dropped ones are zero
    model, history = pruner.fine_tune(model, tiny_data, spec.schedule, spec.training)
    assert pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    assert pruner.measure(model)["regrown_weights"] == pruner.moved
