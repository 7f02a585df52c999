"""The engine from Python: prune a Keras model already in memory, on arrays or `tf.data` datasets
already in memory, with the recipe fields of the command line (`prune_core.prune`).

The model goes through the same door as an uploaded file: it is saved once under the data
directory (`uploads/notebook/`), checked by the same allow-lists and loaded back, so a notebook
run is refused for exactly what the CLI refuses, and its result names a file the dashboard can
open. The data becomes a `memory:NAME` dataset: the same splits and checks as an image folder,
held by this process only. What comes back is the pruned model and the typed `RunResult`; its
JSON line (`Pruned.write_jsonl`) imports into the dashboard with `python -m prune_core import`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prune_core import paths
from prune_core.data.datasets import VAL_FRACTION, Dataset
from prune_core.engine import models, pipeline
from prune_core.engine.keras_env import keras, tf
from prune_core.errors import DataError, ModelError, SpecError
from prune_core.progress import Progress
from prune_core.recipe.options import completed
from prune_core.recipe.spec import RunSpec
from prune_core.results import diagnosis
from prune_core.results.run_result import RunResult


@dataclass(frozen=True)
class Pruned:
    """What `prune` returns: the pruned Keras model (a new one; the input is never changed) and
    its measured result."""

    model: object
    result: RunResult
    #: what the numbers say went wrong (a dense model at chance, a collapse), in plain sentences
    warnings: tuple = ()

    def write_jsonl(self, path) -> Path:
        """Append the result as one JSON line, for `python -m prune_core import PATH`."""
        path = Path(path)
        with path.open("a") as out:
            out.write(json.dumps(self.result.to_dict(), default=float) + "\n")
        return path


def _arrays(data, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) from an (x, y) pair or a `tf.data.Dataset` of (x, y), batched or not."""
    if isinstance(data, tf.data.Dataset):
        xs, ys = [], []
        for element in data.as_numpy_iterator():
            if not (isinstance(element, tuple) and len(element) == 2):
                raise DataError(f"{what}: a tf.data dataset must yield (images, labels) pairs")
            xs.append(element[0])
            ys.append(element[1])
        if not xs:
            raise DataError(f"{what}: the tf.data dataset is empty")
        batched = np.ndim(xs[0]) == 4
        x = np.concatenate(xs) if batched else np.stack(xs)
        y = np.concatenate([np.reshape(v, (-1,)) for v in ys]) if batched else np.stack(ys)
        return x, y
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    raise DataError(f"{what} must be (images, labels) arrays or a tf.data dataset of such pairs")


def _checked(x, y, what: str, shape: tuple, classes: int) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise DataError(f"{what}: images must be (N, {', '.join(map(str, shape))}), got {x.shape}")
    if y.ndim == 2 and y.shape[1] == classes and len(y) == len(x):
        raise DataError(f"{what}: labels must be class indices (use y.argmax(axis=1)), not one-hot")
    y = np.reshape(y, (-1,))
    if len(y) != len(x) or not len(x):
        raise DataError(f"{what}: {len(x)} images but {len(y)} labels")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= classes:
        raise DataError(f"{what}: labels must be integers from 0 to {classes - 1}")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise DataError(f"{what}: images must be finite numbers")
    return x, y.astype(np.int32)


def _split_validation(x, y, seed: int):
    """A stratified share of the training arrays, when no validation set is given."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    stratify = y if (counts[counts > 0] >= 2).all() else None
    try:
        return train_test_split(x, y, test_size=VAL_FRACTION, stratify=stratify, random_state=seed)
    except ValueError:
        raise DataError("train: too few images to hold some out for validation") from None


def dataset_of(model, train, test, validation=None, *, name: str = "arrays", seed: int = 0):
    """A `Dataset` from arrays in memory, checked against `model`'s input and classes."""
    shape, classes = tuple(model.input_shape[1:]), int(model.output_shape[-1])
    x_train, y_train = _checked(*_arrays(train, "train"), "train", shape, classes)
    x_test, y_test = _checked(*_arrays(test, "test"), "test", shape, classes)
    if validation is None:
        x_train, x_val, y_train, y_val = _split_validation(x_train, y_train, seed)
    else:
        x_val, y_val = _checked(*_arrays(validation, "validation"), "validation", shape, classes)
    return Dataset(
        f"memory:{name}",
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        tuple(str(c) for c in range(classes)),
    )


def _saved(model, root: Path | None) -> tuple[Path, bool]:
    """(the model saved once under the data directory, named by its content; whether it was
    written now)."""
    digest = hashlib.sha256(json.dumps(model.get_config(), default=str).encode())
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    folder = paths.uploads_dir(root) / "notebook"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.name}-{digest.hexdigest()[:16]}.keras"
    if path.exists():
        return path, False
    models.save(model, path)
    return path, True


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def prune(
    model,
    train,
    test,
    *,
    validation=None,
    name: str = "arrays",
    on_progress=None,
    should_cancel=None,
    root: Path | None = None,
    **recipe,
) -> Pruned:
    """Prune `model` (a trained tf_keras model, left unchanged) and fine-tune it on `train`,
    measuring it on `test`: each an (images, labels) pair of arrays or a `tf.data` dataset of
    them, images as the model takes them, labels as class indices. `recipe`: the command line's
    fields by name (`strategy="taylor"`, `sparsity=0.8`, `granularity="structured"`, …); those
    left out are the dashboard's defaults. `on_progress(Progress)` is called as the run works;
    `should_cancel()` returning True stops it (`prune_core.Canceled`)."""
    for field in ("model", "dataset", "image_size", "baseline_epochs", "weights"):
        if field in recipe:
            raise SpecError(f"{field!r} is what you pass in here, not a recipe field")
    if not isinstance(model, keras.Model):
        raise ModelError("model must be a tf_keras model (import tf_keras, not keras 3)")
    flat = completed({**recipe, "model": "file:model.keras", "dataset": f"memory:{name}"})
    seed = RunSpec.from_dict(flat).training.seed  # the recipe refused before anything is written
    dataset = dataset_of(model, train, test, validation, name=name, seed=seed)
    path, fresh = _saved(model, root)
    try:
        models.load_user_model(str(path))  # the upload's own checks
    except ModelError:
        if fresh:
            path.unlink(missing_ok=True)
        raise
    spec = RunSpec.from_dict({**flat, "model": f"file:{path}"})
    result, pruned = pipeline.run_keeping_model(
        spec,
        root,
        on_progress or (lambda p: None),
        should_cancel or (lambda: False),
        model_path=paths.runs_dir(root) / f"notebook-{path.stem}-{_digest(spec.to_json())}.keras",
        dataset=dataset,
    )
    return Pruned(pruned, result, tuple(diagnosis.warnings(result, dataset.num_classes)))


__all__ = ["prune", "Pruned", "Progress", "dataset_of"]
