"""How much one dashboard accepts, from environment settings read when they are needed:

- PRUNE_MAX_RUNS_PER_SUBMIT (default 200): runs one submission may queue (a sweep of every strategy
  × a long list of amounts once queued 5,994 runs);
- PRUNE_MAX_QUEUED (default 1000): jobs waiting at once;
- PRUNE_MAX_QUEUED_PER_USER (default 50): jobs one signed-in visitor may have waiting (shared mode);
- PRUNE_MAX_UPLOAD_MB (default 200): the largest model file or zip of images a visitor may upload;
- PRUNE_JOB_TIMEOUT (seconds, default 0 = none): a job running longer is stopped and recorded as
  interrupted with that reason;
- PRUNE_PATH_ROOTS (folders separated by ":", default: your home folder, the project and the
  system's temporary folder): the only places a local dashboard reads a model file or an image
  folder from. A shared one reads only what its visitors uploaded (`$PRUNE_HOME/uploads`), whatever
  this says."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prune_core import paths
from prune_core.errors import SpecError
from prune_core.serving import access


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


def max_queued_per_user() -> int:
    return _setting("PRUNE_MAX_QUEUED_PER_USER", 50)


def max_upload_mb() -> int:
    return max(1, _setting("PRUNE_MAX_UPLOAD_MB", 200))


def job_timeout() -> int:
    return _setting("PRUNE_JOB_TIMEOUT", 0)


def timeout_reason(limit: int) -> str:
    return f"stopped: it ran longer than the per-job limit of {limit} s (PRUNE_JOB_TIMEOUT)"


def check_submission(new: int, queued: int, mine: int | None = None) -> None:
    """Refuse, in the page's words, a submission over the limits (nothing is queued then). `mine`:
    how many jobs this signed-in visitor already has waiting (shared mode; None: no per-user
    cap)."""
    if new > max_runs_per_submit():
        raise SpecError(
            f"this makes {new:,} runs; at most {max_runs_per_submit():,} can be queued at once — "
            "choose fewer strategies or amounts"
        )
    if mine is not None and mine + new > max_queued_per_user():
        raise SpecError(
            f"you already have {mine:,} jobs waiting; at most {max_queued_per_user():,} each may "
            "wait at once — let some finish, or cancel your queued ones on the Runs page"
        )
    if queued + new > max_queued():
        raise SpecError(
            f"{queued:,} jobs are already waiting; at most {max_queued():,} may wait at once — "
            "let some finish, or cancel queued ones on the Runs page"
        )


def path_roots() -> list[Path]:
    if access.shared():
        return [paths.uploads_dir().resolve()]
    text = os.environ.get("PRUNE_PATH_ROOTS")
    roots = (
        text.split(":")
        if text
        else [str(Path.home()), str(paths.PROJECT_ROOT), tempfile.gettempdir()]
    )
    return [Path(r).expanduser().resolve() for r in roots if r.strip()]


def check_path(path_text: str, what: str) -> None:
    """Refuse a path the dashboard was given that lies outside the configured roots (symlinks
    resolved)."""
    try:
        resolved = Path(path_text).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        raise SpecError(f"{what} {path_text[:120]!r} cannot be read") from None
    roots = path_roots()
    if not any(resolved.is_relative_to(root) for root in roots):
        if access.shared():
            raise SpecError(
                f"{what} {path_text[:120]!r} was not uploaded here; a shared dashboard reads only "
                "the files its visitors upload"
            )
        raise SpecError(
            f"{what} {path_text[:120]!r} is outside the folders this dashboard reads from "
            f"({', '.join(str(r) for r in roots)}; set PRUNE_PATH_ROOTS to change them)"
        )
