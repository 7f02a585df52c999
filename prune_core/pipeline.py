"""One recipe end to end: baseline (cached) → prune → fine-tune → measure.

`run(spec)` is what the CLI, the benchmark and the background workers call. It reports progress
through `on_progress(Progress)`, stops cooperatively when `should_cancel()` turns true, and returns
one flat dict of measured numbers (plus the recipe under `config`).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from prune_core import baselines, criteria, data, latency_table, metrics, models, structure, summaries, tfmot_reference
from prune_core.engine import ChannelPruner, MaskedPruner
from prune_core.errors import ModelError
from prune_core.training import Progress, check_cancel, recalibrate_batchnorm


def calibration_set(spec, dataset) -> criteria.Calibration:
    """The first N training examples of a seeded shuffle (stratified enough for N ≥ classes)."""
    rng = np.random.default_rng(spec.seed)
    idx = rng.permutation(len(dataset.x_train))[: spec.calibration_examples]
    return criteria.Calibration(dataset.x_train[idx].astype(np.float32), dataset.y_train[idx],
                                batch_size=32 if spec.strategy == "fisher" else 64)


def resolve_dataset(spec, baseline=None):
    """The recipe's dataset at the model's input size (a user's file fixes its own size)."""
    size = spec.image_size
    if baseline is not None and spec.model.startswith("file:"):
        size = int(baseline.input_shape[1])
    return data.load(spec.dataset, size, spec.seed)


def _check_classes(model, dataset):
    classes = int(model.output_shape[-1])
    if classes != dataset.num_classes:
        raise ModelError(f"the model predicts {classes} classes but {dataset.name} has {dataset.num_classes}")


def check(spec):
    """Everything that can be refused before any training: data, a user's model file, the schedule
    against the fine-tune steps. Returns (dataset, the user's model or None)."""
    user_model = models.load_user_model(spec.model[len("file:"):]) if spec.model.startswith("file:") else None
    dataset = resolve_dataset(spec, user_model)
    if user_model is not None:
        _check_classes(user_model, dataset)
        if not criteria.find_targets(user_model, prune_head=spec.prune_head, prune_depthwise=spec.prune_depthwise):
            raise ModelError("the model has no Conv2D or Dense kernel that this recipe may prune")
    steps_per_epoch = dataset.steps_per_epoch(spec.batch_size)
    spec.schedule_obj().validate_for(spec.fine_tune_epochs * steps_per_epoch, steps_per_epoch)
    return dataset, user_model


def _unstructured(spec, baseline, dataset, schedule, calibration, on_progress, should_cancel) -> dict:
    kwargs = dict(scope=spec.scope, calibration=calibration, seed=spec.seed, prune_head=spec.prune_head,
                  prune_depthwise=spec.prune_depthwise)
    # Accuracy right after pruning to the target in one shot, before any fine-tuning.
    model = models.clone(baseline)
    pruner = MaskedPruner(model, "magnitude" if spec.strategy == "tfmot" else spec.strategy, **kwargs)
    weights_before = summaries.distribution([t.variable.numpy() for t in pruner.targets])
    pruner.update(spec.sparsity, spec.threshold)
    scores = summaries.distribution(pruner.first_scores)
    before = metrics.accuracy(model, dataset.x_test, dataset.y_test)
    check_cancel(should_cancel)
    ft_start = time.perf_counter()
    budget = dict(epochs=spec.fine_tune_epochs, batch_size=spec.batch_size, learning_rate=spec.learning_rate,
                  seed=spec.seed, on_progress=on_progress, should_cancel=should_cancel)
    if spec.strategy == "tfmot":
        model, history = tfmot_reference.prune_and_finetune(
            baseline, dataset, schedule, prune_head=spec.prune_head, prune_depthwise=spec.prune_depthwise, **budget)
        events = []
    else:
        if schedule.kind != "oneshot":  # gradual: start again from the dense baseline
            model = models.clone(baseline)
            pruner = MaskedPruner(model, spec.strategy, **kwargs)
        history = pruner.fine_tune(dataset, schedule, **budget)
        events = pruner.events
    return dict(model=model, history=history, events=events, before=before, scores=scores,
                weights_before=weights_before, ft_start=ft_start)


def latency_times(spec, baseline, root, on_progress, should_cancel=lambda: False) -> dict | None:
    """The baseline's per-layer LiteRT table when the recipe budgets or ranks by latency."""
    if spec.granularity != "structured" or "latency" not in (spec.budget, spec.rank):
        return None
    def report(done, total):
        check_cancel(should_cancel)
        on_progress(Progress("timing layers", step=done, steps=total,
                             message=f"LiteRT, layer {done}/{total} (once per architecture)"))

    return latency_table.load_or_measure(baseline, structure.trace(baseline), root, on_progress=report)


def _structured(spec, baseline, dataset, schedule, calibration, on_progress, should_cancel, times=None) -> dict:
    kwargs = dict(scope=spec.scope, budget=spec.budget, multiple=spec.channel_multiple, rank=spec.rank,
                  times=times, calibration=calibration, seed=spec.seed)
    targets = criteria.find_targets(baseline, prune_head=True, prune_depthwise=True)
    weights_before = summaries.distribution([t.variable.numpy() for t in targets])
    oneshot = ChannelPruner(baseline, spec.strategy, **kwargs)
    model = oneshot.prune(baseline, spec.sparsity, spec.threshold)
    scores = summaries.distribution(list(oneshot.first_importance.values()))
    recalibrate_batchnorm(model, dataset.x_train, seed=spec.seed)  # statistics only, no weights
    before = metrics.accuracy(model, dataset.x_test, dataset.y_test)
    check_cancel(should_cancel)
    ft_start = time.perf_counter()
    pruner = oneshot
    if schedule.kind != "oneshot":  # gradual: start again from the dense baseline
        pruner = ChannelPruner(baseline, spec.strategy, **kwargs)
        model = models.clone(baseline)
    model, history = pruner.fine_tune(model, dataset, schedule, epochs=spec.fine_tune_epochs,
                                      batch_size=spec.batch_size, learning_rate=spec.learning_rate, seed=spec.seed,
                                      on_progress=on_progress, should_cancel=should_cancel)
    final_cost = pruner.cost(model)  # one trace of the final model serves every reported number
    return dict(model=model, history=history, events=pruner.events, before=before, scores=scores,
                weights_before=weights_before, ft_start=ft_start, achieved=pruner.reduction(final_cost),
                final_cost=final_cost, dense_cost=pruner.original_cost)


def _channels_removed(original, reduced) -> dict:
    """Fraction of each conv / dense layer's output channels that surgery removed."""
    out = {}
    for layer in reduced.layers:
        if type(layer).__name__ in ("Conv2D", "Dense"):
            before = original.get_layer(layer.name).kernel.shape[-1]
            out[layer.name] = 1.0 - layer.kernel.shape[-1] / before
    return out


def run(spec, root: Path | None = None, on_progress=lambda p: None, should_cancel=lambda: False,
        model_path: Path | None = None, measure_repeats: int = 30) -> dict:
    started = time.perf_counter()
    dataset, user_baseline = check(spec)
    if user_baseline is not None:
        baseline = user_baseline
        baseline_info = {"cached": True, "dense": baselines.dense_summary(baseline, dataset)}
    else:
        baseline, baseline_info = baselines.get(spec, dataset, root, on_progress, should_cancel)
    dense = baseline_info["dense"]
    schedule = spec.schedule_obj()
    check_cancel(should_cancel)

    times = latency_times(spec, baseline, root, on_progress, should_cancel)
    on_progress(Progress("scoring", message=f"scoring {'channels' if spec.granularity == 'structured' else 'weights'} "
                                            f"by {spec.strategy}"))
    calibration = calibration_set(spec, dataset) if spec.strategy in criteria.NEEDS_DATA else None
    if spec.granularity == "structured":
        outcome = _structured(spec, baseline, dataset, schedule, calibration, on_progress, should_cancel, times)
    else:
        outcome = _unstructured(spec, baseline, dataset, schedule, calibration, on_progress, should_cancel)
    model, history, events, before = outcome["model"], outcome["history"], outcome["events"], outcome["before"]
    finetune_seconds = time.perf_counter() - outcome["ft_start"]
    check_cancel(should_cancel)

    on_progress(Progress("measuring", message="measuring accuracy, size and latency"))
    targets = criteria.find_targets(model, prune_head=spec.prune_head, prune_depthwise=spec.prune_depthwise)
    measured = metrics.measure(model, targets, dataset, repeats=measure_repeats)
    if spec.granularity == "structured":  # what was removed is channels: report the budget's reduction
        measured["achieved_sparsity"] = outcome["achieved"]
        measured["layer_sparsity"] = _channels_removed(baseline, model)
        if times is not None:  # what the per-layer table predicts; the tflite export measures it
            measured["litert_ms_predicted"] = outcome["final_cost"]["latency"]
            measured["dense_litert_ms_predicted"] = outcome["dense_cost"]["latency"]
    if model_path is not None:
        models.save(model, Path(model_path))
    exported = {}
    if spec.export == "tflite":
        from prune_core import deploy, paths

        exported = deploy.export_all(model, dataset, root or paths.home(), seed=spec.seed,
                                     on_progress=lambda m: on_progress(Progress("exporting", message=m)))
        check_cancel(should_cancel)
    return {
        "model": spec.model, "dataset": spec.dataset, "strategy": spec.strategy,
        "granularity": spec.granularity, "scope": spec.scope, "schedule": spec.schedule, "mode": spec.mode,
        "target_sparsity": spec.sparsity, "threshold": spec.threshold,
        **{k: v for k, v in measured.items() if k != "layer_sparsity"},
        **{f"dense_{k}": v for k, v in dense.items() if k not in ("top1", "top5")},
        "top1_dense": dense["top1"], "top5_dense": dense["top5"],
        "top1_before_finetune": before["top1"], "top5_before_finetune": before["top5"],
        "finetune_seconds": finetune_seconds,
        "finetune_seconds_per_epoch": (sum(h["seconds"] for h in history) / len(history)) if history else 0.0,
        "total_seconds": time.perf_counter() - started,
        "baseline_cached": bool(baseline_info.get("cached")),
        "layer_sparsity": measured["layer_sparsity"],
        "history": history, "pruning_events": events,
        "distributions": {"scores": outcome["scores"], "weights_before": outcome["weights_before"],
                          "weights_after": summaries.distribution([t.variable.numpy() for t in targets])},
        **exported,
        "config": spec.to_dict(),
    }
