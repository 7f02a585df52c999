"""One recipe end to end: baseline (cached) → prune → fine-tune → measure → (export).

`run(spec)` is what the CLI, the benchmarks and the background workers call. It reports progress
through `on_progress(Progress)`, stops cooperatively when `should_cancel()` turns true, and returns
a `RunResult`. Every engine goes through the same sequence (`prune_core.engine`): start from the
baseline, prune once (one-shot) or at the schedule's steps while fine-tuning, finish, measure.
"Top-1 before fine-tuning" is measured on the model that is then trained, right after its first
pruning event."""

from __future__ import annotations

import time
from pathlib import Path

from prune_core import paths, summaries
from prune_core.engine import (
    channel_allocation,
    criteria,
    deploy,
    latency_table,
    metrics,
    models,
    pruners,
    reconstruction,
    structure,
)
from prune_core.engine.keras_env import release
from prune_core.engine.profiler import Profiler
from prune_core.engine.run_inputs import (
    baseline_for,
    cached_baseline,
    calibration_set,
    check,
    resolve_dataset,
)
from prune_core.errors import SpecError
from prune_core.progress import Progress, check_cancel, never
from prune_core.results.deployment import Deployment
from prune_core.results.explore import allocation_for
from prune_core.results.run_result import DenseReference, RunResult
from prune_core.results.schema import STAGE_FIELDS


def latency_times(spec, baseline, root, on_progress, should_cancel=lambda: False) -> dict | None:
    """The baseline's per-layer LiteRT table when the recipe budgets or ranks by latency."""
    pruning = spec.pruning
    if pruning.granularity != "structured" or "latency" not in (pruning.budget, pruning.rank):
        return None

    def report(done, total):
        check_cancel(should_cancel)
        on_progress(
            Progress(
                "timing layers",
                step=done,
                steps=total,
                message=f"LiteRT, layer {done}/{total} (once per architecture)",
            )
        )

    return latency_table.load_or_measure(
        baseline, structure.trace(baseline), root, on_progress=report
    )


def automatic_allocation(
    spec, baseline, dataset, root=None, on_progress=lambda p: None, should_cancel=lambda: False
):
    """`--scope auto`, from the criterion's profile of this baseline (cached, measured now if there
    is none): for single weights, a function from a target sparsity to per-layer sparsities
    chosen from the layers' measured sensitivity (as Explore draws it); for channels, each
    channel group's measured sensitivity (`channel_allocation.ChannelSensitivity`)."""
    strategy = spec.pruning.strategy
    profiled = Profiler(
        spec, baseline, dataset, root=root, on_progress=on_progress, should_cancel=should_cancel
    ).profile([strategy])
    if spec.pruning.granularity == "structured":
        measured = profiled.criteria[strategy].channel_sensitivity
        if measured is None:
            raise SpecError("no channel of this model can be removed, so none can be allocated")
        return channel_allocation.ChannelSensitivity.from_dict(measured)
    return lambda target: allocation_for(profiled, strategy, target).sparsities


def export(
    model,
    spec,
    dataset,
    root: Path | None = None,
    on_progress=lambda p: None,
    reference=None,
    should_cancel=never,
) -> Deployment:
    """TFLite float / sparse / int8 of a finished model, measured (the `--export tflite` recipe and
    the dashboard's export jobs); with `reference` (the dense baseline) LiteRT speedups are timed
    against it."""
    return deploy.export_all(
        model,
        dataset,
        root or paths.home(),
        seed=spec.training.seed,
        reference=reference,
        on_progress=lambda m: on_progress(Progress("exporting", message=m)),
        batch_size=spec.training.batch_size,
        should_cancel=should_cancel,
    )


def export_saved(
    path: str, spec, root: Path | None = None, on_progress=lambda p: None, should_cancel=never
) -> Deployment:
    """`export` for a run's saved model file."""
    model = models.load_user_model(path)
    return export(
        model,
        spec,
        resolve_dataset(spec, model),
        root,
        on_progress,
        reference=cached_baseline(spec, root),
        should_cancel=should_cancel,
    )


def measure_stage(name: str, model, dataset) -> dict:
    """One cut of a combined recipe: top-1 on the test split, parameters and FLOPs (nonzero too)."""
    top1 = metrics.accuracy(model, dataset.x_test, dataset.y_test)["top1"]
    return stage_row(name, {"top1": top1, **metrics.param_counts(model), **metrics.flops(model)})


def stage_row(name: str, measured: dict) -> dict:
    """A stage's row (`results.schema.STAGE_FIELDS`) from measured numbers."""
    return {"stage": name, **{k: measured[k] for k in STAGE_FIELDS}}


