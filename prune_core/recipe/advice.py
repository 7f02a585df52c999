"""Advice about a recipe that may run but is unlikely to give what it is for, said before it is
queued (the Experiment page, the CLI); unlike `options`, nothing here is refused."""

from __future__ import annotations

from prune_core.measured import (
    HIGH_SPARSITY,
    HIGH_SPARSITY_EPOCHS,
    HIGH_SPARSITY_GAPS,
    HIGH_SPARSITY_GAPS_SHAPES,
    HIGH_SPARSITY_TOP1,
)


def advice(specs: list) -> list[str]:
    """One line per piece of advice that applies to any of `specs` (each said once)."""
    out = []
    high = [
        s
        for s in specs
        if s.pruning.granularity == "unstructured"
        and (s.pruning.sparsity or 0.0) >= HIGH_SPARSITY
        and s.pruning.strategy != "tfmot"
    ]
    if any(s.pruning.scope != "auto" for s in high):
        low, best = HIGH_SPARSITY_TOP1["auto"]
        out.append(
            f"{HIGH_SPARSITY * 100:.0f} % of the weights or more: rank automatically (auto). On "
            f"digits, after fine-tuning, one global ranking fell to chance "
            f"({HIGH_SPARSITY_TOP1['global']:.0%}) and per-layer ranking reached at most "
            f"{HIGH_SPARSITY_TOP1['layerwise']:.0%}, where the automatic ranking kept "
            f"{low:.0%}–{best:.1%}."
        )
    short = [
        s
        for s in specs
        if s.pruning.granularity == "unstructured"
        and (s.pruning.sparsity or 0.0) >= HIGH_SPARSITY
        and s.training.fine_tune_epochs < HIGH_SPARSITY_EPOCHS
    ]
    if short:
        (at8, at8_98), (long95, long98) = HIGH_SPARSITY_GAPS[8], HIGH_SPARSITY_GAPS[24]
        (hard95, hard98), (hard48, hard48_98) = (
            HIGH_SPARSITY_GAPS_SHAPES[24],
            HIGH_SPARSITY_GAPS_SHAPES[48],
        )
        epochs = short[0].training.fine_tune_epochs
        out.append(
            f"{HIGH_SPARSITY * 100:.0f} % of the weights or more with {epochs} "
            f"fine-tune epochs: on digits, 8 epochs left top-1 {at8 * 100:.1f} pp (95 %) and "
            f"{at8_98 * 100:.1f} pp (98 %) below the dense model, {HIGH_SPARSITY_EPOCHS} epochs "
            f"{long95 * 100:.1f} and {long98 * 100:.1f} pp; consider {HIGH_SPARSITY_EPOCHS} "
            f"epochs, more for harder images (on Shapes, 24 epochs left {hard95 * 100:.1f} and "
            f"{hard98 * 100:.1f} pp, 48 epochs {hard48 * 100:.1f} and {hard48_98 * 100:.1f} pp)."
        )
    return out
