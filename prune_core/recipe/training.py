"""A recipe's fine-tune budget (`TrainingSpec`): epochs, learning rate, batch, seed and
distillation from the dense model. Part of `prune_core.recipe.spec` (which re-exports it); pure
Python."""

from __future__ import annotations

from dataclasses import dataclass

from prune_core.errors import SpecError
from prune_core.recipe.fields import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, MAX_TEMPERATURE, option
from prune_core.recipe.fields import check_int as _check_int


@dataclass(frozen=True)
class TrainingSpec:
    """The fine-tune budget (also the baseline's batch size and seed)."""

    fine_tune_epochs: int = option(8, "epochs of fine-tuning after (or while) pruning")
    learning_rate: float = option(1e-3, "peak fine-tune learning rate (cosine decay)")
    batch_size: int = option(32, "batch size for training and fine-tuning")
    seed: int = option(0, "seed for data splits, initialisation, calibration and shuffling")
    distill: float = option(
        0.0,
        "weight of the dense model's softened outputs in the fine-tune loss, against the labels' "
        "(0: labels only, 1: the dense model only; knowledge distillation)",
    )
    temperature: float = option(
        4.0, "distillation temperature: how far the dense model's outputs are softened"
    )

    def __post_init__(self):
        for name, low, high in (
            ("fine_tune_epochs", 0, MAX_EPOCHS),
            ("batch_size", 1, MAX_BATCH_SIZE),
            ("seed", 0, MAX_SEED),
        ):
            _check_int(name, getattr(self, name), low, high)
        if not (0.0 < self.learning_rate < 1.0):
            raise SpecError(f"learning rate must be in (0, 1), got {self.learning_rate}")
        if not (0.0 <= self.distill <= 1.0):
            raise SpecError(
                f"the distillation weight must be in 0…1 (0: off), got {self.distill:g}"
            )
        if not (0.0 < self.temperature <= MAX_TEMPERATURE):
            raise SpecError(
                f"the distillation temperature must be in (0, {MAX_TEMPERATURE:g}], got "
                f"{self.temperature:g}"
            )
