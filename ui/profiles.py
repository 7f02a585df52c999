"""What the Explore page reads from the job store: the merged profiles of a baseline, why a profile
failed, and the runs fine-tuned from the same baseline."""

from __future__ import annotations

from prune_core.measured import BEST_STRATEGY
from prune_core.recipe.spec import RunSpec
from prune_core.results.explore import merge
from prune_core.serving import access, uploads
from ui.session import _completed_runs, completed_runs, store

EXPLORE_FORM = {
    "explore_model_choice": "efficientnet-compact",
    "explore_dataset_choice": "digits",
    "explore_view": "simple",
    "explore_criterion": BEST_STRATEGY,
    "explore_criteria": ["magnitude", "gradient", "taylor", "fisher"],
    "explore_sparsity": 0.8,
    "explore_batchnorm": True,
    "explore_scopes": ["auto", "global"],
    "explore_flops": 0.4,
}


def newest_profiles(spec: RunSpec, criteria: list) -> dict:
    """{criterion: its newest completed profile job on `spec`'s baseline} (profiles measured at
    other levels than the first one found are left out: they do not merge)."""
    jobs = store()
    found = {}
    for job in _completed_runs(str(jobs.path), jobs.fingerprint(), ("profile",)):
        name = job.spec.pruning.strategy
        if (
            name in criteria
            and name not in found
            and job.spec.baseline_key() == spec.baseline_key()
        ):
            first = next(iter(found.values()), None)
            if first is None or (first.profile.levels, first.profile.layer_levels) == (
                job.profile.levels,
                job.profile.layer_levels,
            ):
                found[name] = job
    return found


def profiles_for(spec: RunSpec, criteria: list):
    """(the merged profile of `criteria` on `spec`'s baseline, or None; {criterion: profile job
    still queued or running}). The newest profile of each criterion is used."""
    jobs = store()
    found = {name: job.profile for name, job in newest_profiles(spec, criteria).items()}
    pending = {
        job.spec.pruning.strategy: job
        for job in jobs.list(status=("queued", "running"))
        if job.kind == "profile"
        and job.spec.pruning.strategy in criteria
        and job.spec.baseline_key() == spec.baseline_key()
    }
    return merge([found[c] for c in criteria if c in found]), pending


def failed_profiles(spec: RunSpec, criteria: list) -> dict:
    """{criterion: error} for the newest profile job of each criterion on this baseline, where it
    failed (or was canceled or interrupted) and nothing newer completed."""
    out, seen = {}, set()
    finished = ("completed", "failed", "canceled", "interrupted")
    for job in store().list(status=finished, limit=500, kind="profile"):
        name = job.spec.pruning.strategy
        if name not in criteria or name in seen or job.spec.baseline_key() != spec.baseline_key():
            continue
        seen.add(name)
        if job.status != "completed":
            error = job.error or "no reason recorded"
            error = uploads.public_text(error) if access.shared() else error
            out[name] = f"{job.status}: {error} (job {job.id})"
    return out


def finetuned_frame(spec: RunSpec, criteria: list):
    """Completed runs from the same baseline with one of `criteria`: what fine-tuning actually
    reached, to draw beside the one-shot curves."""
    import pandas as pd

    rows = []
    for job in completed_runs():
        s = job.spec
        if s.baseline_key() != spec.baseline_key() or s.pruning.strategy not in criteria:
            continue
        r = job.run_result
        rows.append(
            {
                "strategy": s.pruning.strategy,
                "scope": s.pruning.scope,
                "top1": r.top1,
                "gzip_bytes": r.gzip_bytes,
                "sparsity": r.weight_sparsity,
                "theoretical_speedup": r.theoretical_speedup,
                "litert_ms_predicted": r.litert_ms_predicted,
                "label": f"job {job.id}: {s.label()} · fine-tuned {s.training.fine_tune_epochs} "
                f"epochs · "
                f"top-1 {r.top1:.3f} (test) · before fine-tuning {r.top1_before_finetune:.3f}",
            }
        )
    return pd.DataFrame(rows)
