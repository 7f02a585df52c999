"""Pruning engines behind one interface, so the pipeline keeps one sequence for all of them:

    model = pruner.start(baseline)                     # a copy (or tfmot's wrapped copy)
    model, event = pruner.prune(model, amount, step=0)  # one-shot: before any fine-tuning
    model, history = pruner.fine_tune(model, data, schedule, training, on_event=…)
                                                       # prunes at the schedule's steps
    model = pruner.finish(model)                       # a plain Keras model (wrappers stripped)

- `MaskedPruner` (unstructured): score → select → one 0/1 mask per kernel; the `Trainer` multiplies
  each kernel by its mask after every optimizer step, so pruned weights stay exactly zero. After a
  pruning event before training (one-shot, or a schedule's step 0) BatchNorm statistics are
  re-estimated: the old ones describe activations of the dense kernels (the profile measured what
  this is worth: magnitude at 70 % global, one-shot, 36 % → 95 % top-1). During fine-tuning,
  training itself updates them.
- `ChannelPruner` (structured): trace groups → score channels → plan → surgery (a new, smaller
  model); BatchNorm statistics are re-estimated after every cut (the old ones describe activations
  the smaller network no longer produces).
- `TfmotPruner` (`tfmot`): tfmot's own wrappers and schedule, the reference.

`on_event(model, event)` is called after every pruning event, on the model that is being trained
(the pipeline measures "top-1 before fine-tuning" at the first one). Amounts are always relative to
the original dense model."""

from __future__ import annotations

from dataclasses import replace

from prune_core.engine.pruners.base import Pruner
from prune_core.engine.pruners.channel import ChannelPruner
from prune_core.engine.pruners.combined import CombinedPruner
from prune_core.engine.pruners.masked import MaskedPruner
from prune_core.engine.pruners.tfmot import TfmotPruner
from prune_core.errors import SpecError

__all__ = ["Pruner", "ChannelPruner", "CombinedPruner", "MaskedPruner", "TfmotPruner", "create"]


def create(
    spec,
    baseline,
    *,
    calibration=None,
    times: dict | None = None,
    recalibration=None,
    allocate=None,
    reconstruct=None,
) -> Pruner:
    """The engine for a recipe (structured channels, masked weights, or tfmot's own recipe).
    `allocate` (scope auto): per-layer sparsities by target for single weights, the channel
    groups' `ChannelSensitivity` for channels (`pipeline.automatic_allocation`). `reconstruct`:
    a `reconstruction.Refit` the engines run after a one-shot cut (`--reconstruct`)."""
    pruning, seed = spec.pruning, spec.training.seed
    if pruning.granularity == "structured":
        channels = ChannelPruner(
            baseline,
            pruning,
            times=times,
            calibration=calibration,
            seed=seed,
            recalibration=recalibration,
            sensitivity=allocate if pruning.scope == "auto" else None,
            reconstruct=reconstruct,
        )
        if pruning.then_sparsity is None:
            return channels
        nm = pruning.sparsity_pattern.kind == "n:m"
        stage = replace(
            pruning,
            granularity="unstructured",
            sparsity=pruning.then_sparsity,
            threshold=None,
            scope="layerwise" if nm else "global",
            budget="flops",
            rank="importance",
            channel_multiple=1,
            then_sparsity=None,
        )
        return CombinedPruner(
            channels,
            MaskedPruner(
                stage,
                calibration=calibration,
                seed=seed,
                recalibration=recalibration,
                reconstruct=reconstruct,
            ),
            pruning.then_sparsity,
        )
    if pruning.strategy == "tfmot":
        return TfmotPruner(pruning, spec.schedule)
    if pruning.scope == "auto" and allocate is None:
        raise SpecError("scope auto needs the allocation from a profile of this baseline")
    return MaskedPruner(
        pruning,
        calibration=calibration,
        seed=seed,
        allocate=allocate,
        recalibration=recalibration,
        reconstruct=reconstruct,
    )
