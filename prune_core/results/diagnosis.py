"""What a run's own numbers say went wrong, in plain words: a dense baseline at chance, a run that
collapsed to chance, and fine-tuning that made a run worse. Pure functions of a `RunResult`."""

from __future__ import annotations

from prune_core.results.run_result import RunResult

#: Top-1 within this share of the way from chance (1 / classes) to perfect counts as "at chance"
#: (10 classes: up to 0.19; 3 classes: up to 0.40).
AT_CHANCE = 0.1
#: Top-1 lost by fine-tuning that is more than noise on these test splits.
WORSE_BY = 0.01


def warnings(result: RunResult, classes: int | None) -> list[str]:
    """Plain sentences about what went wrong (empty when nothing did). `classes`: the dataset's
    class count, when known; without it chance cannot be told."""
    out = []
    ceiling = 1.0 / classes + AT_CHANCE * (1 - 1.0 / classes) if classes else None
    dense = result.dense.top1
    if ceiling is not None and dense <= ceiling:
        own = result.spec.baseline.model.startswith("file:")
        pixels = result.spec.baseline.pixels.replace("-1-1", "−1–1").replace("-", "–")
        out.append(
            f"The dense baseline itself is at chance (top-1 {dense:.3f} with {classes} classes): "
            "the model did not learn these data, so pruning has nothing to keep."
            + (
                f" Your model was given pixels {pixels}: check that it was trained on that range "
                "(the recipe's pixel range) and that its classes are the folder's sub-folders, "
                "in alphabetical order."
                if own
                else ""
            )
        )
    elif ceiling is not None and result.top1 <= ceiling:
        out.append(
            f"This run collapsed to chance (top-1 {result.top1:.3f} with {classes} classes): too "
            "much was removed for fine-tuning to recover. Try a lower amount, per-layer ranking, "
            "or more fine-tune epochs."
        )
    if result.top1 < result.top1_before_finetune - WORSE_BY:
        out.append(
            f"Fine-tuning made this run worse: top-1 {result.top1_before_finetune:.3f} before it, "
            f"{result.top1:.3f} after. A lower learning rate usually helps."
        )
    return out
