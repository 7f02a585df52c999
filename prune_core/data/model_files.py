"""A user's Keras model file, checked before anything in it is built (no TensorFlow needed).

A `.keras` / `.h5` file names the classes, modules and functions Keras will instantiate. Keras' own
safe mode refuses `Lambda` bytecode, but other layers still run code the file names: `TFOpLambda`
calls any TensorFlow function by name, and a `.keras` config names the Python module of each object.
So a file is read as JSON first and loaded only when everything it names is on an allow-list
(`model_allowlist`):
- layers: the built-ins the engine understands (`prune_core.engine.layers.TYPES`) and a few
  harmless others EfficientNet-style models use;
- `TFOpLambda` ("op-lambda") layers: only element-wise arithmetic and activations;
- modules: Keras' own (`keras.*`, `tf_keras.*`), and the few exact objects stock applications save
  from elsewhere (`STOCK_FOREIGN_OBJECTS`); no custom objects (registered names).
The first offending layer is named in one line.
"""

from __future__ import annotations

from pathlib import Path

from prune_core.data.model_allowlist import (
    ACTIVATION_MODULES,
    ACTIVATIONS,
    LAYER_CLASSES,
    MODEL_CLASSES,
    MODULE_PREFIXES,
    OBJECT_CLASSES,
    OP_FUNCTIONS,
    STOCK_CUSTOM_OBJECTS,
    STOCK_FOREIGN_OBJECTS,
)
from prune_core.data.model_storage import check_storage, read_config
from prune_core.errors import ModelError


def _check_object(obj: dict, filename: str) -> None:
    """A serialized object that is not a layer: one of Keras' built-in initializers, regularizers,
    constraints and policies, or an activation function of Keras' own, by an explicit allow-list
    (a module-less function or one from any other `keras.*` module is refused here, not in the
    job)."""
    cls = obj.get("class_name")
    if cls in LAYER_CLASSES or cls in MODEL_CLASSES or cls in OBJECT_CLASSES:
        return
    if cls == "function":
        name, module = obj.get("config"), obj.get("module")
        if name in ACTIVATIONS and isinstance(module, str) and module in ACTIVATION_MODULES:
            return
        raise ModelError(
            f"{filename}: the function {str(name)[:60]!r} from {str(module)[:60]!r} is not one of "
            "Keras' activations; only those are loaded"
        )
    raise ModelError(
        f"{filename}: a {str(cls)[:60]} object is not one this tool loads (built-in "
        "initializers, regularizers, constraints and activations only)"
    )


def _check_activations(config: dict, filename: str) -> None:
    for layer in layers_of(config):
        activation = (layer.get("config") or {}).get("activation")
        if isinstance(activation, str) and activation not in ACTIVATIONS:
            name = str((layer.get("config") or {}).get("name", "?"))[:60]
            raise ModelError(
                f"{filename}: layer {name} names the activation {activation[:60]!r}, which is "
                "not one of Keras' own"
            )


def _built(config: dict) -> dict:
    """The part of a `.keras` config that loading builds: a compiled model's `compile_config`
    (loss, metrics, optimizer) is never read, since the tool loads with `compile=False`."""
    return {k: v for k, v in config.items() if k != "compile_config"}


def checked_config(path: Path, filename: str | None = None, weights: Path | None = None) -> dict:
    """The one check every model file passes before anything loads it — at upload, on the page and
    in the job: its weights all inside it, a config of bounded size, and every layer and object the
    config names on the allow-lists. Returns the config; ModelError in one line otherwise."""
    name = filename or path.name
    config = read_config(path)
    check_storage(path, weights)
    check_config(config, name)
    if problem := input_problem(stated_input_shape(config), name):
        raise ModelError(problem)
    outputs = stated_outputs(config)
    if outputs is not None and not 1 <= outputs <= MAX_OUTPUTS:
        raise ModelError(f"{name} predicts {outputs:,} classes; a run takes 1 to {MAX_OUTPUTS:,}")
    layers = {id(layer) for layer in layers_of(config)}  # checked as layers, with their own words
    for obj in _objects(_built(config)):
        if id(obj) not in layers and obj is not config:
            _check_object(obj, name)
    _check_activations(config, name)
    return config


def layers_of(config: dict) -> list:
    """Every layer entry of a (possibly nested) model config."""
    found = []
    for layer in (config.get("config") or {}).get("layers") or []:
        if isinstance(layer, dict):
            found.append(layer)
            if layer.get("class_name") in MODEL_CLASSES:
                found += layers_of(layer)
    return found


#: Layers that scale raw pixels at a model's input; and the layers that start its real work.
_SCALING = {"Rescaling", "Normalization", "TFOpLambda"}
_WORK = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense"}


def scales_its_input(config: dict) -> bool:
    """Whether a Rescaling, Normalization or arithmetic layer comes before the first convolution
    or Dense layer: a model that takes raw pixels 0–255, as every run feeds them."""
    for layer in layers_of(config):
        name = layer.get("class_name")
        if name in _SCALING:
            return True
        if name in _WORK:
            return False
    return False


