"""How the pages put things into words: escaped user text, sizes, durations, a job's progress and
result, a latency against dense."""
from __future__ import annotations

import re

from prune_core.errors import ResultError
from prune_core.measured import SINGLE_TIMING_NOISE
from prune_core.timing import verdict

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@])")


def escape_md(text) -> str:
    """User text (paths, sweep names, error messages that quote them) as literal Markdown: no links,
    emphasis, code spans, LaTeX or Streamlit directives can come out of a folder or file name."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
                "completed": ":material/check_circle:", "failed": ":material/error:",
                "canceled": ":material/cancel:", "interrupted": ":material/warning:"}


def result_line(job) -> str:
    """One line about a completed job: a run's accuracy against dense, what was pruned, size, time; or
    what a profile measured."""
    try:
        if job.kind == "profile":
            p = job.profile
            return (f"{', '.join(p.criteria)}: {len(p.levels)} one-shot levels × 3 rankings, {len(p.layers)} "
                    f"layers × {len(p.layer_levels)} sensitivity levels · dense top-1 "
                    f"{p.dense.get('top1', float('nan')):.4f} (validation) · {job.elapsed:.0f} s")
        r = job.run_result
    except (ResultError, ValueError) as exc:
        return f"the stored result cannot be read ({exc})"
    return (f"top-1 **{r.top1:.4f}** (dense {r.dense.top1:.4f}, before fine-tune {r.top1_before_finetune:.4f}) · "
            f"{r.amount_text()} · gzip {bytes_text(r.gzip_bytes)} · {job.elapsed:.0f} s")


def speedup_delta(speedup, low, high, single_ratio=None) -> tuple[str | None, str, str]:
    """(delta text, delta colour, explanation) for a latency against dense: a difference is shown only
    when it leaves the measurement band; results timed once (before bands existed) say so."""
    if speedup is None:
        if single_ratio is None:
            return None, "off", ""
        return (f"{100 * (single_ratio - 1):+.0f} % vs dense (one timing)", "off",
                "Timed once, not against the dense model: differences under "
                f"±{SINGLE_TIMING_NOISE:.0%} are noise on this machine.")
    band = f"{low:.2f}–{high:.2f}×"
    found = verdict(low, high)
    note = (f"Timed in alternation with the dense model, round by round: speedup {speedup:.2f}× "
            f"(lowest–highest round {band}; named only when every round agrees).")
    if found == "within noise":
        return "within measurement noise", "off", note
    return f"{100 * (1 / speedup - 1):+.0f} % vs dense", "inverse", note


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
            detail.append(f"about {duration_text(spent / step * (steps - step))} left in this phase")
        detail.append(f"{job.elapsed:.0f} s in all")
        return min(step / steps, 1.0), " · ".join(detail)
    detail.append(f"{job.elapsed:.0f} s in all")
    return None, " · ".join(detail)


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


def display_order(jobs: list) -> list:
    """Running first, then queued in the order they will run, then finished, newest first."""
    running = sorted((j for j in jobs if j.status == "running"), key=lambda j: j.id)
    queued = sorted((j for j in jobs if j.status == "queued"), key=lambda j: j.id)
    done = sorted((j for j in jobs if j.status not in ("running", "queued")), key=lambda j: -j.id)
    return running + queued + done


def bytes_text(n) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)
