"""Model builders and the safe loader for a user's own Keras file.

Every model is built through `tf_keras` (Keras 2), takes uint8-range pixels (0–255) and ends in a
softmax classifier layer named `predictions` (for built-in models).
"""

from __future__ import annotations

from pathlib import Path

from prune_core.data import model_files
from prune_core.data.model_storage import extracted_weights
from prune_core.engine import nesting
from prune_core.engine.keras_env import keras, load_model
from prune_core.errors import ModelError
from prune_core.recipe.baseline_cache import BN_MOMENTUM

HEAD_NAME = "predictions"
#: The CPU default: EfficientNet's MBConv + squeeze-excite + swish blocks at half width and depth.
COMPACT_WIDTH = 0.5
COMPACT_DEPTH = 0.5


def _with_head(backbone, num_classes: int, dropout: float, name: str):
    x = backbone.output
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="top_dropout")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name=HEAD_NAME)(x)
    return keras.Model(backbone.input, out, name=name)


def _set_bn_momentum(model, momentum: float):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    return model


def _backbone_weights(weights: str):
    if weights == "none":
        return None
    if weights == "imagenet":
        return "imagenet"
    path = Path(weights[len("file:") :]).expanduser()
    if not path.is_file():
        raise ModelError(f"weights file {str(path)!r} does not exist")
    return str(path)


def build_efficientnet_b0(num_classes: int, image_size: int, weights: str = "none"):
    try:
        backbone = keras.applications.EfficientNetB0(
            include_top=False,
            weights=_backbone_weights(weights),
            input_shape=(image_size, image_size, 3),
            pooling="avg",
        )
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = (
            " (ImageNet weights must be downloaded; offline, pass weights=file:PATH)"
            if weights == "imagenet"
            else ""
        )
        raise ModelError(
            f"could not load EfficientNetB0 weights {weights!r}: {first}{hint}"
        ) from None
    return _set_bn_momentum(_with_head(backbone, num_classes, 0.2, "efficientnet_b0"), BN_MOMENTUM)


def build_efficientnet_compact(num_classes: int, image_size: int):
    from tf_keras.src.applications.efficientnet import EfficientNet

    backbone = EfficientNet(
        COMPACT_WIDTH,
        COMPACT_DEPTH,
        default_size=image_size,
        dropout_rate=0.2,
        drop_connect_rate=0.1,
        model_name="efficientnet_compact",
        include_top=False,
        weights=None,
        input_shape=(image_size, image_size, 3),
        pooling="avg",
    )
    return _set_bn_momentum(
        _with_head(backbone, num_classes, 0.2, "efficientnet_compact"), BN_MOMENTUM
    )


def build_tiny_cnn(num_classes: int, image_size: int):
    """A few-thousand-parameter CNN with every layer kind the engine handles; for tests."""
    layers = keras.layers
    inp = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(1.0 / 255.0)(inp)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Activation("relu")(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw1")(x)
    x = layers.Conv2D(16, 1, activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu", name="fc1")(x)
    out = layers.Dense(num_classes, activation="softmax", name=HEAD_NAME)(x)
    return keras.Model(inp, out, name="tiny_cnn")


def build(model: str, num_classes: int, image_size: int, weights: str = "none", seed: int = 0):
    """A fresh, untrained (or ImageNet-initialised) model for a recipe's `model` name."""
    keras.utils.set_random_seed(seed)
    if model == "efficientnet-compact":
        return build_efficientnet_compact(num_classes, image_size)
    if model == "efficientnet-b0":
        return build_efficientnet_b0(num_classes, image_size, weights)
    if model == "tiny-cnn":
        return _set_bn_momentum(build_tiny_cnn(num_classes, image_size), BN_MOMENTUM)
    raise ModelError(f"unknown model {model!r}")


# ---- the user's own file ------------------------------------------------------------------------
def load_user_model(path_text: str):
    """Load a user's Keras model in safe mode, after its config passed the allow-lists
    (`prune_core.data.model_files`): no Lambda layers, no functions, modules or custom objects
    beyond them."""
    path = model_files.checked_path(path_text)
    # the weights extracted once: the file that passed the checks is the one loaded
    with extracted_weights(path) as weights:
        model_files.checked_config(path, weights=weights)
        try:
            model = load_model(path, weights)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"could not load {path.name}: {first[:200]}") from None
    if (
        not isinstance(model, keras.Model)
        or not model.built
        or len(model.outputs) != 1
        or len(model.inputs) != 1
    ):
        raise ModelError(f"{path.name} must be a model with one image input and one class output")
    # a backbone called as one layer, ConvNeXt's stem: unfolded into one graph
    model = nesting.flatten(model, path.name)
    # the same layers as a functional graph, which pruning can trace
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    if problem := model_files.input_problem(model.input_shape[1:], path.name):
        raise ModelError(problem)
    return model


def outputs_logits(model) -> bool:
    """True when the last layer does not end in softmax, so losses must use from_logits (a layer
    inside a tfmot wrapper, pruning or quantization, is read through it)."""
    last = model.layers[-1]
    last = getattr(last, "layer", last)
    activation = getattr(last, "activation", None)
    activation = getattr(activation, "activation", activation)  # tfmot's QuantizeAwareActivation
    name = getattr(activation, "__name__", "") if activation is not None else ""
    return not (name == "softmax" or isinstance(last, keras.layers.Softmax))


def clone(model):
    """An independent copy with the same weights (the input model is never mutated)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def save(model, path: Path) -> Path:
    """Save atomically (write beside, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        model.save(str(tmp), include_optimizer=False) if path.suffix == ".h5" else model.save(
            str(tmp)
        )
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk (or a kill) leaves no half-written file behind
        raise
    return path


__all__ = ["build", "load_user_model", "outputs_logits", "clone", "save", "HEAD_NAME"]
