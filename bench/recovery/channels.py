"""The channel tables: reconstruction after a one-shot cut, and one global ranking against the
automatic allocation at the same FLOPs removed."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.recovery.common import (
    DATASET,
    FINE_TUNE_EPOCHS,
    cell,
    cells,
    each_seed,
    numbers,
    run_log,
    section_name,
)


def reconstruct_section(report, args, home: Path) -> None:
    """BatchNorm re-estimation alone vs reconstruction after the same one-shot cut: top-1 right
    after the cut and after fine-tuning."""
    rows, checks = [], []
    with run_log("recovery_reconstruct") as log:
        for name, fields in cells(args, channels=args.channels_oneshot):
            measured = {
                refit: each_seed(args, home, log, reconstruct=refit, **fields)
                for refit in (False, True)
            }
            before = {
                k: statistics.mean(r.top1_before_finetune for r in v) for k, v in measured.items()
            }
            after = {k: statistics.mean(r.top1 for r in v) for k, v in measured.items()}
            rows.append(
                [
                    name,
                    cell(measured[False], lambda r: r.top1_before_finetune),
                    cell(measured[True], lambda r: r.top1_before_finetune),
                    cell(measured[False], lambda r: r.top1),
                    cell(measured[True], lambda r: r.top1),
                    f"{statistics.mean(r.finetune_seconds for r in measured[True]):.0f} s",
                ]
            )
            checks.append(
                (
                    f"{name}: reconstruction one-shot {before[True]:.2%} vs BatchNorm alone "
                    f"{before[False]:.2%}; after fine-tuning {after[True]:.2%} vs "
                    f"{after[False]:.2%}",
                    before[True] > before[False],
                )
            )
    report.section(section_name("reconstruct"))
    report.heading(
        f"{DATASET['name']}: reconstruction (least squares, layer by layer, on 256 training "
        "images) vs BatchNorm "
        f"re-estimation alone after the same one-shot cut: top-1 on the test split right after "
        f"the cut and after {args.fine_tune_epochs} fine-tune epochs, each seed then the mean"
    )
    report.table(
        [
            "pruning",
            "one-shot, BatchNorm re-estimated",
            "one-shot, reconstructed",
            "fine-tuned (BatchNorm)",
            "fine-tuned (reconstructed)",
            "fine-tune s",
        ],
        rows,
    )
    report.checks(checks)


def channels_section(report, args, home: Path) -> None:
    """Channels: one global ranking vs the automatic allocation, the same FLOPs removed."""
    rows, checks = [], []
    extra = {"reconstruct": True} if args.channels_refit else {}
    with run_log("recovery_channels") as log:
        for removed in numbers(args.channels):
            measured = {
                scope: each_seed(
                    args,
                    home,
                    log,
                    strategy="taylor",
                    granularity="structured",
                    scope=scope,
                    sparsity=removed,
                    distill=args.channels_distill,
                    **extra,
                )
                for scope in ("global", "auto")
            }
            dense = statistics.mean(r.dense.top1 for r in measured["global"])
            best = {k: statistics.mean(r.top1 for r in v) for k, v in measured.items()}
            rows.append(
                [
                    f"−{removed:.0%} FLOPs ({1 / (1 - removed):.1f}× fewer)",
                    cell(measured["global"], lambda r: r.top1_before_finetune),
                    cell(measured["auto"], lambda r: r.top1_before_finetune),
                    cell(measured["global"], lambda r: r.top1),
                    cell(measured["auto"], lambda r: r.top1),
                    f"{dense:.2%}",
                ]
            )
            top = max(best.values())
            checks.append(
                (
                    f"−{removed:.0%} FLOPs: best {top:.2%} vs dense {dense:.2%} "
                    f"({(top - dense) * 100:+.2f} pp; goal at 3× fewer FLOPs: ≥ dense − 2 pp)",
                    top >= dense - 0.02,
                )
            )
    variant = (
        ("-refit" if args.channels_refit else "")
        + (f"-distill{args.channels_distill:g}" if args.channels_distill else "")
        # another fine-tune budget is its own table (the default's keeps its name)
        + (f"-{args.fine_tune_epochs}ep" if args.fine_tune_epochs != FINE_TUNE_EPOCHS else "")
    )
    report.section(section_name(f"channels{variant}"))
    how = " + ".join(
        ["taylor"]
        + (["reconstructed"] if args.channels_refit else [])
        + ([f"distilled {args.channels_distill:g}"] if args.channels_distill else [])
    )
    report.heading(
        f"{DATASET['name']}: channels ({how}), one global ranking vs the automatic allocation "
        "from each group's "
        f"measured sensitivity, top-1 on the test split one-shot → after {args.fine_tune_epochs} "
        "fine-tune epochs, each seed then the mean"
    )
    report.table(
        [
            "FLOPs removed",
            "one-shot, global",
            "one-shot, auto",
            "fine-tuned, global",
            "fine-tuned, auto",
            "dense",
        ],
        rows,
    )
    report.checks(checks)
