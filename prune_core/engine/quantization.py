"""Sparsity-preserving int8: quantization-aware fine-tuning that keeps the zeros, for a pruned
model whose post-training int8 export lost its accuracy.

Post-training quantization rounds every weight and activation to 8 bits with ranges calibrated on a
few images; after heavy pruning a few channels carry most of the signal and per-tensor activation
ranges leave the rest little resolution. Quantization-aware training lets the weights adapt to the
rounding. tfmot's prune-preserving scheme (`Default8BitPrunePreserveQuantizeScheme`, its
"collaborative optimization") multiplies every Conv2D / Dense kernel by the mask of its non-zero
weights before it fake-quantizes it, so the zeros get no gradient and the int8 file keeps them.
It trains on plain images with every BatchNorm in inference mode (`freeze_batch_norm`): its
statistics stay those of the pruned model.

Layers tfmot's 8-bit scheme has no rule for (EfficientNet's `Rescaling`, `Normalization`, the
squeeze-excite `Multiply`, op-lambdas) compute in float and quantize only their output, with a
range learned as the activations' are. The output range is not optional: a quantized convolution
fed by a tensor without one (the stem convolution after `Normalization`) converted to a layer
whose output was constant, and the compact EfficientNet's int8 file predicted one class for
every image. `deploy.to_tflite(qat, "int8", images)` converts it like any int8 export. Each
int8 file is checked afterwards (`deploy.zeros_kept`): its weight tensors are read back and the
Keras model's zero weights counted where they are still zero.
"""

from __future__ import annotations

from prune_core.engine import models
from prune_core.engine.keras_env import keras, tf
from prune_core.engine.training import Trainer

#: Layer classes tfmot's default 8-bit registry quantizes (or passes through by its own rule).
QUANTIZED = frozenset(
    {
        "Conv2D",
        "DepthwiseConv2D",
        "Dense",
        "BatchNormalization",
        "Activation",
        "ReLU",
        "Add",
        "Concatenate",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "MaxPooling2D",
        "GlobalMaxPooling2D",
        "Reshape",
        "Flatten",
        "Dropout",
        "ZeroPadding2D",
        "Softmax",
        "InputLayer",
    }
)
#: Epochs and peak learning rate of the quantization-aware fine-tune (the weights are already
#: trained: it only adapts them to the rounding).
QAT_EPOCHS, QAT_LEARNING_RATE = 2, 1e-4


def _tfmot():
    import tensorflow_model_optimization as tfmot

    return tfmot


def _output_only_config():
    """A QuantizeConfig for a layer without a tfmot rule: it computes in float and quantizes its
    output (a moving-average range, as tfmot's activations), so the next layer's input has one."""
    qk = _tfmot().quantization.keras

    class OutputOnly(qk.QuantizeConfig):
        def get_weights_and_quantizers(self, layer):
            return []

        def get_activations_and_quantizers(self, layer):
            return []

        def set_quantize_weights(self, layer, quantize_weights):
            pass

        def set_quantize_activations(self, layer, quantize_activations):
            pass

        def get_output_quantizers(self, layer):
            return [
                qk.quantizers.MovingAverageQuantizer(
                    num_bits=8, per_axis=False, symmetric=False, narrow_range=False
                )
            ]

        def get_config(self):
            return {}

    return OutputOnly


def quantization_aware(model):
    """A copy of `model` wrapped for prune-preserving quantization-aware training (the input model
    is not changed). Raises ValueError / RuntimeError where tfmot cannot wrap a layer."""
    tfmot = _tfmot()
    qk = tfmot.quantization.keras
    output_only = _output_only_config()

    def annotate(layer):
        if type(layer).__name__ in QUANTIZED:
            return qk.quantize_annotate_layer(layer)
        return qk.quantize_annotate_layer(layer, output_only())

    copy = models.clone(model)
    annotated = keras.models.clone_model(copy, clone_function=annotate)
    annotated.set_weights(copy.get_weights())
    with qk.quantize_scope({"OutputOnly": output_only}):
        return qk.quantize_apply(
            annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
        )


def zero_masks(model) -> list:
    """(kernel variable, 0/1 mask) for every kernel holding zeros. tfmot's prune-preserving scheme
    keeps the zeros of Conv2D and Dense kernels but not of depthwise ones; the training step
    multiplies each kernel by its mask, so no pruned weight grows back in any layer."""
    out = []
    for variable in model.trainable_variables:
        if "kernel" not in variable.name.split("/")[-1]:
            continue
        value = variable.numpy()
        if (value == 0).any():
            out.append((variable, tf.Variable((value != 0).astype(value.dtype), trainable=False)))
    return out


def freeze_batch_norm(qat) -> None:
    """Run every BatchNorm of the wrapped model in inference mode, as the int8 file will: its
    statistics stay the pruned model's, re-estimated on plain training images (its scale and
    shift still train). Trained from augmented batches instead, the statistics drifted and the
    int8 file lost 5.6 pp on Shapes at 80 % (docs/benchmarks/recovery.md, section int8-shapes)."""
    for layer in qat.layers:
        inner = getattr(layer, "layer", layer)
        if type(inner).__name__ == "BatchNormalization":
            inner.trainable = False  # a BatchNorm that is not trainable normalizes as in inference


def fine_tune(
    qat,
    dataset,
    *,
    batch_size: int,
    seed: int = 0,
    epochs: int | None = None,
    learning_rate: float | None = None,
    on_progress=lambda p: None,
    should_cancel=lambda: False,
) -> list:
    """Train the wrapped model on the plain training images, its zeros held (`zero_masks`) and
    its BatchNorm statistics held (`freeze_batch_norm`); returns the per-epoch history. Defaults:
    `QAT_EPOCHS`, `QAT_LEARNING_RATE`."""
    epochs = QAT_EPOCHS if epochs is None else epochs
    learning_rate = QAT_LEARNING_RATE if learning_rate is None else learning_rate
    steps = epochs * dataset.steps_per_epoch(batch_size)
    freeze_batch_norm(qat)
    trainer = Trainer(
        qat,
        learning_rate=learning_rate,
        total_steps=max(steps, 1),
        augment=False,
        seed=seed,
        masks=zero_masks(qat),
    )
    return trainer.fit(
        dataset.x_train,
        dataset.y_train,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        phase="exporting",
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
