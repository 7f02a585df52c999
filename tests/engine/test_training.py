"""Tests for prune_core.engine.training: progress, cancel, segments, BatchNorm recalibration."""

import numpy as np
import pytest

from prune_core.engine.training import Trainer
from prune_core.errors import Canceled


def test_progress_reports_every_step_with_phase_epoch_loss_and_accuracy(tiny_model, tiny_data):
    seen = []
    trainer = Trainer(tiny_model, learning_rate=1e-3, total_steps=2 * tiny_data.steps_per_epoch(16))
    history = trainer.fit(
        tiny_data.x_train,
        tiny_data.y_train,
        epochs=2,
        batch_size=16,
        phase="fine-tuning",
        on_progress=seen.append,
        sparsity=lambda: 0.25,
    )
    total = 2 * tiny_data.steps_per_epoch(16)
    assert [p.step for p in seen] == list(range(1, total + 1))
    assert (
        {p.phase for p in seen} == {"fine-tuning"}
        and seen[-1].epoch == 2
        and seen[-1].fraction == 1.0
    )
    assert all(np.isfinite(p.loss) and 0 <= p.accuracy <= 1 and p.sparsity == 0.25 for p in seen)
    assert [h["epoch"] for h in history] == [1, 2] and all(h["seconds"] > 0 for h in history)
    assert set(seen[0].to_dict()) >= {
        "phase",
        "epoch",
        "step",
        "steps",
        "loss",
        "accuracy",
        "sparsity",
        "fraction",
    }


def test_cancel_stops_at_the_next_step_boundary(tiny_model, tiny_data):
    steps = []
    trainer = Trainer(tiny_model, learning_rate=1e-3, total_steps=100)
    with pytest.raises(Canceled):
        trainer.fit(
            tiny_data.x_train,
            tiny_data.y_train,
            epochs=5,
            batch_size=16,
            on_progress=lambda p: steps.append(p.step),
            should_cancel=lambda: len(steps) >= 3,
        )
    assert len(steps) == 3


def test_training_learns_the_synthetic_set(tiny_model, tiny_data):
    from prune_core.engine import metrics

    trainer = Trainer(
        tiny_model,
        learning_rate=1e-2,
        total_steps=15 * tiny_data.steps_per_epoch(16),
        augment=False,
    )
    trainer.fit(tiny_data.x_train, tiny_data.y_train, epochs=15, batch_size=16)
    assert metrics.accuracy(tiny_model, tiny_data.x_test, tiny_data.y_test)["top1"] >= 0.8


def test_training_in_segments_follows_the_same_steps_as_one_run(tiny_model, tiny_data):
    from prune_core.engine.training import merge_history

    steps = 3 * tiny_data.steps_per_epoch(16)
    seen = []
    parts = []
    for first, last in ((1, 4), (5, steps)):
        trainer = Trainer(tiny_model, learning_rate=1e-3, total_steps=steps)
        trainer.start_at(first - 1)
        parts.append(
            trainer.fit(
                tiny_data.x_train,
                tiny_data.y_train,
                epochs=3,
                batch_size=16,
                first_step=first,
                last_step=last,
                on_progress=lambda p: seen.append(p.step),
            )
        )
        assert int(trainer.optimizer.iterations.numpy()) == last
    assert seen == list(range(1, steps + 1))
    history = merge_history(parts)
    assert [h["epoch"] for h in history] == [1, 2, 3] and sum(h["steps"] for h in history) == steps


def test_batchnorm_recalibration_fits_statistics_without_touching_weights_or_dropping():
    from prune_core.engine.keras_env import keras
    from prune_core.engine.training import recalibrate_batchnorm

    inp = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(2, 1, kernel_initializer="ones", use_bias=False)(inp)
    x = keras.layers.Dropout(0.5, name="drop")(x)  # off while re-estimating: it would add variance
    model = keras.Model(inp, keras.layers.BatchNormalization(momentum=0.5, name="bn")(x))
    bn = model.get_layer("bn")
    bn.moving_mean.assign([100.0, 100.0])
    weights = [w.copy() for w in model.get_weights() if w.shape != (2,)]
    images = np.full((64, 4, 4, 3), 2.0, np.float32)  # every activation is 3 × 2 = 6
    recalibrate_batchnorm(model, images, batch_size=16, batches=20)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [6.0, 6.0], rtol=1e-3)
    np.testing.assert_allclose(bn.moving_variance.numpy(), [0.0, 0.0], atol=1e-3)
    assert model.get_layer("drop").rate == 0.5
    assert all(
        np.array_equal(a, b)
        for a, b in zip(weights, [w for w in model.get_weights() if w.shape != (2,)])
    )


def test_distillation_teaches_the_teachers_function_not_the_labels(tiny_data):
    """A teacher trained on shifted labels ((y + 1) mod k): a student distilled from it alone
    (weight 1) answers as the teacher does; with weight 0 it learns the labels. The teacher's
    weights never change."""
    from prune_core.engine import metrics, models

    k, steps = tiny_data.num_classes, 15 * tiny_data.steps_per_epoch(16)
    shifted = (tiny_data.y_train + 1) % k
    teacher = models.build("tiny-cnn", k, 16, seed=1)
    Trainer(teacher, learning_rate=1e-2, total_steps=steps, augment=False).fit(
        tiny_data.x_train, shifted, epochs=15, batch_size=16
    )
    shifted_test = (tiny_data.y_test + 1) % k
    assert metrics.accuracy(teacher, tiny_data.x_test, shifted_test)["top1"] >= 0.8
    before = [w.copy() for w in teacher.get_weights()]

    def student(distill):
        model = models.build("tiny-cnn", k, 16, seed=0)
        Trainer(
            model,
            learning_rate=1e-2,
            total_steps=steps,
            augment=False,
            teacher=teacher,
            distill=distill,
            temperature=2.0,
        ).fit(tiny_data.x_train, tiny_data.y_train, epochs=15, batch_size=16)
        return model

    distilled, labelled = student(1.0), student(0.0)
    assert metrics.accuracy(distilled, tiny_data.x_test, shifted_test)["top1"] >= 0.8
    assert metrics.accuracy(labelled, tiny_data.x_test, tiny_data.y_test)["top1"] >= 0.8
    for old, new in zip(before, teacher.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_the_distillation_term_vanishes_when_student_and_teacher_agree(tiny_model, tiny_data):
    from prune_core.engine import models
    from prune_core.engine.keras_env import tf

    twin = models.clone(tiny_model)
    x = tf.constant(tiny_data.x_test[:8], tf.float32)
    y = tf.constant(tiny_data.y_test[:8])
    out = tiny_model(x, training=False)
    alone = Trainer(tiny_model, learning_rate=1e-3, total_steps=1, teacher=twin, distill=1.0)
    mixed = Trainer(tiny_model, learning_rate=1e-3, total_steps=1, teacher=twin, distill=0.25)
    labels = Trainer(tiny_model, learning_rate=1e-3, total_steps=1)
    taught = twin(x, training=False)
    assert abs(float(alone._loss(y, out, taught))) < 1e-5
    np.testing.assert_allclose(
        float(mixed._loss(y, out, taught)), 0.75 * float(labels._loss(y, out)), rtol=1e-4
    )
