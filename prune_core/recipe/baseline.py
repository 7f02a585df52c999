"""What a recipe prunes (`BaselineSpec`): the model, the data it learns, and how its dense baseline
is trained. Part of `prune_core.recipe.spec` (which re-exports it); pure Python."""

from __future__ import annotations

from dataclasses import dataclass, fields

from prune_core.errors import SpecError
from prune_core.recipe.fields import MAX_EPOCHS, MAX_IMAGE_SIZE, option
from prune_core.recipe.fields import check_choice as _check_choice
from prune_core.recipe.fields import check_int as _check_int
from prune_core.recipe.fields import check_prefixed as _check_prefixed

MODELS = ("efficientnet-compact", "efficientnet-b0", "tiny-cnn")
#: The pixel range a model was trained on; images are read as 0–255 and mapped to it.
PIXEL_RANGES = ("0-255", "0-1", "-1-1")
DATASETS = ("digits", "shapes", "cifar10", "synthetic")
WEIGHTS = ("none", "imagenet")


@dataclass(frozen=True)
class BaselineSpec:
    """What is pruned: the model, the data it learns, and how its dense baseline is trained."""

    model: str = option(
        "efficientnet-compact", "efficientnet-compact | efficientnet-b0 | tiny-cnn | file:PATH"
    )
    dataset: str = option(
        "digits",
        "digits | shapes | cifar10 | synthetic | folder:PATH (memory:NAME: arrays from Python)",
    )
    weights: str = option("none", "none | imagenet | file:PATH (efficientnet-b0)")
    image_size: int = option(32, "input size in pixels (square; a model file fixes its own)")
    baseline_epochs: int = option(
        40, "epochs to train the dense baseline (trained once, then cached)"
    )
    pixels: str = option(
        "0-255",
        "the pixel range a model file was trained on; images are mapped to it (write "
        "--pixels=-1-1; the built-in models take 0-255)",
        PIXEL_RANGES,
    )

    def __post_init__(self):
        _check_prefixed(self.model, MODELS, ("file:",), "model")
        _check_prefixed(self.dataset, DATASETS, ("folder:", "memory:"), "dataset")
        _check_prefixed(self.weights, WEIGHTS, ("file:",), "weights")
        _check_int("baseline_epochs", self.baseline_epochs, 1, MAX_EPOCHS)
        _check_int("image_size", self.image_size, 8, MAX_IMAGE_SIZE)
        _check_choice(self.pixels, PIXEL_RANGES, "pixel range")
        if self.pixels != PIXEL_RANGES[0] and not self.model.startswith("file:"):
            raise SpecError(
                "the built-in models scale their own input and take pixels 0-255: a pixel range "
                "applies to a model file only"
            )
        if self.pixels != PIXEL_RANGES[0] and self.dataset.startswith("memory:"):
            raise SpecError("data passed from Python goes to the model as given: scale it yourself")
        if self.model.startswith("file:"):  # a model file is taken as trained, at its own size
            defaults = {f.name: f.default for f in fields(self)}
            if self.baseline_epochs != defaults["baseline_epochs"]:
                raise SpecError(
                    "a model file is used as it was trained: baseline epochs apply to the "
                    "built-in models only (leave them out)"
                )
            if self.image_size != defaults["image_size"]:
                raise SpecError(
                    "a model file fixes its own input size: an image size applies to the "
                    "built-in models only (leave it out)"
                )
