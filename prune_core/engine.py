"""Masked pruning: score → select → apply masks, and fine-tuning that keeps them applied.

The pruner owns one 0/1 mask variable per target kernel. `update(sparsity)` re-scores the current
weights with the recipe's criterion, selects (removed weights stay removed) and zeroes the kernel;
the `Trainer` multiplies each kernel by its mask after every optimizer step. The model stays a
plain Keras model throughout, so there are no wrappers to strip.
"""
from __future__ import annotations

import numpy as np

from prune_core import criteria, selection
from prune_core.keras_env import tf
from prune_core.training import Progress, Trainer, check_cancel


class MaskedPruner:
    def __init__(self, model, strategy: str, *, scope: str = "layerwise", calibration=None, seed: int = 0,
                 prune_head: bool = False, prune_depthwise: bool = False):
        self.model = model
        self.strategy = strategy
        self.scope = scope
        self.calibration = calibration
        self.seed = seed
        self.targets = criteria.find_targets(model, prune_head=prune_head, prune_depthwise=prune_depthwise)
        self.masks = [tf.Variable(tf.ones_like(t.variable), trainable=False, name=f"mask_{t.name}")
                      for t in self.targets]
        self.events = []  # (step, target sparsity, achieved sparsity)
        self.first_scores = None  # the scores of the first pruning event, on the unpruned model

    @property
    def mask_pairs(self) -> list:
        return [(t.variable, m) for t, m in zip(self.targets, self.masks)]

    def scores(self) -> list:
        return criteria.score(self.strategy, self.model, self.targets, self.calibration, self.seed)

    def update(self, sparsity: float | None = None, threshold: float | None = None, step: int = 0) -> float:
        """Recompute masks at `sparsity` (or `threshold`), zero the removed weights; returns achieved sparsity."""
        previous = [m.numpy() for m in self.masks]
        scores = self.scores()
        if self.first_scores is None:
            self.first_scores = scores
        new = selection.select(scores, sparsity=sparsity, threshold_value=threshold,
                               scope=self.scope, previous=previous)
        for target, mask_var, mask in zip(self.targets, self.masks, new):
            mask_var.assign(mask.astype(np.float32))
            target.variable.assign(target.variable * mask_var)
        achieved = self.sparsity()
        self.events.append({"step": step, "target": sparsity, "achieved": achieved})
        return achieved

    def sparsity(self) -> float:
        return selection.sparsity_of([m.numpy() for m in self.masks])

    def fine_tune(self, dataset, schedule, *, epochs: int, batch_size: int, learning_rate: float, seed: int = 0,
                  on_progress=lambda p: None, should_cancel=lambda: False):
        """Fine-tune with masks held; the schedule decides when masks are recomputed and to what."""
        steps = epochs * dataset.steps_per_epoch(batch_size)
        trainer = Trainer(self.model, learning_rate=learning_rate, total_steps=max(steps, 1),
                          augment=True, seed=seed, masks=self.mask_pairs)
        current = {"sparsity": self.sparsity()}

        def before_step(step):
            if schedule.kind != "oneshot" and schedule.prunes_at(step):
                check_cancel(should_cancel)
                on_progress(Progress("scoring", step=step, steps=steps, sparsity=current["sparsity"],
                                     message=f"re-scoring at step {step}"))
                current["sparsity"] = self.update(schedule.sparsity_at(step), step=step)

        return trainer.fit(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=batch_size, seed=seed,
                           on_progress=on_progress, should_cancel=should_cancel, before_step=before_step,
                           sparsity=lambda: current["sparsity"])
