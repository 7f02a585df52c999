"""tfmot's own recipe, the reference every criterion is compared with, behind the engine interface.

`prune_low_magnitude` cannot wrap a whole EfficientNet (it fails on `Rescaling` and
`Normalization`), so only the prunable layers are wrapped, through `clone_model` on a copy — the
input model is never touched. Training runs through the same `Trainer` as our masked engine (same
data, augmentation, optimizer and budget); the wrappers count their steps themselves and prune
inside the training step, as tfmot's schedule says. The wrappers are stripped before anything is
measured.

"Top-1 before fine-tuning" is measured on the wrapped model itself: at the schedule's first pruning
step, tfmot's own mask update (`conditional_mask_update`, then `weight_mask_op`) is run once by hand
and the step counter put back, so the training step that follows recomputes the same masks.
"""

from __future__ import annotations

from prune_core.engine import criteria, models, selection
from prune_core.engine.keras_env import keras, tfmot_sparsity
from prune_core.engine.pruners.base import Pruner, no_event
from prune_core.progress import ignore, never
from prune_core.results.run_result import PruningEvent


def tfmot_schedule(schedule):
    """tfmot's schedule object for a `Schedule` value."""
    sparsity = tfmot_sparsity()
    if schedule.kind == "polynomial":
        return sparsity.PolynomialDecay(
            initial_sparsity=schedule.initial_sparsity,
            final_sparsity=schedule.final_sparsity,
            begin_step=schedule.begin_step,
            end_step=schedule.end_step,
            power=schedule.power,
            frequency=schedule.frequency,
        )
    if schedule.kind == "constant":
        return sparsity.ConstantSparsity(
            schedule.final_sparsity,
            begin_step=schedule.begin_step,
            end_step=schedule.end_step,
            frequency=schedule.frequency,
        )
    # One-shot: constant sparsity applied once, at the first step (tfmot's wrappers start at 1).
    return sparsity.ConstantSparsity(schedule.final_sparsity, begin_step=1, end_step=1, frequency=1)


def wrap(model, schedule, prune_head: bool = False, prune_depthwise: bool = False):
    """A copy of `model` with tfmot pruning wrappers around exactly the layers our engine
    targets."""
    sparsity = tfmot_sparsity()
    copy = models.clone(model)
    chosen = {
        t.name
        for t in criteria.find_targets(copy, prune_head=prune_head, prune_depthwise=prune_depthwise)
    }
    tfmot_rule = tfmot_schedule(schedule)

    def clone_fn(layer):
        if layer.name in chosen:
            return sparsity.prune_low_magnitude(layer, pruning_schedule=tfmot_rule)
        return layer

    return keras.models.clone_model(copy, clone_function=clone_fn)


def strip(model):
    return tfmot_sparsity().strip_pruning(model)


class TfmotPruner(Pruner):
    """tfmot's `prune_low_magnitude` + `UpdatePruningStep`, driven through our training loop."""

    def __init__(self, pruning, schedule):
        super().__init__()
        self.prune_head, self.prune_depthwise = pruning.prune_head, pruning.prune_depthwise
        self.schedule = schedule
        self.update = None

    def kernels(self, model) -> list:
        return [
            t.variable.numpy()
            for t in criteria.find_targets(
                model, prune_head=self.prune_head, prune_depthwise=self.prune_depthwise
            )
        ]

    def start(self, baseline):
        self.keep_first_scores(self.kernels(baseline))  # tfmot ranks by magnitude
        wrapped = wrap(baseline, self.schedule, self.prune_head, self.prune_depthwise)
        self.update = tfmot_sparsity().UpdatePruningStep()
        self.update.set_model(wrapped)
        # sets every wrapper's step to 0; the wrappers count steps themselves
        self.update.on_train_begin()
        return wrapped

    @property
    def wrappers(self) -> list:
        return self.update.prunable_layers

    def prune(self, model, amount=None, step=0, *, threshold=None):
        """tfmot's mask update at the schedule's step `step` (one-shot: its step 1), run once by
        hand."""
        if threshold is not None:
            raise ValueError("tfmot's recipe prunes to a target sparsity")
        at = max(step, 1)
        for layer in self.wrappers:
            layer.pruning_step.assign(at)
            layer.pruning_obj.conditional_mask_update()
            layer.pruning_obj.weight_mask_op()
            # the training step at `at` counts itself and re-masks alike
            layer.pruning_step.assign(at - 1)
        masks = [mask.numpy() for layer in self.wrappers for _, mask, _ in layer.pruning_vars]
        return model, self._record(
            PruningEvent(step=step, target=amount, achieved=selection.sparsity_of(masks))
        )

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
        trainer, steps = self._trainer(model, dataset, training, teacher=teacher)
        first = schedule.pruning_steps(steps)[0] if schedule.kind != "oneshot" else None

        def before_step(step):
            if step == first:  # measure the first event on this very model
                _, event = self.prune(model, schedule.sparsity_at(step), step)
                on_event(model, event)

        history = self._fit(
            trainer,
            dataset,
            training,
            on_progress=on_progress,
            should_cancel=should_cancel,
            before_step=before_step,
            sparsity=lambda: schedule.sparsity_at(int(self.wrappers[0].pruning_step.numpy())),
        )
        return model, history

    def finish(self, model):
        self.update.on_epoch_end(batch=-1)  # re-mask so the stripped weights are weight * mask
        return strip(model)
