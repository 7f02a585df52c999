"""Tests for prune_core.engine.quantization and its place in the export: quantization-aware
fine-tuning keeps every zero of a pruned model, wraps the layers tfmot has no rule for, and runs
(as its own format) only when post-training int8 lost accuracy."""

import numpy as np
import pytest

from prune_core.engine import deploy, models, quantization
from prune_core.engine.training import Trainer
from prune_core.results.deployment import Deployment
from tests.engine.helpers import small_model


def _pruned(model, share=0.7, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ in ("Conv2D", "DepthwiseConv2D", "Dense"):
            weights = layer.get_weights()
            weights[0] = weights[0] * (rng.random(weights[0].shape) > share)
            layer.set_weights(weights)
    return model


@pytest.fixture(scope="module")
def pruned(tiny_data):
    model = models.build("tiny-cnn", tiny_data.num_classes, 16, seed=0)
    Trainer(model, learning_rate=1e-2, total_steps=60, augment=False).fit(
        tiny_data.x_train, tiny_data.y_train, epochs=10, batch_size=16
    )
    return _pruned(model)


def test_quantization_aware_training_keeps_every_zero_into_the_int8_file(pruned, tiny_data):
    before = [w.copy() for w in pruned.get_weights()]
    qat = quantization.quantization_aware(pruned)
    history = quantization.fine_tune(qat, tiny_data, batch_size=16, epochs=1)
    assert history and np.isfinite(history[0]["loss"])
    # exactly zero in the trained float weights too (tfmot's scheme holds no depthwise zeros)
    zeros = pruned.get_layer("dw1").depthwise_kernel.numpy() == 0
    trained = [v for v in qat.trainable_variables if "depthwise_kernel" in v.name]
    assert zeros.any() and len(trained) == 1
    assert np.all(trained[0].numpy()[zeros] == 0)
    content = deploy.to_tflite(qat, "int8", tiny_data.x_train[:10])
    assert deploy.zeros_kept(pruned, content) == 1.0
    # the input model is not changed
    for old, new in zip(before, pruned.get_weights()):
        np.testing.assert_array_equal(old, new)
    keras_top1 = (
        pruned.predict(tiny_data.x_test.astype(np.float32), verbose=0).argmax(1) == tiny_data.y_test
    ).mean()
    int8_top1 = (deploy.predict(content, tiny_data.x_test) == tiny_data.y_test).mean()
    assert int8_top1 >= keras_top1 - 0.15  # 36 test images


def _efficientnet_stem():
    """The compact EfficientNet's stem and first block (Rescaling, Normalization, the
    squeeze-excite Multiply: the layers tfmot has no rule for) under a small head whose outputs
    span a few units (the 8-bit grid of an initial −6…6 range is 0.05)."""
    from prune_core.engine.keras_env import keras

    full = models.build("efficientnet-compact", 3, 32, seed=0)
    features = keras.layers.GlobalAveragePooling2D()(full.get_layer("block1a_project_bn").output)
    head = keras.layers.Dense(3, kernel_initializer=keras.initializers.RandomNormal(0, 10, seed=0))
    return _pruned(keras.Model(full.input, head(features)), share=0.5)


def test_layers_without_a_tfmot_rule_pass_through_and_the_int8_file_computes_what_keras_does():
    """A pass-through layer quantizes its output. Without it the stem convolution, fed by a
    tensor with no learned range, converted to a layer whose output was constant: every image got
    the same prediction (the compact EfficientNet's quantization-aware int8 fell to chance)."""
    model = _efficientnet_stem()
    qat = quantization.quantization_aware(model)
    x = np.random.default_rng(0).uniform(0, 255, (32, 32, 32, 3)).astype(np.float32)
    for _ in range(3):
        assert qat(x, training=True).shape == (32, 3)  # the ranges learn from this batch
    content = deploy.to_tflite(qat, "int8", x[:8])
    assert deploy.zeros_kept(model, content) == 1.0
    keras_out = qat(x, training=False).numpy()
    litert_out = _invoke(content, x)
    assert np.abs(litert_out - keras_out).mean() < 0.05 * np.abs(keras_out).max()
    assert (litert_out.argmax(1) == keras_out.argmax(1)).mean() >= 0.9
    varying = keras_out.std(0) > 0.05  # the outputs that follow the image in Keras do in LiteRT
    assert varying.any()
    assert np.all(litert_out.std(0)[varying] > 0.5 * keras_out.std(0)[varying])


def _invoke(content: bytes, x: np.ndarray) -> np.ndarray:
    interp = deploy.interpreter(content, batch=len(x))
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def test_quantization_aware_fine_tuning_keeps_the_batch_norm_statistics(tiny_data):
    """BatchNorm's statistics stay the pruned model's (re-estimated on plain images); trained from
    augmented batches they drifted and the int8 file lost 5.6 pp on Shapes."""
    from prune_core.engine.keras_env import keras

    L = keras.layers
    inp = keras.Input((16, 16, 3))
    x = L.Activation("relu")(L.BatchNormalization(name="bn")(L.Conv2D(8, 3, name="conv")(inp)))
    head = L.Dense(tiny_data.num_classes, activation="softmax")
    model = _pruned(keras.Model(inp, head(L.GlobalAveragePooling2D()(x))))
    bn = model.get_layer("bn")
    statistics = [bn.moving_mean.numpy(), bn.moving_variance.numpy()]
    qat = quantization.quantization_aware(model)
    quantization.fine_tune(qat, tiny_data, batch_size=16, epochs=1, learning_rate=1e-2)
    trained = next(v for v in qat.trainable_variables if v.name.startswith("conv/kernel"))
    assert not np.allclose(trained.numpy(), model.get_layer("conv").kernel.numpy())
    wrapped = qat.get_layer("quant_bn").layer
    np.testing.assert_array_equal(wrapped.moving_mean.numpy(), statistics[0])
    np.testing.assert_array_equal(wrapped.moving_variance.numpy(), statistics[1])


def test_a_zero_dropped_by_the_file_is_counted():
    model = _pruned(small_model())
    content = deploy.to_tflite(model)
    assert deploy.zeros_kept(model, content) == 1.0
    layer = model.get_layer("conv_b")
    weights = layer.get_weights()
    zero = np.argwhere(weights[0] == 0)[0]
    weights[0][tuple(zero)] = 0.5  # the file now holds a weight where the model has none
    layer.set_weights(weights)
    stale = deploy.to_tflite(model)
    weights[0][tuple(zero)] = 0.0
    layer.set_weights(weights)
    assert deploy.zeros_kept(model, stale) < 1.0


def test_the_export_adds_a_quantization_aware_int8_only_when_int8_lost(
    pruned, tiny_data, tmp_path, monkeypatch
):
    monkeypatch.setattr(deploy, "QAT_MARGIN", -1.0)  # as if int8 had lost: fine-tune it
    monkeypatch.setattr(quantization, "QAT_EPOCHS", 1)
    result = deploy.export_all(
        pruned, tiny_data, tmp_path, representative=20, repeats=2, rounds=1, batch_size=16
    )
    assert result.get("int8_qat", "zeros_kept") == 1.0 == result.get("int8", "zeros_kept")
    assert 0 <= result.get("int8_qat", "top1") <= 1 and result.get("int8_qat", "ms_b1_p50") > 0
    assert Deployment.from_dict(result.to_dict()) == result


def _export_with_qat(pruned, tiny_data, tmp_path, monkeypatch, **options):
    """An export that must try quantization-aware int8 (as if int8 had lost accuracy)."""
    monkeypatch.setattr(deploy, "QAT_MARGIN", -1.0)
    quick = dict(representative=10, repeats=2, rounds=1, batch_size=16)
    return deploy.export_all(pruned, tiny_data, tmp_path, **quick, **options)


@pytest.mark.parametrize("error", [RuntimeError, AttributeError])
def test_a_model_tfmot_cannot_wrap_still_exports_and_says_why(
    pruned, tiny_data, tmp_path, monkeypatch, error
):
    """Whatever tfmot or Keras raises while wrapping (RegNet's op-lambdas once raised an
    AttributeError from inside a clone), the run keeps its other exports and says why."""

    def refuse(model):
        raise error("Layer ln is not supported")

    monkeypatch.setattr(quantization, "quantization_aware", refuse)
    said = []
    result = _export_with_qat(pruned, tiny_data, tmp_path, monkeypatch, on_progress=said.append)
    assert result.get("int8", "top1") is not None and result.get("int8_qat", "bytes") is None
    assert any("no quantization-aware int8 for this model: Layer ln" in m for m in said)


def test_an_export_that_may_not_train_tries_no_fine_tune(pruned, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "QAT_MARGIN", -1.0)
    said = []
    result = deploy.export_all(
        pruned, tiny_data, tmp_path, repeats=2, rounds=1, on_progress=said.append
    )
    assert result.get("int8_qat", "bytes") is None
    assert not any("quantization-aware" in m for m in said)


def test_the_wrapped_model_keeps_its_softmax_for_the_loss(pruned):
    from prune_core.engine.models import outputs_logits

    assert not outputs_logits(pruned)  # tiny-cnn ends in softmax
    assert not outputs_logits(quantization.quantization_aware(pruned))


def test_a_cancel_stops_the_quantization_aware_fine_tune_and_caches_nothing(
    pruned, tiny_data, tmp_path, monkeypatch
):
    from prune_core.errors import Canceled

    with pytest.raises(Canceled):
        _export_with_qat(pruned, tiny_data, tmp_path, monkeypatch, should_cancel=lambda: True)
    assert not list(tmp_path.glob("exports/*/metrics.json"))


def _operator_model(relu6: bool):
    from prune_core.engine.keras_env import keras, tf

    layers = keras.layers
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    y = layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same")(x))
    z = layers.ReLU()((y + x) * x - y)
    z = layers.Activation("relu")(z * 0.5 + 1.0) / 4.0  # numbers: a Rescaling each
    if relu6:
        z = tf.nn.relu6(z)  # no layer stands for it: stays an op-lambda
    return keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(z)))


