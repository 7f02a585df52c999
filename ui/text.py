"""How the pages put things into words: escaped user text, sizes, durations, a job's progress and
result, a latency against dense."""

from __future__ import annotations

import re
import time

from prune_core.serving import access, uploads
from prune_core.units import bytes_text, duration_text

__all__ = ["bytes_text", "duration_text", "escape_md", "job_title", "progress_text"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@])")


def escape_md(text) -> str:
    """User text (paths, sweep names, error messages that quote them) as literal Markdown: no links,
    emphasis, code spans, LaTeX or Streamlit directives can come out of a folder or file name."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


#: Phases whose progress is counted in steps (a bar with an estimate of the time left).
_STEPPED = ("baseline training", "timing layers", "profiling", "fine-tuning")


def progress_text(job) -> tuple[float | None, str]:
    """(bar fraction or None, line) for a running job: every phase says what it is doing; phases
    counted in steps get a bar and the time left, estimated from this phase's own pace so far."""
    p = job.progress or {}
    phase = p.get("phase", "starting")
    detail = [phase]
    if p.get("message"):
        detail.append(p["message"])
    if p.get("epochs"):
        detail.append(f"epoch {p.get('epoch')}/{p.get('epochs')}")
    if p.get("sparsity") is not None:
        detail.append(f"sparsity {p['sparsity']:.3f}")
    if p.get("accuracy") is not None:
        detail.append(f"train accuracy {p['accuracy']:.3f}")
    step, steps, spent = p.get("step") or 0, p.get("steps") or 0, p.get("phase_seconds")
    if phase in _STEPPED and steps and step:
        if spent and step < steps:
            detail.append(
                f"about {duration_text(spent / step * (steps - step))} left in this phase"
            )
        detail.append(f"{job.elapsed:.0f} s in all")
        return min(step / steps, 1.0), " · ".join(detail)
    detail.append(f"{job.elapsed:.0f} s in all")
    return None, " · ".join(detail)


def job_title(job, numbered: bool = True) -> str:
    """A job named as a person finds it again: its number and recipe, model and data, sweep and
    date (plain text; escape it for Markdown)."""
    shown = uploads.public_name if access.shared() else (lambda name: name)
    parts = [f"job {job.id}"] if numbered else []
    parts += [
        job.label,
        f"{shown(job.spec.baseline.model)} on {shown(job.spec.baseline.dataset)}",
    ]
    if job.sweep:
        parts.append(job.sweep)
    parts.append(time.strftime("%d %b %H:%M", time.localtime(job.created_at)))
    return " · ".join(parts)
