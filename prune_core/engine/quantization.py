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
squeeze-excite `Multiply`) compute in float and quantize only their output, with a
range learned as the activations' are. The output range is not optional: a quantized convolution
fed by a tensor without one (the stem convolution after `Normalization`) converted to a layer
whose output was constant, and the compact EfficientNet's int8 file predicted one class for
every image. Element-wise arithmetic written as a Python operator (`x + skip`, recorded as a
`TFOpLambda` with the second tensor a keyword argument) is rewritten as the layer it stands for
(`Add`, `Subtract`, `Multiply`; `Rescaling` for a number) first: tfmot clones the model, and
tf_keras cannot re-run such a node from its config (RegNet's residual joins failed with "'list'
object has no attribute 'dtype'"). `deploy.to_tflite(qat, "int8", images)` converts it like any
int8 export. Each int8 file is checked afterwards (`deploy.zeros_kept`): its weight tensors are
read back and the Keras model's zero weights counted where they are still zero.
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


#: Op-lambda functions of two tensors, by the merge layer that computes the same.
_MERGE_LAYERS = {
    "__operators__.add": "Add",
    "math.add": "Add",
    "__operators__.sub": "Subtract",
    "math.subtract": "Subtract",
    "__operators__.mul": "Multiply",
    "math.multiply": "Multiply",
}
#: Op-lambda functions of a tensor and a number c, by the `Rescaling` (scale, offset) they are.
_SCALINGS = {
    "__operators__.add": lambda c: (1.0, c),
    "math.add": lambda c: (1.0, c),
    "__operators__.sub": lambda c: (1.0, -c),
    "math.subtract": lambda c: (1.0, -c),
    "__operators__.mul": lambda c: (c, 0.0),
    "math.multiply": lambda c: (c, 0.0),
    "__operators__.truediv": lambda c: (1.0 / c, 0.0),
    "math.truediv": lambda c: (1.0 / c, 0.0),
    "math.divide": lambda c: (1.0 / c, 0.0),
}


def _tensor_ref(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0


def _as_layer(layer: dict) -> dict | None:
    """The config of the layer an element-wise op-lambda stands for, or None (left as it is)."""
    function = layer.get("config", {}).get("function")
    nodes = layer.get("inbound_nodes") or []
    if layer.get("class_name") != "TFOpLambda" or len(nodes) != 1:
        return None
    node = nodes[0]  # an op-lambda's node is one reference: [name, node, tensor, kwargs]
    if not (isinstance(node, (list, tuple)) and len(node) == 4 and _tensor_ref(node[:3])):
        return None
    kwargs = node[3] or {}
    other = kwargs.get("y")
    if set(kwargs) - {"y", "name"}:
        return None
    base = {
        "name": layer["config"]["name"],
        "trainable": layer["config"].get("trainable", True),
        "dtype": layer["config"].get("dtype", "float32"),
    }
    first = [*node[:3], {}]
    if _tensor_ref(other) and function in _MERGE_LAYERS:
        return {
            "class_name": _MERGE_LAYERS[function],
            "name": base["name"],
            "config": base,
            "inbound_nodes": [[first, [*other, {}]]],
        }
    if _number(other) and function in _SCALINGS:
        scale, offset = _SCALINGS[function](float(other))
        return {
            "class_name": "Rescaling",
            "name": base["name"],
            "config": {**base, "scale": scale, "offset": offset},
            "inbound_nodes": [[first]],
        }
    return None


def operators_as_layers(model):
    """A copy of functional `model` (same weights) whose element-wise op-lambdas are the layers
    they stand for: two tensors (`x + y`, `x * y`, `x - y`) → `Add` / `Multiply` / `Subtract`; a
    tensor and a number (`x * 0.5`, `x + 1`) → `Rescaling`. Other op-lambdas stay as they are."""
    config = model.get_config()
    layers = config.get("layers", [])
    rewritten = [_as_layer(layer) for layer in layers]
    if not any(rewritten):
        return models.clone(model)
    config["layers"] = [new or old for new, old in zip(rewritten, layers)]
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


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

    copy = operators_as_layers(model)
    left = [layer.name for layer in copy.layers if type(layer).__name__ == "TFOpLambda"]
    if left:  # tfmot's clone would call them with their input in a list (a wrong shape, or worse)
        raise ValueError(
            f"op-lambda layers no Keras layer stands for ({', '.join(left[:3])}"
            f"{', …' if len(left) > 3 else ''}) cannot be wrapped for quantization-aware training"
        )
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
