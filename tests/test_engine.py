import numpy as np
import pytest

from prune_core import criteria, models, selection, tfmot_reference
from prune_core.engine import MaskedPruner
from prune_core.keras_env import tf
from prune_core.schedules import Schedule


def test_zero_sparsity_changes_nothing(tiny_model, tiny_data):
    before = [w.copy() for w in tiny_model.get_weights()]
    x = tiny_data.x_test[:8].astype(np.float32)
    out_before = tiny_model(x, training=False).numpy()
    pruner = MaskedPruner(tiny_model, "magnitude")
    assert pruner.update(0.0) == 0.0
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out_before, tiny_model(x, training=False).numpy())


def test_pruning_a_clone_never_touches_the_input_model(tiny_model):
    before = [w.copy() for w in tiny_model.get_weights()]
    MaskedPruner(models.clone(tiny_model), "magnitude").update(0.9)
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("strategy", ["magnitude", "fisher"])
def test_masks_survive_fine_tuning(strategy, tiny_model, tiny_data):
    cal = criteria.Calibration(tiny_data.x_train[:16].astype(np.float32), tiny_data.y_train[:16])
    pruner = MaskedPruner(tiny_model, strategy, calibration=cal)
    pruner.update(0.7)
    zeros = [t.variable.numpy() == 0 for t in pruner.targets]
    start = [t.variable.numpy().copy() for t in pruner.targets]
    pruner.fine_tune(tiny_data, Schedule("oneshot", 0.7), epochs=2, batch_size=16, learning_rate=1e-2)
    for t, z, s in zip(pruner.targets, zeros, start):
        w = t.variable.numpy()
        assert (w[z] == 0).all(), t.name  # exactly zero after every optimizer step
        assert not np.allclose(w[~z], s[~z])  # while the kept weights did train
    assert pruner.sparsity() == pytest.approx(0.7, abs=0.005)


def test_gradual_schedule_prunes_at_its_steps_up_to_the_final_sparsity(tiny_model, tiny_data):
    steps_per_epoch = tiny_data.steps_per_epoch(16)
    schedule = Schedule("polynomial", final_sparsity=0.8, initial_sparsity=0.2, begin_step=1,
                        end_step=steps_per_epoch * 2, frequency=1)
    pruner = MaskedPruner(tiny_model, "magnitude")
    pruner.fine_tune(tiny_data, schedule, epochs=3, batch_size=16, learning_rate=1e-3)
    steps = [e["step"] for e in pruner.events]
    assert steps == schedule.pruning_steps(3 * steps_per_epoch)
    achieved = [e["achieved"] for e in pruner.events]
    assert all(b >= a - 1e-9 for a, b in zip(achieved, achieved[1:]))  # masks only shrink
    assert achieved[-1] == pytest.approx(0.8, abs=0.01)
    weights = [t.variable.numpy() for t in pruner.targets]
    assert selection.sparsity_of(weights) == pytest.approx(0.8, abs=0.01)  # the weights, not just the masks


@pytest.mark.parametrize("sparsity", [0.5, 0.8])
def test_layerwise_magnitude_masks_equal_tfmot_prune_low_magnitude(sparsity, tiny_model, tiny_data):
    ours = MaskedPruner(models.clone(tiny_model), "magnitude")
    ours.update(sparsity)

    wrapped = tfmot_reference.wrap(tiny_model, Schedule("oneshot", sparsity))
    from prune_core.keras_env import tfmot_sparsity

    callback = tfmot_sparsity().UpdatePruningStep()
    callback.set_model(wrapped)
    callback.on_train_begin()
    wrapped(tf.constant(tiny_data.x_train[:4], tf.float32), training=True)  # step 1: tfmot computes its masks
    theirs = {layer.layer.name: layer.pruning_vars[0][1].numpy()
              for layer in wrapped.layers if hasattr(layer, "pruning_vars")}
    assert set(theirs) == {t.name for t in ours.targets}
    for target, mask in zip(ours.targets, ours.masks):
        np.testing.assert_array_equal(mask.numpy(), theirs[target.name], err_msg=target.name)


def test_tfmot_reference_recipe_strips_to_a_plain_sparse_model(tiny_model, tiny_data):
    before = [w.copy() for w in tiny_model.get_weights()]
    pruned, history = tfmot_reference.prune_and_finetune(
        tiny_model, tiny_data, Schedule("oneshot", 0.6), epochs=1, batch_size=16, learning_rate=1e-3)
    assert len(history) == 1
    assert not any("prune_low_magnitude" in layer.name for layer in pruned.layers)
    targets = criteria.find_targets(pruned)
    zeros = sum(t.size - np.count_nonzero(t.variable.numpy()) for t in targets)
    assert zeros / sum(t.size for t in targets) == pytest.approx(0.6, abs=0.01)
    for a, b in zip(before, tiny_model.get_weights()):
        np.testing.assert_array_equal(a, b)
