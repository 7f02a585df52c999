"""Training and evaluation read an image folder batch by batch, with the same batches, losses and
accuracy as the same images held in memory; the order is the one training always used."""

import numpy as np
import pytest

from prune_core.data import datasets as data
from prune_core.engine import datasets, metrics, models
from prune_core.engine.keras_env import tf
from prune_core.engine.training import Trainer


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The synthetic set's images written as a folder of PNGs, one sub-folder per class."""
    from PIL import Image

    root = tmp_path_factory.mktemp("synthetic-folder")
    whole = data.load("synthetic", 16, 0)
    x = np.concatenate([whole.x_train, whole.x_val, whole.x_test])
    y = np.concatenate([whole.y_train, whole.y_val, whole.y_test])
    for i, (image, label) in enumerate(zip(x, y)):
        (root / whole.class_names[label]).mkdir(exist_ok=True)
        Image.fromarray(image).save(root / whole.class_names[label] / f"{i:04d}.png")
    return root


def test_each_epoch_takes_the_order_a_shuffled_tensor_dataset_took():
    n, seed = 37, 5
    before = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
    expected = [list(before.as_numpy_iterator()) for _ in range(3)]
    orders = datasets.epoch_orders(n, seed)
    assert [next(orders).tolist() for _ in range(3)] == expected


def test_a_folder_trains_and_evaluates_as_the_same_images_in_memory(folder):
    streamed = data.load_folder(str(folder), 16, 0)
    histories, weights = [], []
    for x in (streamed.x_train, streamed.x_train[:]):  # decoded batch by batch; held whole
        model = models.build("tiny-cnn", 3, 16, seed=1)
        trainer = Trainer(model, learning_rate=1e-3, total_steps=12, seed=2)
        histories.append(trainer.fit(x, streamed.y_train, epochs=2, batch_size=16, seed=3))
        weights.append(model.get_weights())
        evaluated = metrics.evaluator(model, streamed.x_test, streamed.y_test, batch_size=7)()
        in_memory = metrics.evaluator(model, streamed.x_test[:], streamed.y_test, batch_size=7)()
        assert evaluated == pytest.approx(in_memory, abs=1e-6)
        np.testing.assert_array_equal(
            metrics.predicted_classes(model, streamed.x_test, batch_size=5),
            np.argmax(model(streamed.x_test[:].astype(np.float32)).numpy(), axis=-1),
        )
    assert [h["loss"] for h in histories[0]] == pytest.approx([h["loss"] for h in histories[1]])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-5)
