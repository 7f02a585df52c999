"""What a user's model file and image folder hold, read without TensorFlow, and whether they fit
together: the page says it beside the fields and refuses a mismatch before anything is queued."""

from __future__ import annotations

from dataclasses import dataclass

from prune_core.data import image_folders, model_files
from prune_core.errors import PruneError

#: Classes of the built-in datasets (a folder's are its sub-folders).
CLASS_COUNTS = {"digits": 10, "cifar10": 10, "synthetic": 3}


@dataclass(frozen=True)
class ModelShape:
    """A model file's architecture as its config states it."""

    name: str
    layers: int
    input_shape: tuple | None  # without the batch axis; None when the config does not say
    outputs: int | None  # units of the last Dense layer: the classes it predicts

    def text(self) -> str:
        shape = "×".join("?" if d is None else str(d) for d in self.input_shape or ())
        parts = [self.name, f"{self.layers} layers", f"input {shape or '?'}"]
        return " · ".join(parts + ([f"{self.outputs} outputs"] if self.outputs else []))


def model_shape(config: dict) -> ModelShape:
    """Read the name, layer count, input shape and output units off a checked model config."""
    layers = model_files.layers_of(config)
    shape = None
    for layer in layers:
        cfg = layer.get("config") or {}
        found = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if isinstance(found, list) and len(found) >= 2:
            shape = tuple(found[1:])
            break
    units = [(layer.get("config") or {}).get("units") for layer in layers]
    units = [u for u in units if isinstance(u, int)]
    name = str((config.get("config") or {}).get("name") or config.get("class_name"))[:60]
    return ModelShape(name, len(layers), shape, units[-1] if units else None)


def read_model(path_text: str) -> ModelShape:
    """A user's model file, checked against the allow-lists, described (ModelError if refused)."""
    path = model_files.checked_path(path_text)
    config = model_files.read_config(path)
    model_files.check_config(config, path.name)
    return model_shape(config)


def folder_text(folder: image_folders.ImageFolder) -> str:
    counts = folder.counts().values()
    return (
        f"{len(folder.classes)} classes · {len(folder.files)} images · "
        f"{min(counts)}–{max(counts)} per class"
    )


def class_count(dataset: str) -> int | None:
    """Classes of a recipe's dataset: a built-in's, or a folder's sub-folders (None when the folder
    cannot be read any more)."""
    if dataset.startswith("folder:"):
        try:
            return len(image_folders.scan(dataset[len("folder:") :]).classes)
        except PruneError:
            return None
    return CLASS_COUNTS.get(dataset)


def check(model: str, dataset: str) -> tuple[list[str], str | None]:
    """(what was read, one line per file; the problem, or None) for a recipe's model and dataset
    names: a file that a job would refuse, or a model whose outputs do not match the classes."""
    read, outputs, classes = [], None, CLASS_COUNTS.get(dataset)
    try:
        if model.startswith("file:"):
            shape = read_model(model[len("file:") :])
            read.append(f"Model: {shape.text()}")
            outputs = shape.outputs
        if dataset.startswith("folder:"):
            folder = image_folders.scan(dataset[len("folder:") :])
            read.append(f"Images: {folder_text(folder)}")
            classes = len(folder.classes)
    except PruneError as exc:
        return read, str(exc)
    if outputs is not None and classes is not None and outputs != classes:
        return read, (
            f"the model predicts {outputs} classes but the data has {classes}: choose data with "
            f"{outputs} classes, or a model whose last layer has {classes} outputs"
        )
    return read, None
