"""What a run starts from, checked before any training: the dataset at the model's input size, a
user's model file, the dense baseline (cached, or trained once) and the calibration examples. The
pipeline and the profiler both begin here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from prune_core.data.datasets import in_range
from prune_core.engine import baselines, criteria, datasets, models, structure
from prune_core.errors import ModelError
from prune_core.recipe.regrowth import RigL


def calibration_set(spec, dataset) -> criteria.Calibration:
    """The first N training examples of a seeded shuffle (stratified enough for N ≥ classes)."""
    rng = np.random.default_rng(spec.training.seed)
    idx = rng.permutation(len(dataset.x_train))[: spec.pruning.calibration_examples]
    return criteria.Calibration(
        dataset.x_train[idx].astype(np.float32),
        dataset.y_train[idx],
        batch_size=32 if spec.pruning.strategy == "fisher" else 64,
    )


def resolve_dataset(spec, baseline=None):
    """The recipe's dataset at the model's input size (a user's file fixes its own size), its
    pixels in the range the model was trained on."""
    size = spec.baseline.image_size
    if baseline is not None and spec.baseline.model.startswith("file:"):
        size = int(baseline.input_shape[1])
    loaded = datasets.load(spec.baseline.dataset, size, spec.training.seed)
    return in_range(loaded, spec.baseline.pixels)


def _check_classes(model, dataset):
    classes = int(model.output_shape[-1])
    if classes != dataset.num_classes:
        raise ModelError(
            f"the model predicts {classes} classes but {dataset.name} has {dataset.num_classes}"
        )


def check(spec, dataset=None):
    """Everything that can be refused before any training: data, a user's model file, the schedule
    against the fine-tune steps. Returns (dataset, the user's model or None). `dataset`: arrays
    already in memory (the Python API), instead of the recipe's named dataset."""
    model, pruning = spec.baseline.model, spec.pruning
    user_model = (
        models.load_user_model(model[len("file:") :]) if model.startswith("file:") else None
    )
    dataset = dataset if dataset is not None else resolve_dataset(spec, user_model)
    if user_model is not None:
        _check_classes(user_model, dataset)
        if not criteria.find_targets(
            user_model, prune_head=pruning.prune_head, prune_depthwise=pruning.prune_depthwise
        ):
            raise ModelError("the model has no Conv2D or Dense kernel that this recipe may prune")
        if pruning.granularity == "structured" and (
            why := structure.unprunable(structure.trace(user_model))
        ):
            raise ModelError(why)
    steps_per_epoch = dataset.steps_per_epoch(spec.training.batch_size)
    spec.schedule.validate_for(spec.training.fine_tune_epochs * steps_per_epoch, steps_per_epoch)
    rigl = RigL.of(pruning)
    if rigl is not None:
        rigl.validate_for(spec.training.fine_tune_epochs * steps_per_epoch)
    return dataset, user_model


def cached_baseline(spec, root: Path | None = None):
    """The recipe's dense baseline if it is at hand (a user's file, or the cache), else None: an
    export job times against it but never trains one."""
    if spec.baseline.model.startswith("file:"):
        return models.load_user_model(spec.baseline.model[len("file:") :])
    return baselines.load_cached(spec, root)


def baseline_for(
    spec, dataset, user_model, root=None, on_progress=lambda p: None, should_cancel=lambda: False
):
    """(the dense baseline, its dense summary, whether it came from a cache or a file)."""
    if user_model is not None:
        return user_model, baselines.dense_summary(user_model, dataset), True
    model, info = baselines.get(spec, dataset, root, on_progress, should_cancel)
    return model, info["dense"], bool(info.get("cached"))