#: The largest input a model may take: the recipe's own image-size limit
#: (`recipe.fields.MAX_IMAGE_SIZE`; a 4096² input asks for tens of GiB in the first layer).
MAX_INPUT_SIZE = 1024
#: The most classes a model may predict.
MAX_OUTPUTS = 100_000


def input_problem(shape: tuple | None, filename: str) -> str | None:
    """Why a model with this input shape (without the batch axis) cannot take the runs' images —
    square RGB, (S, S, 3) with 1 ≤ S ≤ `MAX_INPUT_SIZE` — or None when it can (or the shape is
    not stated)."""
    if shape is None:
        return None
    shape = tuple(shape)
    text = "(N, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    if len(shape) != 3 or shape[0] is None or shape[0] != shape[1] or shape[2] != 3:
        return f"{filename} must take square RGB images (N, S, S, 3); its input is {text}"
    if not isinstance(shape[0], int) or not 1 <= shape[0] <= MAX_INPUT_SIZE:
        return (
            f"{filename} takes {shape[0]}×{shape[1]} images; a run takes 1 to "
            f"{MAX_INPUT_SIZE:,} pixels a side"
        )
    return None


def stated_input_shape(config: dict) -> tuple | None:
    """The input shape (without the batch axis) a model config states, or None."""
    for layer in layers_of(config):
        cfg = layer.get("config") or {}
        found = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if isinstance(found, list) and len(found) >= 2:
            return tuple(found[1:])
    return None


def stated_outputs(config: dict) -> int | None:
    """Units of the last Dense layer: the classes the model predicts (None when there is none)."""
    units = [(layer.get("config") or {}).get("units") for layer in layers_of(config)]
    units = [u for u in units if isinstance(u, int) and not isinstance(u, bool)]
    return units[-1] if units else None


def _objects(value):
    """Every serialized object (a dict naming a class) anywhere in the config."""
    if isinstance(value, dict):
        if "class_name" in value:
            yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def check_config(config: dict, filename: str) -> None:
    """Refuse (ModelError, one line) a config that names a layer, function, module or custom object
    outside the allow-lists."""
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        raise ModelError(
            f"{filename} does not hold a Keras model (found {str(config.get('class_name'))[:40]!r})"
            if isinstance(config, dict)
            else f"{filename} does not hold a Keras model"
        )
    for obj in _objects(_built(config)):
        name = (
            (obj.get("config") or {}).get("name") if isinstance(obj.get("config"), dict) else None
        )
        label = f"{obj.get('class_name')!s:.60}" + (f" {name!s:.60}" if name else "")
        module = obj.get("module")
        if (
            module is not None
            and (module, obj.get("class_name")) not in STOCK_FOREIGN_OBJECTS
            and not (
                isinstance(module, str)
                and (module in ("keras", "tf_keras") or module.startswith(MODULE_PREFIXES))
            )
        ):
            raise ModelError(
                f"{filename}: {label} names the Python module {str(module)[:80]!r}; only Keras' "
                f"own "
                "objects are loaded"
            )
        registered = obj.get("registered_name")
        if (
            registered is not None
            and registered != obj.get("class_name")
            and (module, obj.get("class_name"), registered) not in STOCK_CUSTOM_OBJECTS
        ):
            raise ModelError(
                f"{filename}: {label} is a custom object ({str(registered)[:80]!r}); only Keras' "
                "built-in objects are loaded"
            )
    for layer in layers_of(config):
        cls, name = layer.get("class_name"), str((layer.get("config") or {}).get("name", "?"))[:60]
        if cls == "Lambda":
            raise ModelError(
                f"{filename} contains a Lambda layer ({name}: arbitrary Python code); it is "
                f"refused "
                "in safe mode. Replace the Lambda with a built-in or registered layer and save "
                "again"
            )
        if cls == "TFOpLambda":
            function = (layer.get("config") or {}).get("function")
            if function not in OP_FUNCTIONS:
                raise ModelError(
                    f"{filename}: layer {name} calls the TensorFlow function "
                    f"{str(function)[:80]!r}; "
                    "only element-wise arithmetic and activations are loaded"
                )
        elif cls not in LAYER_CLASSES and cls not in MODEL_CLASSES:
            raise ModelError(
                f"{filename}: layer {name} is a {str(cls)[:60]}, which this tool does not load "
                "(built-in Keras layers only: Conv2D, DepthwiseConv2D, Dense, BatchNormalization, "
                "pooling, activations, Add, Multiply, …)"
            )


def checked_path(path_text: str) -> Path:
    """The path of a user's model file, or a ModelError in one line (odd paths included)."""
    try:
        path = Path(path_text).expanduser()
        exists = path.is_file()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(
            f"model file {str(path_text)[:120]!r} cannot be read ({type(exc).__name__})"
        ) from None
    if not exists:
        raise ModelError(f"model file {str(path_text)[:200]!r} does not exist")
    if path.suffix not in (".keras", ".h5"):
        raise ModelError(f"model file {path.name[:120]!r} must end in .keras or .h5")
    return path
