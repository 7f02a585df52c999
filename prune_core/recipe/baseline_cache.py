"""Where a recipe's trained dense baseline is cached, and the training constants its key covers.
TensorFlow-free, so the dashboard can tell before queueing whether a baseline must be trained first
(the engine trains and loads it: `engine.baselines`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from prune_core import paths

#: Peak learning rate and warm-up of the baseline recipe (measured: 40 epochs → 99 % on digits).
BASELINE_LR = 3e-3
WARMUP_EPOCHS = 2
#: BatchNorm momentum of the built-in models: Keras' 0.99 is too slow for ~40 steps per epoch.
BN_MOMENTUM = 0.9
#: Version of the step that ends baseline training: "settled" re-estimates BatchNorm on
#: un-augmented training images, as every pruned run does (the statistics training leaves behind
#: lag the weights: on Shapes they cost the dense model 6.6 pp).
FINISH = "settled"


def recipe_key(spec) -> str:
    """The recipe's baseline key plus the training constants: changing them retrains."""
    constants = (
        f"{spec.baseline_key()}|lr={BASELINE_LR}|warmup={WARMUP_EPOCHS}|bn={BN_MOMENTUM}"
        f"|aug=v1|finish={FINISH}"
    )
    return hashlib.sha256(constants.encode()).hexdigest()[:16]


def cache_path(spec, root: Path | None = None) -> Path:
    model, dataset = paths.slug(spec.baseline.model), paths.slug(spec.baseline.dataset)
    return paths.baselines_dir(root) / f"{model}--{dataset}--{recipe_key(spec)}.keras"


def needs_training(spec, root: Path | None = None) -> bool:
    """True when a run of this recipe must train its dense baseline first: a built-in model whose
    baseline is not cached yet (a user's model file is its own baseline)."""
    return not spec.baseline.model.startswith("file:") and not cache_path(spec, root).exists()
