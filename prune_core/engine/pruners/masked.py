"""Unstructured pruning: score → select → one 0/1 mask per kernel, held through fine-tuning (N:M
and block patterns, RigL's prune-and-regrow)."""

from __future__ import annotations

import numpy as np

from prune_core.engine import criteria, models, selection
from prune_core.engine.keras_env import tf
from prune_core.engine.pruners.base import Pruner, no_event
from prune_core.engine.training import recalibrate_batchnorm
from prune_core.progress import Progress, check_cancel, ignore, never
from prune_core.recipe import patterns, regrowth
from prune_core.results.run_result import PruningEvent


class MaskedPruner(Pruner):
    """Unstructured pruning with masks held through fine-tuning (see the module doc)."""

    def __init__(
        self,
        pruning,
        *,
        calibration=None,
        seed: int = 0,
        allocate=None,
        recalibration: np.ndarray | None = None,
        reconstruct=None,
    ):
        super().__init__()
        self.strategy, self.scope = pruning.strategy, pruning.scope
        # `reconstruction.Refit` (the recipe's --reconstruct), run after a one-shot cut
        self.reconstruct, self.dense = reconstruct, None
        self.allocate = allocate  # scope "auto": target sparsity → per-layer sparsities
        # training images for re-estimating BatchNorm after pruning
        self.recalibration = recalibration
        self.prune_head, self.prune_depthwise = pruning.prune_head, pruning.prune_depthwise
        self.calibration, self.seed = calibration, seed
        self.pattern = pruning.sparsity_pattern
        self.rigl = regrowth.RigL.of(pruning)
        self.moved = 0  # weights RigL regrew, over all its updates
        self.model, self.targets, self.masks = None, [], []

    def kernels(self, model) -> list:
        return [
            t.variable.numpy()
            for t in criteria.find_targets(
                model, prune_head=self.prune_head, prune_depthwise=self.prune_depthwise
            )
        ]

    def start(self, baseline):
        self.dense = baseline
        self.model = models.clone(baseline)
        self.targets = criteria.find_targets(
            self.model, prune_head=self.prune_head, prune_depthwise=self.prune_depthwise
        )
        self.masks = [
            tf.Variable(tf.ones_like(t.variable), trainable=False, name=f"mask_{t.name}")
            for t in self.targets
        ]
        return self.model

    @property
    def mask_pairs(self) -> list:
        return [(t.variable, m) for t, m in zip(self.targets, self.masks)]

    def sparsity(self) -> float:
        return selection.sparsity_of([m.numpy() for m in self.masks])

    def prune(self, model, amount=None, step=0, *, threshold=None):
        """Re-score the current weights, select (removed weights stay removed), zero the removed
        ones."""
        if model is not self.model:
            raise ValueError("MaskedPruner prunes the model its start() returned")
        previous = [m.numpy() for m in self.masks]
        scores = criteria.score(self.strategy, model, self.targets, self.calibration, self.seed)
        self.keep_first_scores(scores)
        auto = self.scope == "auto"
        new = selection.select(
            scores,
            sparsity=self.allocate(amount) if auto else amount,
            threshold_value=threshold,
            scope="layerwise" if auto else self.scope,
            previous=previous,
            pattern=self.pattern,
        )
        for target, mask_var, mask in zip(self.targets, self.masks, new):
            mask_var.assign(mask.astype(np.float32, copy=False))
            target.variable.assign(target.variable * mask_var)
        if self.reconstruct is not None and step == 0:  # surviving weights refitted
            self.reconstruct(
                self.dense,
                model,
                masks={t.name: m.numpy() for t, m in zip(self.targets, self.masks)},
            )
        # statistics only; the masks stay as they are
        if self.recalibration is not None and step == 0:
            recalibrate_batchnorm(model, self.recalibration, seed=self.seed)
        return model, self._record(PruningEvent(step=step, target=amount, achieved=self.sparsity()))

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
        trainer, steps = self._trainer(
            model, dataset, training, masks=self.mask_pairs, teacher=teacher
        )
        current = {"sparsity": self.sparsity()}

        moves = set(self.rigl.updates(steps)) if self.rigl else set()

        def before_step(step):
            if step in moves:
                check_cancel(should_cancel)
                self._regrow(dataset, training, step, steps)
            if schedule.kind != "oneshot" and schedule.prunes_at(step):
                check_cancel(should_cancel)
                on_progress(
                    Progress(
                        "scoring",
                        step=step,
                        steps=steps,
                        sparsity=current["sparsity"],
                        message=f"re-scoring at step {step}",
                    )
                )
                _, event = self.prune(model, schedule.sparsity_at(step), step)
                current["sparsity"] = event.achieved
                on_event(model, event)

        history = self._fit(
            trainer,
            dataset,
            training,
            on_progress=on_progress,
            should_cancel=should_cancel,
            before_step=before_step,
            sparsity=lambda: current["sparsity"],
        )
        return model, history

    def _regrow(self, dataset, training, step: int, steps: int) -> None:
        """One RigL update: in every kernel, drop the smallest kept weights and regrow as many, at
        zero, where the dense gradient of a training batch is largest."""
        rng = np.random.default_rng(self.seed + step)
        pick = rng.choice(
            len(dataset.x_train), size=min(training.batch_size, len(dataset.x_train)), replace=False
        )
        batch = criteria.Calibration(
            dataset.x_train[pick], dataset.y_train[pick], batch_size=len(pick)
        )
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
        """The pattern's validity (N:M: groups with fewer than N zeros, 0 when valid) and RigL's
        moves."""
        out = {}
        if self.pattern.kind == "n:m":
            out["pattern_violations"] = sum(
                patterns.nm_violations(k, self.pattern.n, self.pattern.m)
                for k in self.kernels(model)
            )
        if self.rigl is not None:
            out["regrown_weights"] = self.moved
        return out
