"""How much one dashboard accepts, from environment settings read when they are needed:

- PRUNE_MAX_RUNS_PER_SUBMIT (default 200): runs one submission may queue (a sweep of every strategy ×
  a long list of amounts once queued 5,994 runs);
- PRUNE_MAX_QUEUED (default 1000): jobs waiting at once;
- PRUNE_JOB_TIMEOUT (seconds, default 0 = none): a job running longer is stopped and recorded as
  interrupted with that reason.
"""
from __future__ import annotations

import os

from prune_core.errors import SpecError


def _setting(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


def max_runs_per_submit() -> int:
    return _setting("PRUNE_MAX_RUNS_PER_SUBMIT", 200)


def max_queued() -> int:
    return _setting("PRUNE_MAX_QUEUED", 1000)


def job_timeout() -> int:
    return _setting("PRUNE_JOB_TIMEOUT", 0)


def check_submission(new: int, queued: int) -> None:
    """Refuse, in the page's words, a submission over the limits (nothing is queued then)."""
    if new > max_runs_per_submit():
        raise SpecError(f"this makes {new:,} runs; at most {max_runs_per_submit():,} can be queued at once — "
                        "choose fewer strategies or amounts")
    if queued + new > max_queued():
        raise SpecError(f"{queued:,} jobs are already waiting; at most {max_queued():,} may wait at once — "
                        "let some finish, or cancel queued ones on the Runs page")
