"""Tests for prune_core.recipe.schedules: previews equal tfmot's; impossible schedules refused."""

import numpy as np
import pytest

from prune_core.errors import SpecError
from prune_core.recipe.schedules import Schedule, seed_recipe
from prune_core.recipe.spec import RunSpec


def test_polynomial_preview_matches_tfmot_at_every_step():
    from prune_core.engine.keras_env import tf
    from prune_core.engine.pruners.tfmot import tfmot_schedule

    schedule = Schedule(
        "polynomial",
        final_sparsity=0.8,
        initial_sparsity=0.5,
        begin_step=10,
        end_step=50,
        frequency=5,
        power=3,
    )
    reference = tfmot_schedule(schedule)
    for step in range(0, 60):
        should, sparsity = reference(tf.constant(step, tf.int64))
        assert bool(should) == schedule.prunes_at(step), step
        assert float(sparsity) == pytest.approx(schedule.sparsity_at(step), abs=1e-6)


def test_constant_schedule_matches_tfmot_including_its_first_step():
    from prune_core.engine.keras_env import tf
    from prune_core.engine.pruners.tfmot import tfmot_schedule

    schedule = Schedule("constant", final_sparsity=0.6, begin_step=0, frequency=100)
    reference = tfmot_schedule(schedule)
    for step in (1, 50, 99, 100, 200, 250):
        assert bool(reference(tf.constant(step, tf.int64))[0]) == schedule.prunes_at(step)
    assert schedule.pruning_steps(250) == [100, 200]  # tfmot's default never prunes before step 100


def test_preview_is_a_step_curve_reaching_the_final_sparsity():
    schedule = Schedule(
        "polynomial",
        final_sparsity=0.8,
        initial_sparsity=0.2,
        begin_step=0,
        end_step=40,
        frequency=10,
    )
    steps, values = schedule.preview(60)
    assert steps[0] == 0 and steps[-1] == 60
    assert values[0] == 0.0 and values[-1] == pytest.approx(0.8)
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert len(set(values)) == 1 + len(schedule.pruning_steps(60))


def test_oneshot_prunes_once_before_training():
    schedule = Schedule("oneshot", final_sparsity=0.7)
    assert schedule.pruning_steps(100) == [0]
    _, values = schedule.preview(10)
    assert set(values) == {0.7}


def test_schedule_that_ends_after_fine_tuning_is_rejected_with_what_to_change():
    with pytest.raises(SpecError) as info:
        seed_recipe().validate_for(total_steps=200, steps_per_epoch=40)
    message = str(info.value)
    assert (
        "step 2000" in message and "200 steps" in message and "--fine-tune-epochs to 50" in message
    )


def test_schedule_that_would_never_prune_is_rejected():
    with pytest.raises(SpecError, match="would never prune"):
        Schedule("constant", final_sparsity=0.5, begin_step=0, frequency=100).validate_for(90, 30)


def test_polynomial_end_must_be_reachable_by_frequency():
    with pytest.raises(SpecError, match="not a multiple of frequency"):
        Schedule("polynomial", final_sparsity=0.8, begin_step=0, end_step=95, frequency=10)


def test_seed_recipe_is_expressible_as_a_run_spec():
    spec = RunSpec.of(
        schedule="polynomial",
        initial_sparsity=0.5,
        sparsity=0.8,
        begin_step=1000,
        end_step=2000,
        frequency=100,
        fine_tune_epochs=50,
    )
    assert spec.schedule == seed_recipe()
    spec.schedule.validate_for(total_steps=50 * 40, steps_per_epoch=40)
    assert spec.schedule.sparsity_at(1000) == pytest.approx(0.5)
    assert spec.schedule.sparsity_at(2000) == pytest.approx(0.8)
    assert np.isclose(spec.schedule.sparsity_at(1500), 0.8 + (0.5 - 0.8) * 0.5**3)


def test_a_preview_of_millions_of_steps_is_bounded_and_still_exact_at_its_events():
    schedule = Schedule(
        "polynomial",
        final_sparsity=0.9,
        initial_sparsity=0.1,
        begin_step=0,
        end_step=10**7,
        frequency=1,
    )
    steps, values = schedule.preview(10**7)
    assert len(steps) <= 2003 and steps[-1] == 10**7 and values[-1] == pytest.approx(0.9)
    assert all(v == pytest.approx(schedule.sparsity_at(s)) for s, v in zip(steps[1:], values[1:]))
    assert schedule.count_pruning_steps(10**7) == 10**7
    small = Schedule(
        "polynomial",
        final_sparsity=0.8,
        initial_sparsity=0.2,
        begin_step=5,
        end_step=45,
        frequency=10,
    )
    steps, values = small.preview(60)
    latest = [
        max([small.sparsity_at(e) for e in small.pruning_steps(60) if e <= s], default=0.0)
        for s in range(61)
    ]
    # the step curve at s
    drawn = [values[max(i for i, x in enumerate(steps) if x <= s)] for s in range(61)]
    assert drawn == pytest.approx(latest)
