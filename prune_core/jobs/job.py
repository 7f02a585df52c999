"""One job as the store holds it: its recipe, state, progress and result (parsed when first used).

States: queued → running → completed | failed | canceled | interrupted. Pure Python: pages list jobs
without importing TensorFlow.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass

from prune_core.recipe.spec import RunSpec
from prune_core.results.profile import Profile
from prune_core.results.run_result import RunResult

ACTIVE = ("queued", "running")
FINISHED = ("completed", "failed", "canceled", "interrupted")
STATES = ACTIVE + FINISHED


@dataclass(frozen=True)
class Job:
    id: int
    spec: RunSpec
    label: str
    sweep: str | None
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    pid: int | None
    cancel_requested: bool
    progress: dict
    error: str | None
    result_json: str | None
    # "run", "scores" (threshold preview), "export" or "profile" (Explore)
    kind: str = "run"
    parent: int | None = None
    retried_as: int | None = None
    # who queued it (shared mode); None: the local user, the CLI, an import
    owner: str | None = None
    # one of the bundled demo results (`prune_core.results.demo`), not measured here
    demo: bool = False

    @functools.cached_property
    def result(self) -> dict | None:
        """The run's measured result, parsed on first use (pages listing many jobs rarely need
        it)."""
        return json.loads(self.result_json) if self.result_json else None

    @functools.cached_property
    def run_result(self):
        """The result as a typed `RunResult` (run jobs; raises `ResultError` when it is not one)."""
        return RunResult.from_dict(self.result)

    @functools.cached_property
    def profile(self):
        """The result as a `Profile` (profile jobs; raises `ResultError` when it is not one)."""
        return Profile.from_dict(self.result)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at
