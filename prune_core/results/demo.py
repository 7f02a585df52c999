"""The bundled demo results: real runs and a five-criterion profile of the default model and data,
measured by the project's own commands (`tools/build_demo.py` says which) and kept in `demo/`, so a
first visit shows real curves at once instead of waiting minutes for a baseline and fine-tuning.

Loaded into a job store on request, marked as demo wherever they appear (their own sweep name, a
`demo` flag on each job), and removed in one step. Their file paths are dropped: there is no model
to download, only numbers. Pure Python (no TensorFlow).
"""

from __future__ import annotations

import functools
import json

from prune_core import paths
from prune_core.errors import ResultError
from prune_core.recipe.spec import RunSpec
from prune_core.results import result_files
from prune_core.results.profile import Profile

DEMO_DIR = paths.PROJECT_ROOT / "demo"
RUNS, PROFILE = DEMO_DIR / "runs.jsonl", DEMO_DIR / "profile.json"
#: A 16×16 block of one trained 1×1 convolution of the demo baseline, for the Learn page.
LESSON_WEIGHTS = DEMO_DIR / "lesson_weights.json"
#: The sweep name every demo result carries (legend, hover, tables).
SWEEP = "demo (bundled)"


@functools.lru_cache(maxsize=1)
def runs() -> tuple:
    """The bundled runs as RunResults (checked, without paths); () when the files are missing."""
    return tuple(result_files.read(RUNS)) if RUNS.is_file() else ()


@functools.lru_cache(maxsize=1)
def profile() -> Profile | None:
    try:
        return Profile.from_dict(json.loads(PROFILE.read_text()))
    except (OSError, ValueError, ResultError):
        return None


def available() -> bool:
    return bool(runs())


def profile_spec(measured: Profile, criterion: str) -> RunSpec:
    """The recipe a profile job of `criterion` on this profile's baseline would have had."""
    base = {
        k: measured.baseline[k]
        for k in ("model", "dataset", "image_size", "weights", "baseline_epochs")
        if k in measured.baseline
    }
    return RunSpec.of(**base, strategy=criterion)


def profile_rows(measured: Profile, sweep: str) -> list:
    """A merged profile as job-store rows: one completed profile job per criterion, as Explore reads
    them."""
    out = []
    for name, criterion in measured.criteria.items():
        alone = Profile(
            measured.baseline,
            measured.levels,
            measured.layer_levels,
            measured.dense,
            measured.layers,
            {name: criterion},
        )
        out.append(
            (
                profile_spec(measured, name),
                "profile",
                f"profile {name}",
                sweep,
                alone.to_dict(),
                sum(criterion.seconds.values()),
            )
        )
    return out


def rows() -> list:
    """The demo as job-store rows (`JobStore.add_finished`): a run per result, a profile job per
    criterion."""
    out = [
        (r.spec, "run", r.spec.label(), SWEEP, r.to_dict(), r.total_seconds or 0.0) for r in runs()
    ]
    measured = profile()
    return out + (profile_rows(measured, SWEEP) if measured is not None else [])


def load(store) -> list[int]:
    """Put the demo into `store` (all of it, in one transaction); nothing when it is already
    there."""
    if store.demo_count():
        return []
    return store.add_finished(rows(), demo=True)


def remove(store) -> int:
    return store.delete_demo()