def run(
    spec,
    root: Path | None = None,
    on_progress=lambda p: None,
    should_cancel=lambda: False,
    model_path: Path | None = None,
) -> RunResult:
    return run_keeping_model(spec, root, on_progress, should_cancel, model_path)[0]


def run_keeping_model(
    spec,
    root: Path | None = None,
    on_progress=lambda p: None,
    should_cancel=lambda: False,
    model_path: Path | None = None,
    dataset=None,
):
    """(`run`'s result, the pruned model). `dataset`: arrays already in memory
    (`prune_core.prune`), for a `memory:` recipe."""
    started = time.perf_counter()
    dataset, user_model = check(spec, dataset)
    baseline, dense, cached = baseline_for(
        spec, dataset, user_model, root, on_progress, should_cancel
    )
    check_cancel(should_cancel)
    release()  # the models building or loading the baseline made

    times = latency_times(spec, baseline, root, on_progress, should_cancel)
    pruning = spec.pruning
    on_progress(
        Progress(
            "scoring",
            message=f"scoring {'channels' if pruning.granularity == 'structured' else 'weights'} "
            f"by {pruning.strategy}",
        )
    )
    # the criterion's calibration examples, and reconstruction's (one seeded draw for both)
    samples = (
        calibration_set(spec, dataset)
        if pruning.strategy in criteria.NEEDS_DATA or pruning.reconstruct
        else None
    )
    calibration = samples if pruning.strategy in criteria.NEEDS_DATA else None
    allocate = (
        automatic_allocation(spec, baseline, dataset, root, on_progress, should_cancel)
        if pruning.scope == "auto"
        else None
    )
    refit = (
        reconstruction.Refit(samples.x, seed=spec.training.seed, on_progress=on_progress)
        if pruning.reconstruct
        else None
    )
    pruner = pruners.create(
        spec,
        baseline,
        calibration=calibration,
        times=times,
        recalibration=dataset.x_train,
        allocate=allocate,
        reconstruct=refit,
    )
    weights_before = summaries.distribution(pruner.kernels(baseline))
    before = {}

    def on_event(model, event):
        if not before:  # the first pruning event, on the model that is being trained
            before.update(metrics.accuracy(model, dataset.x_test, dataset.y_test))
            check_cancel(should_cancel)

    model = pruner.start(baseline)
    stages = []
    if spec.schedule.kind == "oneshot":
        model, event = pruner.prune(model, pruning.sparsity, 0, threshold=pruning.threshold)
        on_event(model, event)
        stages = [
            measure_stage(name, stage, dataset) for name, stage in getattr(pruner, "stages", [])
        ]
    ft_start = time.perf_counter()
    model, history = pruner.fine_tune(
        model,
        dataset,
        spec.schedule,
        spec.training,
        on_progress=on_progress,
        should_cancel=should_cancel,
        on_event=on_event,
        teacher=baseline if spec.training.distill else None,
    )
    finetune_seconds = time.perf_counter() - ft_start
    model = pruner.finish(model)
    release()  # the model that was trained, its optimizer's slots, its gradients
    check_cancel(should_cancel)

    on_progress(Progress("measuring", message="measuring accuracy, size and latency"))
    targets = criteria.find_targets(
        model, prune_head=pruning.prune_head, prune_depthwise=pruning.prune_depthwise
    )
    measured = {
        **metrics.measure(model, targets, dataset, reference=baseline),
        **pruner.measure(model),
    }
    # the dense latency measured alongside (in alternation) replaces the baseline's earlier one
    dense = {
        **dense,
        **{k[len("dense_") :]: measured.pop(k) for k in list(measured) if k.startswith("dense_")},
    }
    if model_path is not None:
        models.save(model, Path(model_path))
    result = RunResult(
        spec=spec,
        **measured,
        top1_before_finetune=before["top1"],
        top5_before_finetune=before["top5"],
        finetune_seconds=finetune_seconds,
        finetune_seconds_per_epoch=(sum(h["seconds"] for h in history) / len(history))
        if history
        else 0.0,
        total_seconds=time.perf_counter() - started,
        baseline_cached=cached,
        dense=DenseReference.from_dict(dense),
        history=history,
        events=list(pruner.events),
        stages=stages + ([stage_row("fine-tuned", measured)] if stages else []),
        distributions={
            "scores": pruner.score_distribution or summaries.distribution([]),
            "weights_before": weights_before,
            "weights_after": summaries.distribution([t.variable for t in targets]),
        },
        model_path=str(model_path) if model_path is not None else None,
    )
    if spec.export == "tflite":
        result = result.with_deployment(
            export(
                model,
                spec,
                dataset,
                root,
                on_progress,
                reference=baseline,
                should_cancel=should_cancel,
            )
        )
        check_cancel(should_cancel)
    return result, model
