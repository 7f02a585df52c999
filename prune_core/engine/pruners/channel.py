"""Structured pruning: trace channel groups → score channels → plan → surgery (a new, smaller
model)."""

from __future__ import annotations

import numpy as np

from prune_core.engine import (
    channel_allocation,
    channels,
    criteria,
    layers,
    models,
    structure,
    surgery,
)
from prune_core.engine.pruners.base import Pruner, no_event
from prune_core.engine.training import merge_history, recalibrate_batchnorm
from prune_core.errors import SpecError
from prune_core.progress import Progress, check_cancel, ignore, never
from prune_core.results.run_result import PruningEvent


class ChannelPruner(Pruner):
    """Structured pruning: score channels, select a plan, cut a new smaller model (the model passed
    in is never changed). A gradual schedule's sparsity at step t means the same as a one-shot
    run's."""

    def __init__(
        self,
        original,
        pruning,
        *,
        times: dict | None = None,
        calibration=None,
        seed: int = 0,
        recalibration: np.ndarray | None = None,
        sensitivity=None,
        reconstruct=None,
    ):
        super().__init__()
        # `reconstruction.Refit` (the recipe's --reconstruct), run after a one-shot cut
        self.reconstruct = reconstruct
        if pruning.scope == "auto" and sensitivity is None:
            raise SpecError(
                "the automatic channel allocation needs the channel sensitivity from a profile "
                "of this baseline"
            )
        # channel_allocation.ChannelSensitivity of `original` (scope auto)
        self.sensitivity = sensitivity
        self.strategy, self.scope, self.budget = pruning.strategy, pruning.scope, pruning.budget
        self.multiple, self.rank = pruning.channel_multiple, pruning.rank
        self.unit = pruning.budget
        # times: latency_table of `original`
        self.calibration, self.seed, self.times = calibration, seed, times
        # training images for re-estimating BatchNorm after a cut
        self.recalibration = recalibration
        self.original = original
        groups = structure.trace(original)
        self.original_cost = channels.CostModel(original, groups, times).total
        self.original_sizes = {g.producers[0]: g.size for g in groups if g.prunable}

    def kernels(self, model) -> list:
        return [
            t.variable.numpy()
            for t in criteria.find_targets(model, prune_head=True, prune_depthwise=True)
        ]

    def start(self, baseline):
        # surgery builds a new model, and a segment that trains before the first cut trains a
        # copy (`fine_tune`): the baseline, also the distillation teacher, is never changed
        return baseline

    def importance(self, model) -> tuple[list, dict]:
        """(`model`'s channel groups, group id → per-channel importance by the criterion)."""
        if model is self.original and getattr(self, "_original_importance", None) is not None:
            # the dense model scores the same every time (a profile's levels); what is kept is
            # one number per channel, not the per-weight scores (a model's worth of memory)
            return self._original_importance
        groups = structure.trace(model)
        if why := structure.unprunable(groups):
            raise SpecError(why)
        targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
        scores = dict(
            zip(
                [t.name for t in targets],
                criteria.score(self.strategy, model, targets, self.calibration, self.seed),
            )
        )
        found = groups, channels.importance(model, groups, scores)
        if model is self.original:
            self._original_importance = found
        return found

    def prune(self, model, amount=None, step=0, *, threshold=None):
        groups, importance = self.importance(model)
        self.keep_first_scores(list(importance.values()))
        cost = channels.CostModel(model, groups, self.times)
        if threshold is not None:
            plan = channels.select(groups, importance, threshold=threshold, multiple=self.multiple)
        elif self.scope == "layerwise":  # the same fraction of every group's original channels
            keep = {
                g.id: max(1, round(self.original_sizes.get(g.producers[0], g.size) * (1 - amount)))
                for g in groups
                if g.prunable
            }
            plan = channels.select(groups, importance, counts=keep, multiple=self.multiple)
        elif self.scope == "auto":  # per-group counts from the measured sensitivity
            keep = channel_allocation.counts_for(
                self.sensitivity,
                groups,
                cost,
                self.budget,
                amount,
                self.original_cost[self.budget],
                self.original_sizes,
                self.multiple,
            )
            plan = channels.select(groups, importance, counts=keep, multiple=self.multiple)
        else:
            remaining = cost.total[self.budget] / self.original_cost[self.budget]
            target = max(0.0, 1.0 - (1.0 - amount) / remaining)
            plan = channels.select(
                groups,
                importance,
                target=target,
                cost=cost,
                budget=self.budget,
                multiple=self.multiple,
                rank=self.rank,
            )
        smaller = surgery.apply(model, plan)
        refit = self.reconstruct is not None and step == 0
        if refit:  # surviving weights refitted: each layer's outputs are the dense layer's again
            kept = {name: plan.kept(g) for g in groups if g.id in plan.keep for name in g.producers}
            self.reconstruct(model, smaller, kept_out=kept)
        # exact, no re-trace
        after = cost.evaluate({g.id: len(plan.kept(g)) for g in groups if g.prunable})
        if self.recalibration is not None and not refit:  # statistics only, no weights
            recalibrate_batchnorm(smaller, self.recalibration, seed=self.seed)
        return smaller, self._record(
            PruningEvent(
                step=step,
                target=amount,
                achieved=1 - after[self.budget] / self.original_cost[self.budget],
                channels_removed=plan.channels_removed,
                plan=plan.to_dict(),
            )
        )

    def cost(self, model) -> dict:
        """FLOPs, parameters and (with a latency table) predicted LiteRT ms of `model`."""
        return channels.CostModel(model, structure.trace(model), self.times).total

    def reduction(self, cost: dict) -> float:
        """The fraction of the original model's budget that a model costing `cost` has shed."""
        return 1 - cost[self.budget] / self.original_cost[self.budget]

    def fine_tune(
        self,
        model,
        dataset,
        schedule,
        training,
        *,
        on_progress=ignore,
        should_cancel=never,
        on_event=no_event,
        teacher=None,
    ):
        """Fine-tune in segments, cutting channels at the schedule's steps; returns (final model,
        history)."""
        total = training.fine_tune_epochs * dataset.steps_per_epoch(training.batch_size)
        cuts = [] if schedule.kind == "oneshot" else schedule.pruning_steps(total)
        parts, first = [], 1
        current = {"sparsity": self.reduction(self.cost(model))}
        for boundary in cuts + [total + 1]:
            if boundary > first:
                if model is self.original:  # a gradual schedule trains before its first cut
                    model = models.clone(model)
                trainer, _ = self._trainer(model, dataset, training, teacher=teacher)
                trainer.start_at(first - 1)
                parts.append(
                    self._fit(
                        trainer,
                        dataset,
                        training,
                        first_step=first,
                        last_step=boundary - 1,
                        on_progress=on_progress,
                        should_cancel=should_cancel,
                        sparsity=lambda: current["sparsity"],
                    )
                )
            if boundary <= total:
                check_cancel(should_cancel)
                on_progress(
                    Progress(
                        "scoring",
                        step=boundary,
                        steps=total,
                        sparsity=current["sparsity"],
                        message=f"removing channels at step {boundary}",
                    )
                )
                model, event = self.prune(model, schedule.sparsity_at(boundary), step=boundary)
                current["sparsity"] = event.achieved
                on_event(model, event)
                first = boundary
        return model, merge_history(parts)

    def measure(self, model) -> dict:
        """The budget removed, channels cut per layer and (with a latency table) predicted LiteRT ms
        — from one trace of the final model."""
        final = self.cost(model)
        out = {
            "budget_removed": self.reduction(final),
            "layer_channels_removed": _channels_removed(self.original, model),
        }
        # what the per-layer table predicts; the tflite export measures it
        if self.times is not None:
            out.update(
                litert_ms_predicted=final["latency"],
                dense_litert_ms_predicted=self.original_cost["latency"],
            )
        return out


def _channels_removed(original, reduced) -> dict:
    """Fraction of each conv / dense layer's output channels that surgery removed."""
    out = {}
    for layer in reduced.layers:
        if layers.is_producer(layer):
            before = original.get_layer(layer.name).output_shape[-1]
            out[layer.name] = 1.0 - layer.output_shape[-1] / before
    return out
