"""Pruning engines behind one interface, so the pipeline keeps one sequence for all of them:

    model = pruner.start(baseline)                       # a copy (or tfmot's wrapped copy)
    model, event = pruner.prune(model, amount, step=0)    # one-shot: before any fine-tuning
    model, history = pruner.fine_tune(model, data, schedule, training, on_event=…)  # prunes at the schedule's steps
    model = pruner.finish(model)                         # a plain Keras model (wrappers stripped)

- `MaskedPruner` (unstructured): score → select → one 0/1 mask per kernel; the `Trainer` multiplies each
  kernel by its mask after every optimizer step, so pruned weights stay exactly zero. After a pruning
  event before training (one-shot, or a schedule's step 0) BatchNorm statistics are re-estimated: the
  old ones describe activations of the dense kernels (the profile measured what this is worth: magnitude
  at 70 % global, one-shot, 36 % → 95 % top-1). During fine-tuning, training itself updates them.
- `ChannelPruner` (structured): trace groups → score channels → plan → surgery (a new, smaller model);
  BatchNorm statistics are re-estimated after every cut (the old ones describe activations the smaller
  network no longer produces).
- `TfmotPruner` (`prune_core.engine.tfmot_reference`): tfmot's own wrappers and schedule, the reference.

`on_event(model, event)` is called after every pruning event, on the model that is being trained (the
pipeline measures "top-1 before fine-tuning" at the first one). Amounts are always relative to the
original dense model.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from prune_core import patterns, regrowth
from prune_core.engine import channels, criteria, layers, models, selection, structure, surgery
from prune_core.errors import SpecError
from prune_core.engine.keras_env import tf
from prune_core.progress import Progress, check_cancel, ignore, never
from prune_core.result import PruningEvent
from prune_core.engine.training import Trainer, merge_history, recalibrate_batchnorm


def _no_event(model, event) -> None:
    return None


class Pruner:
    """The interface every engine implements (see the module doc)."""

    #: What `PruningEvent.achieved` counts: "weights" or a structured budget.
    unit = "weights"

    def __init__(self):
        self.events: list[PruningEvent] = []
        self.first_scores: list | None = None  # scores at the first event, for the histograms

    def kernels(self, model) -> list:
        """The kernel values this engine prunes in a plain model (for the |weight| histograms)."""
        raise NotImplementedError

    def start(self, baseline):
        """The model to prune and fine-tune; `baseline` itself is never changed."""
        return models.clone(baseline)

    def prune(self, model, amount: float | None, step: int = 0, *, threshold: float | None = None):
        """Prune `model` to `amount` (or by `threshold`) at fine-tune step `step`; returns (model, event)."""
        raise NotImplementedError

    def fine_tune(self, model, dataset, schedule, training, *, on_progress=ignore, should_cancel=never,
                  on_event=_no_event):
        """Fine-tune with the recipe's budget, pruning at the schedule's steps; returns (model, history)."""
        raise NotImplementedError

    def finish(self, model):
        """The plain Keras model to measure, save and export."""
        return model

    def measure(self, model) -> dict:
        """Engine-specific numbers about the finished model (`RunResult` field names)."""
        return {}

    # ---- shared by the engines ---------------------------------------------------------------------
    def _record(self, event: PruningEvent) -> PruningEvent:
        self.events.append(event)
        return event

    @staticmethod
    def _trainer(model, dataset, training, masks=None):
        """(the fine-tune `Trainer` for the recipe's budget, its number of steps)."""
        steps = training.fine_tune_epochs * dataset.steps_per_epoch(training.batch_size)
        return Trainer(model, learning_rate=training.learning_rate, total_steps=max(steps, 1), augment=True,
                       seed=training.seed, masks=masks), steps

    @staticmethod
    def _fit(trainer, dataset, training, **kwargs) -> list:
        """Run (part of) the recipe's fine-tuning on the training split; returns per-epoch history."""
        return trainer.fit(dataset.x_train, dataset.y_train, epochs=training.fine_tune_epochs,
                           batch_size=training.batch_size, seed=training.seed, **kwargs)


class MaskedPruner(Pruner):
    """Unstructured pruning with masks held through fine-tuning (see the module doc)."""

    def __init__(self, pruning, *, calibration=None, seed: int = 0, allocate=None,
                 recalibration: np.ndarray | None = None):
        super().__init__()
        self.strategy, self.scope = pruning.strategy, pruning.scope
        self.allocate = allocate  # scope "auto": target sparsity → per-layer sparsities
        self.recalibration = recalibration  # training images for re-estimating BatchNorm after pruning
        self.prune_head, self.prune_depthwise = pruning.prune_head, pruning.prune_depthwise
        self.calibration, self.seed = calibration, seed
        self.pattern = pruning.sparsity_pattern
        self.rigl = regrowth.RigL.of(pruning)
        self.moved = 0  # weights RigL regrew, over all its updates
        self.model, self.targets, self.masks = None, [], []

    def kernels(self, model) -> list:
        return [t.variable.numpy() for t in criteria.find_targets(model, prune_head=self.prune_head,
                                                                  prune_depthwise=self.prune_depthwise)]

    def start(self, baseline):
        self.model = models.clone(baseline)
        self.targets = criteria.find_targets(self.model, prune_head=self.prune_head,
                                             prune_depthwise=self.prune_depthwise)
        self.masks = [tf.Variable(tf.ones_like(t.variable), trainable=False, name=f"mask_{t.name}")
                      for t in self.targets]
        return self.model

    @property
    def mask_pairs(self) -> list:
        return [(t.variable, m) for t, m in zip(self.targets, self.masks)]

    def sparsity(self) -> float:
        return selection.sparsity_of([m.numpy() for m in self.masks])

    def prune(self, model, amount=None, step=0, *, threshold=None):
        """Re-score the current weights, select (removed weights stay removed), zero the removed ones."""
        if model is not self.model:
            raise ValueError("MaskedPruner prunes the model its start() returned")
        previous = [m.numpy() for m in self.masks]
        scores = criteria.score(self.strategy, model, self.targets, self.calibration, self.seed)
        if self.first_scores is None:
            self.first_scores = scores
        auto = self.scope == "auto"
        new = selection.select(scores, sparsity=self.allocate(amount) if auto else amount, threshold_value=threshold,
                               scope="layerwise" if auto else self.scope, previous=previous, pattern=self.pattern)
        for target, mask_var, mask in zip(self.targets, self.masks, new):
            mask_var.assign(mask.astype(np.float32))
            target.variable.assign(target.variable * mask_var)
        if self.recalibration is not None and step == 0:  # statistics only; the masks stay as they are
            recalibrate_batchnorm(model, self.recalibration, seed=self.seed)
        return model, self._record(PruningEvent(step=step, target=amount, achieved=self.sparsity()))

    def fine_tune(self, model, dataset, schedule, training, *, on_progress=ignore, should_cancel=never,
                  on_event=_no_event):
        trainer, steps = self._trainer(model, dataset, training, masks=self.mask_pairs)
        current = {"sparsity": self.sparsity()}

        moves = set(self.rigl.updates(steps)) if self.rigl else set()

        def before_step(step):
            if step in moves:
                check_cancel(should_cancel)
                self._regrow(dataset, training, step, steps)
            if schedule.kind != "oneshot" and schedule.prunes_at(step):
                check_cancel(should_cancel)
                on_progress(Progress("scoring", step=step, steps=steps, sparsity=current["sparsity"],
                                     message=f"re-scoring at step {step}"))
                _, event = self.prune(model, schedule.sparsity_at(step), step)
                current["sparsity"] = event.achieved
                on_event(model, event)

        history = self._fit(trainer, dataset, training, on_progress=on_progress, should_cancel=should_cancel,
                            before_step=before_step, sparsity=lambda: current["sparsity"])
        return model, history

    def _regrow(self, dataset, training, step: int, steps: int) -> None:
        """One RigL update: in every kernel, drop the smallest kept weights and regrow as many, at zero,
        where the dense gradient of a training batch is largest."""
        rng = np.random.default_rng(self.seed + step)
        pick = rng.choice(len(dataset.x_train), size=min(training.batch_size, len(dataset.x_train)), replace=False)
        batch = criteria.Calibration(dataset.x_train[pick], dataset.y_train[pick], batch_size=len(pick))
        gradients = next(criteria.batch_gradients(self.model, self.targets, batch))
        fraction = self.rigl.fraction_at(step, steps)
        for target, mask_var, gradient in zip(self.targets, self.masks, gradients):
            mask = mask_var.numpy()
            count = int(round(fraction * mask.sum()))
            new, grown = regrowth.move(mask, target.variable.numpy(), gradient, count)
            mask_var.assign(new)
            target.variable.assign(target.variable * (new - grown))  # dropped → 0, grown start at 0
            self.moved += int(grown.sum())

    def measure(self, model) -> dict:
        """The pattern's validity (N:M: groups with fewer than N zeros, 0 when valid) and RigL's moves."""
        out = {}
        if self.pattern.kind == "n:m":
            out["pattern_violations"] = sum(patterns.nm_violations(k, self.pattern.n, self.pattern.m)
                                            for k in self.kernels(model))
        if self.rigl is not None:
            out["regrown_weights"] = self.moved
        return out


class ChannelPruner(Pruner):
    """Structured pruning: score channels, select a plan, cut a new smaller model (the model passed
    in is never changed). A gradual schedule's sparsity at step t means the same as a one-shot run's."""

    def __init__(self, original, pruning, *, times: dict | None = None, calibration=None, seed: int = 0,
                 recalibration: np.ndarray | None = None):
        super().__init__()
        self.strategy, self.scope, self.budget = pruning.strategy, pruning.scope, pruning.budget
        self.multiple, self.rank = pruning.channel_multiple, pruning.rank
        self.unit = pruning.budget
        self.calibration, self.seed, self.times = calibration, seed, times  # times: latency_table of `original`
        self.recalibration = recalibration  # training images for re-estimating BatchNorm after a cut
        self.original = original
        groups = structure.trace(original)
        self.original_cost = channels.CostModel(original, groups, times).total
        self.original_sizes = {g.producers[0]: g.size for g in groups if g.prunable}

    def kernels(self, model) -> list:
        return [t.variable.numpy() for t in criteria.find_targets(model, prune_head=True, prune_depthwise=True)]

    def start(self, baseline):
        return baseline  # surgery builds a new model; the baseline is never changed

    def prune(self, model, amount=None, step=0, *, threshold=None):
        groups = structure.trace(model)
        if not any(g.prunable for g in groups):
            raise SpecError("this model has no channel group that can be removed structurally")
        targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
        if model is self.original and getattr(self, "_original_scores", None) is not None:
            scores = self._original_scores  # the dense model scores the same every time (a profile's levels)
        else:
            scores = dict(zip([t.name for t in targets],
                              criteria.score(self.strategy, model, targets, self.calibration, self.seed)))
            if model is self.original:
                self._original_scores = scores
        importance = channels.importance(groups, scores)
        if self.first_scores is None:
            self.first_scores = list(importance.values())
        cost = channels.CostModel(model, groups, self.times)
        if threshold is not None:
            plan = channels.select(groups, importance, threshold=threshold, multiple=self.multiple)
        elif self.scope == "layerwise":  # the same fraction of every group's original channels
            keep = {g.id: max(1, round(self.original_sizes.get(g.producers[0], g.size) * (1 - amount)))
                    for g in groups if g.prunable}
            plan = channels.select(groups, importance, counts=keep, multiple=self.multiple)
        else:
            remaining = cost.total[self.budget] / self.original_cost[self.budget]
            target = max(0.0, 1.0 - (1.0 - amount) / remaining)
            plan = channels.select(groups, importance, target=target, cost=cost, budget=self.budget,
                                   multiple=self.multiple, rank=self.rank)
        smaller = surgery.apply(model, plan)
        after = cost.evaluate({g.id: len(plan.kept(g)) for g in groups if g.prunable})  # exact, no re-trace
        if self.recalibration is not None:  # statistics only, no weights
            recalibrate_batchnorm(smaller, self.recalibration, seed=self.seed)
        return smaller, self._record(PruningEvent(
            step=step, target=amount, achieved=1 - after[self.budget] / self.original_cost[self.budget],
            channels_removed=plan.channels_removed, plan=plan.to_dict()))

    def cost(self, model) -> dict:
        """FLOPs, parameters and (with a latency table) predicted LiteRT ms of `model`."""
        return channels.CostModel(model, structure.trace(model), self.times).total

    def reduction(self, cost: dict) -> float:
        """The fraction of the original model's budget that a model costing `cost` has shed."""
        return 1 - cost[self.budget] / self.original_cost[self.budget]

    def fine_tune(self, model, dataset, schedule, training, *, on_progress=ignore, should_cancel=never,
                  on_event=_no_event):
        """Fine-tune in segments, cutting channels at the schedule's steps; returns (final model, history)."""
        total = training.fine_tune_epochs * dataset.steps_per_epoch(training.batch_size)
        cuts = [] if schedule.kind == "oneshot" else schedule.pruning_steps(total)
        parts, first = [], 1
        current = {"sparsity": self.reduction(self.cost(model))}
        for boundary in cuts + [total + 1]:
            if boundary > first:
                trainer, _ = self._trainer(model, dataset, training)
                trainer.start_at(first - 1)
                parts.append(self._fit(trainer, dataset, training, first_step=first, last_step=boundary - 1,
                                       on_progress=on_progress, should_cancel=should_cancel,
                                       sparsity=lambda: current["sparsity"]))
            if boundary <= total:
                check_cancel(should_cancel)
                on_progress(Progress("scoring", step=boundary, steps=total, sparsity=current["sparsity"],
                                     message=f"removing channels at step {boundary}"))
                model, event = self.prune(model, schedule.sparsity_at(boundary), step=boundary)
                current["sparsity"] = event.achieved
                on_event(model, event)
                first = boundary
        return model, merge_history(parts)

    def measure(self, model) -> dict:
        """The budget removed, channels cut per layer and (with a latency table) predicted LiteRT ms —
        from one trace of the final model."""
        final = self.cost(model)
        out = {"budget_removed": self.reduction(final), "layer_channels_removed": _channels_removed(self.original, model)}
        if self.times is not None:  # what the per-layer table predicts; the tflite export measures it
            out.update(litert_ms_predicted=final["latency"], dense_litert_ms_predicted=self.original_cost["latency"])
        return out


class CombinedPruner(Pruner):
    """A combined recipe: whole channels cut (a smaller dense model), then single weights — or an N:M
    or block pattern — of what remains, both before fine-tuning; fine-tuning holds the weight masks.
    `stages` keeps the model after each cut, so the pipeline can report every stage's numbers."""

    def __init__(self, channels: ChannelPruner, weights: MaskedPruner, then: float):
        super().__init__()
        self.channels, self.weights, self.then = channels, weights, then
        self.unit = channels.unit
        self.stages: list = []  # (name, model) after each cut

    def kernels(self, model) -> list:
        return self.channels.kernels(model)

    def start(self, baseline):
        return baseline

    def prune(self, model, amount=None, step=0, *, threshold=None):
        smaller, cut = self.channels.prune(model, amount, step, threshold=threshold)
        self._record(cut)
        self.stages = [("channels cut", smaller)]
        masked, event = self.weights.prune(self.weights.start(smaller), self.then, step)
        self.first_scores = self.channels.first_scores
        pattern = self.weights.pattern
        self.stages.append(("weights pruned" + ("" if pattern.kind == "unstructured" else f" {pattern}"), masked))
        return masked, cut  # the run's unit is the structured budget: the channel cut's event says it

    def fine_tune(self, model, dataset, schedule, training, **kwargs):
        return self.weights.fine_tune(model, dataset, schedule, training, **kwargs)

    def measure(self, model) -> dict:
        return {**self.channels.measure(model), **self.weights.measure(model)}


def _channels_removed(original, reduced) -> dict:
    """Fraction of each conv / dense layer's output channels that surgery removed."""
    out = {}
    for layer in reduced.layers:
        if layers.is_producer(layer):
            before = original.get_layer(layer.name).kernel.shape[-1]
            out[layer.name] = 1.0 - layer.kernel.shape[-1] / before
    return out


def create(spec, baseline, *, calibration=None, times: dict | None = None, recalibration=None,
           allocate=None) -> Pruner:
    """The engine for a recipe (structured channels, masked weights, or tfmot's own recipe)."""
    pruning, seed = spec.pruning, spec.training.seed
    if pruning.granularity == "structured":
        channels = ChannelPruner(baseline, pruning, times=times, calibration=calibration, seed=seed,
                                 recalibration=recalibration)
        if pruning.then_sparsity is None:
            return channels
        nm = pruning.sparsity_pattern.kind == "n:m"
        stage = replace(pruning, granularity="unstructured", sparsity=pruning.then_sparsity, threshold=None,
                        scope="layerwise" if nm else "global", budget="flops", rank="importance", channel_multiple=1,
                        then_sparsity=None)
        return CombinedPruner(channels, MaskedPruner(stage, calibration=calibration, seed=seed,
                                                     recalibration=recalibration), pruning.then_sparsity)
    if pruning.strategy == "tfmot":
        from prune_core.engine.tfmot_reference import TfmotPruner

        return TfmotPruner(pruning, spec.schedule)
    if pruning.scope == "auto" and allocate is None:
        raise SpecError("scope auto needs the allocation from a profile of this baseline")
    return MaskedPruner(pruning, calibration=calibration, seed=seed, allocate=allocate, recalibration=recalibration)