def _kinds(model) -> list:
    return [type(layer).__name__ for layer in model.layers]


def test_python_operators_become_merge_layers_so_tfmot_can_wrap_the_model():
    """`y + x`, `y * x`, `y - x` on two tensors (op-lambdas; RegNet writes its residual joins so)
    are rewritten as Add / Multiply / Subtract, and a tensor and a number as Rescaling, computing
    the same; tf_keras could not re-run them from the config tfmot clones, so quantization-aware
    int8 failed on every such model. An op-lambda no layer stands for is refused in words."""
    model = _operator_model(relu6=True)
    assert _kinds(model).count("TFOpLambda") == 7

    rewritten = quantization.operators_as_layers(model)
    kinds = _kinds(rewritten)
    assert {"Add", "Multiply", "Subtract"} <= set(kinds) and kinds.count("Rescaling") == 3
    assert kinds.count("TFOpLambda") == 1
    images = np.random.default_rng(0).random((4, 8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(rewritten(images), model(images), rtol=1e-6, atol=1e-6)
    assert _kinds(model).count("TFOpLambda") == 7  # the input model is unchanged

    with pytest.raises(ValueError, match=r"op-lambda layers .*\(tf.nn.relu6(_\d+)?\) cannot be"):
        quantization.quantization_aware(model)  # refused before tfmot gets a wrong shape
    plain = _operator_model(relu6=False)
    wrapped = quantization.quantization_aware(plain)
    assert wrapped(images).shape == (4, 3) and "TFOpLambda" not in _kinds(wrapped)
