"""Baselines are trained once and cached: every pruning run starts from the same dense model.

The cache key covers model, dataset, seed, weights, image size and the training settings
(`RunSpec.baseline_key`). A file lock keeps two workers from training the same baseline at once.
A user's own model file is its own baseline (taken as already trained; see `run_inputs.check`).
"""

from __future__ import annotations

import fcntl
import json
import time
from dataclasses import fields
from pathlib import Path

from prune_core.engine import datasets, metrics, models
from prune_core.engine.keras_env import load_model
from prune_core.engine.training import Trainer, recalibrate_batchnorm
from prune_core.progress import Progress
from prune_core.recipe.baseline_cache import BASELINE_LR, WARMUP_EPOCHS, cache_path, recipe_key
from prune_core.results.run_result import DenseReference


def _load(path: Path):
    return load_model(path)


def load_cached(spec, root: Path | None = None):
    """The recipe's cached baseline, or None when it has not been trained yet (never trains)."""
    path = cache_path(spec, root)
    return _load(path) if path.exists() else None


def train(spec, dataset, on_progress=lambda p: None, should_cancel=lambda: False):
    """A freshly trained dense baseline (not cached). Returns (model, info)."""
    model = models.build(
        spec.baseline.model,
        dataset.num_classes,
        spec.baseline.image_size,
        spec.baseline.weights,
        spec.training.seed,
    )
    spe = dataset.steps_per_epoch(spec.training.batch_size)
    trainer = Trainer(
        model,
        learning_rate=BASELINE_LR,
        total_steps=spec.baseline.baseline_epochs * spe,
        warmup_steps=min(WARMUP_EPOCHS * spe, spec.baseline.baseline_epochs * spe // 2),
        seed=spec.training.seed,
    )
    start = time.perf_counter()
    history = trainer.fit(
        dataset.x_train,
        dataset.y_train,
        epochs=spec.baseline.baseline_epochs,
        batch_size=spec.training.batch_size,
        seed=spec.training.seed,
        phase="baseline training",
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
    # The moving statistics lag the weights and describe augmented images; every pruned run gets
    # this same re-estimation, so without it "pruned vs dense" would flatter pruning.
    on_progress(Progress("baseline training", message="re-estimating BatchNorm statistics"))
    recalibrate_batchnorm(model, dataset.x_train, seed=spec.training.seed)
    return model, {"train_seconds": time.perf_counter() - start, "history": history}


def dense_summary(model, dataset) -> dict:
    """The dense reference every pruned run is compared with (measured once per baseline)."""
    measured = metrics.measure(model, [], dataset)
    return {f.name: measured[f.name] for f in fields(DenseReference) if f.name in measured}


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(".tmp-" + path.name)
    tmp.write_text(json.dumps(payload))
    tmp.replace(path)


def get(
    spec,
    dataset=None,
    root: Path | None = None,
    on_progress=lambda p: None,
    should_cancel=lambda: False,
):
    """(baseline model, info) for a recipe: from the cache, or trained now and cached."""
    dataset = dataset or datasets.load(
        spec.baseline.dataset, spec.baseline.image_size, spec.training.seed
    )
    path = cache_path(spec, root)
    info_path = path.with_suffix(".json")
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and info_path.exists():
            on_progress(Progress("loading baseline", message="using the cached baseline"))
            model, info = _load(path), json.loads(info_path.read_text())
            if "dense" not in info:  # caches written before dense summaries existed
                info["dense"] = dense_summary(model, dataset)
                _write_json(info_path, info)
            return model, {**info, "cached": True}
        model, info = train(spec, dataset, on_progress, should_cancel)
        models.save(model, path)
        model = _load(path)  # what every later run will load
        on_progress(Progress("measuring", message="measuring the dense baseline"))
        info = {**info, "dense": dense_summary(model, dataset), "key": recipe_key(spec)}
        info.update(top1=info["dense"]["top1"], top5=info["dense"]["top5"])
        _write_json(info_path, info)
    return model, {**info, "cached": False}
