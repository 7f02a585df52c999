"""Errors a user can cause. Their message is one clear line that says what to change."""


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
