"""A run in a few lines a person reads in a terminal: what it ran, what it kept, what it saved,
how fast it is against dense. The command line prints this; the full result is JSON (--json,
--out)."""

from __future__ import annotations

from prune_core.results.headline import speed_headline
from prune_core.results.run_result import RunResult
from prune_core.units import bytes_text


def run_summary(result: RunResult) -> str:
    """Four lines: the recipe and its data; accuracy against dense; amount and size; speed."""
    spec, dense = result.spec, result.dense
    lines = [
        f"{spec.label()} · {spec.baseline.model} on {spec.baseline.dataset}",
        f"  top-1 {result.top1:.2%} (dense {dense.top1:.2%}, "
        f"{100 * (result.top1 - dense.top1):+.2f} pp; before fine-tuning "
        f"{result.top1_before_finetune:.2%})",
    ]
    size = f"  {result.amount_text()} · gzip {bytes_text(result.gzip_bytes)}"
    if dense.gzip_bytes and result.gzip_bytes:
        size += (
            f" (dense {bytes_text(dense.gzip_bytes)}, "
            f"{dense.gzip_bytes / result.gzip_bytes:.2f}× smaller)"
        )
    lines.append(size)
    speed = speed_headline(result)
    if speed is not None:
        lines.append(
            f"  {speed.label}: {speed.verdict}" + (f" ({speed.band})" if speed.band else "")
        )
    return "\n".join(lines)
