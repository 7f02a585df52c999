"""What a user's model file and image folder hold, read without TensorFlow, and whether they fit
together: the page says it beside the fields and refuses a mismatch before anything is queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prune_core.data import image_folders, model_files
from prune_core.errors import PruneError

#: Classes of the built-in datasets (a folder's are its sub-folders).
CLASS_COUNTS = {"digits": 10, "shapes": 10, "cifar10": 10, "synthetic": 3}


@dataclass(frozen=True)
class ModelShape:
    """A model file's architecture as its config states it."""

    name: str
    layers: int
    input_shape: tuple | None  # without the batch axis; None when the config does not say
    outputs: int | None  # units of the last Dense layer: the classes it predicts
    scales_input: bool = True  # a Rescaling (or like) layer before its first convolution

    def text(self) -> str:
        shape = "×".join("?" if d is None else str(d) for d in self.input_shape or ())
        parts = [self.name, f"{self.layers} layers", f"input {shape or '?'}"]
        return " · ".join(parts + ([f"{self.outputs} outputs"] if self.outputs else []))


def model_shape(config: dict) -> ModelShape:
    """Read the name, layer count, input shape and output units off a checked model config."""
    name = str((config.get("config") or {}).get("name") or config.get("class_name"))[:60]
    return ModelShape(
        name,
        len(model_files.layers_of(config)),
        model_files.stated_input_shape(config),
        model_files.stated_outputs(config),
        model_files.scales_its_input(config),
    )


def read_model(path_text: str) -> ModelShape:
    """A user's model file, checked against the allow-lists, described (ModelError if refused)."""
    path = model_files.checked_path(path_text)
    config = model_files.checked_config(path)
    return model_shape(config)


def folder_text(folder: image_folders.ImageFolder, smallest: tuple | None = None) -> str:
    counts = folder.counts().values()
    return f"{len(folder.classes)} classes · {len(folder.files)} images · " + (
        f"{min(counts)}–{max(counts)} per class"
        + (f" · smallest {smallest[0]}×{smallest[1]}" if smallest else "")
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


@dataclass(frozen=True)
class Preflight:
    """What a page says beside the model and data fields before anything is queued: what was read
    (a line per file), the problem that would fail the job (None when there is none), and notes
    that do not stop it but may explain a poor result."""

    read: list
    problem: str | None = None
    notes: list = field(default_factory=list)


#: How a page names each pixel range (`recipe.spec.PIXEL_RANGES`).
PIXEL_NAMES = {"0-255": "0–255", "0-1": "0–1", "-1-1": "−1–1"}


def check(model: str, dataset: str, pixels: str = "0-255") -> Preflight:
    """A recipe's model and dataset names, read and checked together: a file a job would refuse,
    a model whose outputs do not match the classes or whose input takes no RGB images (the
    engine's own rules), and notes on image sizes and the pixel range the model is fed."""
    read, notes, shape, classes, smallest = [], [], None, CLASS_COUNTS.get(dataset), None
    try:
        if model.startswith("file:"):
            shape = read_model(model[len("file:") :])
            read.append(f"Model: {shape.text()}")
        if dataset.startswith("folder:"):
            folder = image_folders.scan(dataset[len("folder:") :])
            smallest = image_folders.verify(folder)[0]  # every image decoded
            read.append(f"Images: {folder_text(folder, smallest)}")
            classes = len(folder.classes)
    except PruneError as exc:
        return Preflight(read, str(exc))
    if shape is None:
        return Preflight(read)
    filename = model[len("file:") :].rsplit("/", 1)[-1]
    if problem := model_files.input_problem(shape.input_shape, filename):
        return Preflight(read, problem)
    if shape.outputs is not None and classes is not None and shape.outputs != classes:
        return Preflight(
            read,
            f"the model predicts {shape.outputs} classes but the data has {classes}: choose data "
            f"with {shape.outputs} classes, or a model whose last layer has {classes} outputs",
        )
    size = shape.input_shape[0] if shape.input_shape else None
    if size and smallest and min(smallest) < size:
        notes.append(
            f"The smallest images ({smallest[0]}×{smallest[1]}) are enlarged to the model's "
            f"{size}×{size} input; enlarged images carry no more detail."
        )
    given = PIXEL_NAMES.get(pixels, pixels)
    if shape.scales_input:
        read.append(f"Pixels: {given}; the model scales its own input (its first layers do)")
    else:
        read.append(f"Pixels: {given}, as chosen; the model has no scaling layer of its own")
    if not shape.scales_input and pixels == "0-255":
        notes.append(
            "The model has no Rescaling or Normalization layer before its first convolution, "
            "and is given pixels 0–255. If it was trained on 0–1 or −1–1 inputs, choose that "
            'range under "Pixels it was trained on"; otherwise its accuracy will be near chance.'
        )
    elif shape.scales_input and pixels != "0-255":
        notes.append(
            f"The model scales its own input, which usually means it takes pixels 0–255; it will "
            f"be given {given}. Choose 0–255 unless it was trained that way."
        )
    return Preflight(read, None, notes)


def inspect(path_text: str) -> Preflight:
    """One model file or one image folder, checked alone (`python -m prune_core inspect`)."""
    try:
        folder = Path(path_text).expanduser().is_dir()
    except (OSError, ValueError):
        folder = False
    return check("", f"folder:{path_text}") if folder else check(f"file:{path_text}", "")
