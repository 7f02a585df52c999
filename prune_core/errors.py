"""Errors a user can cause. Their message is one clear line that says what to change."""

import errno


class PruneError(Exception):
    """Base of every error caused by input; the CLI prints it as one line, the UI as a message."""


class SpecError(PruneError, ValueError):
    """A recipe that cannot run: out-of-range value, unknown name, impossible schedule."""


class DataError(PruneError):
    """A dataset that cannot be loaded or is unusable (e.g. fewer than two classes)."""


class ModelError(PruneError):
    """A model file that is not a Keras model, or that is unsafe to load (Lambda layers)."""


class Canceled(PruneError):
    """Raised inside a run when its cancel hook asks it to stop."""


class ResultError(PruneError, ValueError):
    """A stored or imported result that is not a run result (a missing or non-numeric number)."""


class AccessError(PruneError):
    """An action on a job this visitor does not own (shared mode: only the owner or an admin)."""


def failure_reason(exc: BaseException) -> str:
    """One line saying why a run failed unexpectedly (a defect, not input), for a job's state and
    the command line's `error:` line; a full disk says so in words."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            "the disk is full (no space left to write the model or its results); "
            "free some space and retry"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}".strip().rstrip(":")[:500]
