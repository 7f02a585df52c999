"""Stock `tf_keras.applications` CNNs, a fast subset (bench/bench_applications.py runs them all
through the command line; EfficientNetV2's stock initializer is tested in test_model_files;
separable convolutions and ConvNeXt's blocks in test_layer_coverage, on small models): each
saved as a user would, checked and loaded by the tool, its channels cut to −30 % FLOPs and its
weights masked, then one training step on the smaller model."""

import numpy as np
import pytest

from prune_core.engine import channels, criteria, metrics, models, structure, surgery
from prune_core.engine.keras_env import keras, tf


def _saved(tmp_path, name: str, size: int, **kwargs):
    build = getattr(keras.applications, name)
    model = build(weights=None, input_shape=(size, size, 3), classes=3, **kwargs)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return models.load_user_model(str(path))  # the upload's own check, then Keras' safe mode


@pytest.mark.parametrize(
    "name, size, kwargs",
    [
        ("MobileNetV2", 32, {"alpha": 0.35}),  # inverted residuals, depthwise, ReLU6
        ("ResNet50", 32, {}),  # bottlenecks with 1×1 stride-2 projection shortcuts
        ("RegNetX002", 32, {}),  # grouped convolutions, residual joins written `x + skip`
    ],
)
def test_a_stock_application_loses_channels_and_weights_and_still_trains(
    tmp_path, name, size, kwargs
):
    model = _saved(tmp_path, name, size, **kwargs)
    groups = structure.trace(model)
    assert sum(g.prunable for g in groups) >= 5, [g.fixed_reason for g in groups][:5]
    targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
    scores = dict(zip([t.name for t in targets], criteria.score("magnitude", model, targets)))
    cost = channels.CostModel(model, groups)
    plan = channels.select(
        groups, channels.importance(model, groups, scores), target=0.3, cost=cost, budget="flops"
    )
    smaller = surgery.apply(model, plan)
    removed = 1 - metrics.flops(smaller)["flops"] / metrics.flops(model)["flops"]
    assert removed >= 0.3 - 0.01
    assert smaller.count_params() < model.count_params()

    # one training step of the smaller model, the last partial batch's odd size included
    x = tf.constant(np.random.default_rng(0).integers(0, 255, (9, size, size, 3)), tf.float32)
    optimizer = keras.optimizers.Adam(1e-3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(tf.zeros(9, tf.int32), smaller(x))
        )
    grads = tape.gradient(loss, smaller.trainable_variables)
    optimizer.apply_gradients(zip(grads, smaller.trainable_variables))
    assert np.isfinite(float(loss))

    # single weights: half of every prunable kernel's weights zeroed by magnitude, shapes kept
    for target in criteria.find_targets(model):
        kernel = target.variable.numpy()
        mask = np.abs(kernel) >= np.median(np.abs(kernel))
        target.variable.assign(kernel * mask)
    assert metrics.flops(model)["theoretical_speedup"] > 1.5
