"""tfmot's own recipe, the reference every criterion is compared with.

`prune_low_magnitude` cannot wrap a whole EfficientNet (it fails on `Rescaling` and
`Normalization`), so only the prunable layers are wrapped, through `clone_model` on a copy — the
input model is never touched. Training runs through the same `Trainer` as our masked engine (same
data, augmentation, optimizer and budget) with tfmot's `UpdatePruningStep` driven by hand, as
tfmot documents for custom loops; the wrappers are stripped before anything is measured.
"""
from __future__ import annotations

from prune_core import criteria, models
from prune_core.keras_env import keras, tfmot_sparsity
from prune_core.training import Trainer


def wrap(model, schedule, prune_head: bool = False, prune_depthwise: bool = False):
    """A copy of `model` with tfmot pruning wrappers around exactly the layers our engine targets."""
    sparsity = tfmot_sparsity()
    copy = models.clone(model)
    chosen = {t.name for t in criteria.find_targets(copy, prune_head=prune_head, prune_depthwise=prune_depthwise)}
    tfmot_schedule = schedule.to_tfmot()

    def clone_fn(layer):
        if layer.name in chosen:
            return sparsity.prune_low_magnitude(layer, pruning_schedule=tfmot_schedule)
        return layer

    return keras.models.clone_model(copy, clone_function=clone_fn)


def strip(model):
    return tfmot_sparsity().strip_pruning(model)


def prune_and_finetune(model, dataset, schedule, *, epochs: int, batch_size: int, learning_rate: float, seed: int = 0,
                       prune_head: bool = False, prune_depthwise: bool = False,
                       on_progress=lambda p: None, should_cancel=lambda: False):
    """Returns (stripped pruned model, per-epoch history)."""
    wrapped = wrap(model, schedule, prune_head, prune_depthwise)
    update = tfmot_sparsity().UpdatePruningStep()
    update.set_model(wrapped)
    update.on_train_begin()  # sets every wrapper's step to 0; the wrappers count steps themselves
    wrappers = update.prunable_layers
    steps = epochs * dataset.steps_per_epoch(batch_size)
    trainer = Trainer(wrapped, learning_rate=learning_rate, total_steps=max(steps, 1), augment=True, seed=seed)
    history = trainer.fit(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=batch_size, seed=seed,
                          on_progress=on_progress, should_cancel=should_cancel,
                          sparsity=lambda: schedule.sparsity_at(int(wrappers[0].pruning_step.numpy())))
    update.on_epoch_end(batch=-1)  # re-mask so the stripped weights are weight * mask
    return strip(wrapped), history
