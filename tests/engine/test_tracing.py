"""Tests for prune_core.engine.tracing: one graph for every batch size."""

import numpy as np
import pytest

from prune_core.engine.keras_env import tf
from prune_core.engine.tracing import open_batch


def test_a_partial_batch_runs_the_graph_traced_for_the_first():
    traced = []

    @open_batch
    def double(x, y):
        traced.append(x.shape)  # Python runs only while tracing
        return x * 2, y + 1

    for n in (16, 16, 5, 1, 16):
        x, y = double(np.ones((n, 4, 4, 3), np.float32), np.arange(n, dtype=np.int32))
        assert x.shape == (n, 4, 4, 3) and y.shape == (n,)
        assert float(tf.reduce_max(x)) == 2.0 and int(y[-1]) == n
    assert len(traced) == 1 and traced[0].as_list() == [None, 4, 4, 3]
    assert double.tracing_count() == 1


def test_other_dimensions_and_dtypes_stay_those_of_the_first_call():
    f = open_batch(lambda x: x + 1)
    f(np.zeros((2, 3), np.float32))
    with pytest.raises((TypeError, ValueError)):
        f(np.zeros((2, 4), np.float32))


def test_training_traces_its_step_once_with_a_partial_last_batch(tiny_data, tiny_model):
    """Once, not three times: the optimizer's slots and the augmentation's random state exist
    before the first call (a function that creates variables is traced twice), and the last
    batch of 8 runs the graph traced for 16."""
    from prune_core.engine.training import Trainer

    x, y = tiny_data.x_train[:40], tiny_data.y_train[:40]
    trainer = Trainer(tiny_model, learning_rate=1e-3, total_steps=6)
    history = trainer.fit(x, y, epochs=2, batch_size=16)  # batches of 16, 16 and 8
    assert [h["steps"] for h in history] == [3, 3]
    assert trainer._step.tracing_count() == 1


def test_tracing_once_changes_nothing_the_steps_compute(tiny_data):
    """The same weights as a plain `tf.function` whose first call makes its variables: the
    augmentation's random streams and the optimizer's slots are the same, made earlier."""
    from prune_core.engine import models
    from prune_core.engine.training import Trainer

    x, y = tiny_data.x_train[:40], tiny_data.y_train[:40]
    weights = []
    for plain in (False, True):
        model = models.build("tiny-cnn", tiny_data.num_classes, 16, seed=0)
        trainer = Trainer(model, learning_rate=1e-3, total_steps=6, seed=3)
        if plain:
            trainer._step = tf.function(trainer._train_step)
            trainer._create_variables = lambda: None
        trainer.fit(x, y, epochs=2, batch_size=16)
        weights.append(model.get_weights())
    for once, plain in zip(*weights):
        np.testing.assert_allclose(once, plain, atol=1e-6)
