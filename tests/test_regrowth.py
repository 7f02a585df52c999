"""RigL: drop the smallest kept weights, regrow where the gradient is largest, at zero; knobs checked."""
import numpy as np
import pytest

from prune_core.errors import SpecError
from prune_core.recipe.regrowth import RigL, move


def test_move_drops_smallest_and_grows_largest_gradient_keeping_the_count():
    mask = np.array([1, 1, 1, 0, 0, 0], dtype=np.float32)
    weights = np.array([0.9, 0.1, 0.5, 0.0, 0.0, 0.0])
    gradients = np.array([0.0, 0.0, 0.0, 0.2, 3.0, 0.1])
    new, grown = move(mask, weights, gradients, 1)
    np.testing.assert_array_equal(new, [1, 0, 1, 0, 1, 0])  # 0.1 dropped, the 3.0 gradient grown
    np.testing.assert_array_equal(grown, [0, 0, 0, 0, 1, 0])
    assert new.sum() == mask.sum()
    new2, grown2 = move(mask, weights, gradients, 10)  # never more than there is to move
    assert new2.sum() == mask.sum() and grown2.sum() == 3


def test_fraction_decays_as_a_cosine_and_updates_stop_at_three_quarters():
    rigl = RigL(fraction=0.4, every=10)
    assert rigl.fraction_at(0, 100) == pytest.approx(0.4)
    assert rigl.fraction_at(37.5, 100) == pytest.approx(0.2)
    assert rigl.fraction_at(75, 100) == pytest.approx(0.0)
    assert rigl.updates(100) == [10, 20, 30, 40, 50, 60, 70]


def test_rigl_that_would_never_move_is_refused():
    with pytest.raises(SpecError, match="no update would happen"):
        RigL(every=100).validate_for(120)  # last update step 90 < 100
    RigL(every=50).validate_for(120)


def test_rigl_fine_tuning_keeps_the_sparsity_and_grown_weights_start_at_zero(tiny_data, tiny_model):
    from prune_core.engine import pruners
    from prune_core.recipe.spec import RunSpec
    from tests.conftest import TINY

    spec = RunSpec.of(**{**TINY, "fine_tune_epochs": 1}, strategy="magnitude", sparsity=0.8, regrow="rigl",
                      regrow_every=2, regrow_fraction=0.3)
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
