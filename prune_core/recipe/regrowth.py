"""Dynamic sparse training: RigL's prune-and-regrow (Evci et al., 2020, "Rigging the Lottery").

The sparsity stays at its target while fine-tuning moves it: every `every` steps, until `end` of the
fine-tune steps, each pruned kernel drops the fraction f(t) of its kept weights with the smallest
magnitude and regrows as many, where the dense gradient is largest, starting at zero. f decays as
RigL's cosine: f(t) = fraction/2 · (1 + cos(π t / (end · T))).

A small value object with its own checks (like `prune_core.recipe.schedules`); numpy only. The
engine (`prune_core.engine.pruners.base.MaskedPruner`) computes the gradients and applies `move`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prune_core.errors import SpecError


@dataclass(frozen=True)
class RigL:
    fraction: float = 0.3  # of each kernel's kept weights, at the first update
    every: int = 100  # fine-tune steps between updates
    end: float = 0.75  # the share of fine-tune steps after which the mask stays as it is

    @classmethod
    def of(cls, pruning) -> RigL | None:
        """The recipe's RigL settings, or None without regrowth."""
        return (
            cls(pruning.regrow_fraction, pruning.regrow_every) if pruning.regrow == "rigl" else None
        )

    def last_step(self, total_steps: int) -> int:
        return int(self.end * total_steps)

    def updates(self, total_steps: int) -> list[int]:
        """The fine-tune steps (1-based, like the trainer's) at which weights move."""
        return list(range(self.every, self.last_step(total_steps), self.every))

    def fraction_at(self, step: int, total_steps: int) -> float:
        return (
            self.fraction / 2 * (1 + math.cos(math.pi * step / max(self.last_step(total_steps), 1)))
        )

    def validate_for(self, total_steps: int) -> None:
        """Refuse a recipe whose RigL would never move a weight within its fine-tune budget."""
        if not self.updates(total_steps):
            raise SpecError(
                f"RigL moves weights every {self.every} steps until step "
                f"{self.last_step(total_steps)} "
                f"of {total_steps} fine-tune steps: no update would happen. Make the interval "
                f"smaller "
                f"than {max(self.last_step(total_steps), 1)} steps, or fine-tune longer"
            )


def move(
    mask: np.ndarray, weights: np.ndarray, gradients: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """One kernel's (new mask, grown): its `count` kept weights of smallest magnitude dropped, and
    `count` of the weights it does not keep after the drop grown where |gradient| is largest (a
    weight just dropped may come back; it restarts at zero like every grown one). The number kept
    stays the same. Ties go by position (stable sorts)."""
    shape = np.shape(mask)
    flat_mask = np.asarray(mask, dtype=np.float32).ravel().copy()
    kept = np.flatnonzero(flat_mask)
    count = int(min(count, kept.size, flat_mask.size - kept.size))
    grown = np.zeros_like(flat_mask)
    if count <= 0:
        return flat_mask.reshape(shape), grown.reshape(shape)
    magnitude = np.abs(np.asarray(weights, dtype=np.float64).ravel())[kept]
    flat_mask[kept[np.argsort(magnitude, kind="stable")[:count]]] = 0.0
    grow = np.abs(np.asarray(gradients, dtype=np.float64).ravel()).copy()
    grow[flat_mask > 0] = -np.inf
    chosen = np.argsort(-grow, kind="stable")[:count]
    flat_mask[chosen], grown[chosen] = 1.0, 1.0
    return flat_mask.reshape(shape), grown.reshape(shape)
