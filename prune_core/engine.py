"""Pruning engines. `MaskedPruner` (unstructured): score → select → masks, and fine-tuning that keeps
them applied. `ChannelPruner` (structured): trace groups → score channels → plan → surgery.

The pruner owns one 0/1 mask variable per target kernel. `update(sparsity)` re-scores the current
weights with the recipe's criterion, selects (removed weights stay removed) and zeroes the kernel;
the `Trainer` multiplies each kernel by its mask after every optimizer step. The model stays a
plain Keras model throughout, so there are no wrappers to strip.
"""
from __future__ import annotations

import numpy as np

from prune_core import channels, criteria, selection, structure, surgery
from prune_core.errors import SpecError
from prune_core.keras_env import tf
from prune_core.training import Progress, Trainer, check_cancel, merge_history


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


class ChannelPruner:
    """Structured pruning: score channels, select a plan, cut a new smaller model (the model passed
    in is never changed). Amounts are always relative to the original dense model, so a gradual
    schedule's sparsity at step t means the same thing as a one-shot run's."""

    def __init__(self, original, strategy: str, *, scope: str = "global", budget: str = "flops",
                 multiple: int = 1, rank: str = "importance", times: dict | None = None,
                 calibration=None, seed: int = 0):
        self.strategy, self.scope, self.budget, self.multiple, self.rank = strategy, scope, budget, multiple, rank
        self.calibration, self.seed, self.times = calibration, seed, times  # times: latency_table of `original`
        groups = structure.trace(original)
        self.original_cost = channels.CostModel(original, groups, times).total
        self.original_sizes = {g.producers[0]: g.size for g in groups if g.prunable}
        self.events = []
        self.first_importance = None  # per-channel importance at the first cut, for histograms

    def prune(self, model, sparsity: float | None = None, threshold: float | None = None, step: int = 0):
        groups = structure.trace(model)
        if not any(g.prunable for g in groups):
            raise SpecError("this model has no channel group that can be removed structurally")
        targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
        scores = dict(zip([t.name for t in targets],
                          criteria.score(self.strategy, model, targets, self.calibration, self.seed)))
        importance = channels.importance(groups, scores)
        if self.first_importance is None:
            self.first_importance = importance
        cost = channels.CostModel(model, groups, self.times)
        if threshold is not None:
            plan = channels.select(groups, importance, threshold=threshold, multiple=self.multiple)
        elif self.scope == "layerwise":  # the same fraction of every group's original channels
            keep = {g.id: max(1, round(self.original_sizes.get(g.producers[0], g.size) * (1 - sparsity)))
                    for g in groups if g.prunable}
            plan = channels.select(groups, importance, counts=keep, multiple=self.multiple)
        else:
            remaining = cost.total[self.budget] / self.original_cost[self.budget]
            target = max(0.0, 1.0 - (1.0 - sparsity) / remaining)
            plan = channels.select(groups, importance, target=target, cost=cost, budget=self.budget,
                                   multiple=self.multiple, rank=self.rank)
        smaller = surgery.apply(model, plan)
        after = cost.evaluate({g.id: len(plan.kept(g)) for g in groups if g.prunable})  # exact, no re-trace
        achieved = 1 - after[self.budget] / self.original_cost[self.budget]
        self.events.append({"step": step, "target": sparsity, "achieved": achieved,
                            "channels_removed": plan.channels_removed, "plan": plan.to_dict()})
        return smaller

    def cost(self, model) -> dict:
        """FLOPs, parameters and (with a latency table) predicted LiteRT ms of `model`."""
        return channels.CostModel(model, structure.trace(model), self.times).total

    def reduction(self, cost: dict) -> float:
        """The fraction of the original model's budget that a model costing `cost` has shed."""
        return 1 - cost[self.budget] / self.original_cost[self.budget]

    def fine_tune(self, model, dataset, schedule, *, epochs: int, batch_size: int, learning_rate: float,
                  seed: int = 0, on_progress=lambda p: None, should_cancel=lambda: False):
        """Fine-tune, cutting channels at the schedule's steps; returns (final model, history)."""
        total = epochs * dataset.steps_per_epoch(batch_size)
        events = [] if schedule.kind == "oneshot" else schedule.pruning_steps(total)
        parts, first = [], 1
        current = {"sparsity": self.reduction(self.cost(model))}
        for boundary in events + [total + 1]:
            if boundary > first:
                trainer = Trainer(model, learning_rate=learning_rate, total_steps=max(total, 1), seed=seed)
                trainer.start_at(first - 1)
                parts.append(trainer.fit(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=batch_size,
                                         seed=seed, first_step=first, last_step=boundary - 1,
                                         on_progress=on_progress, should_cancel=should_cancel,
                                         sparsity=lambda: current["sparsity"]))
            if boundary <= total:
                check_cancel(should_cancel)
                on_progress(Progress("scoring", step=boundary, steps=total, sparsity=current["sparsity"],
                                     message=f"removing channels at step {boundary}"))
                model = self.prune(model, schedule.sparsity_at(boundary), step=boundary)
                current["sparsity"] = self.events[-1]["achieved"]
                first = boundary
        return model, merge_history(parts)
