"""What a run reports while it works, and how it is asked to stop (pure Python: the job store,
the CLI's printer and the dashboard read it without TensorFlow)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from prune_core.errors import Canceled

#: The phases a run goes through, in order (a baseline is loaded when cached, trained otherwise; a
#: latency table is timed only for latency-aware recipes; a profile is measured for profile jobs and
#: for `--scope auto` when none is cached; reconstructing and exporting only when asked).
PHASES = (
    "loading baseline",
    "baseline training",
    "timing layers",
    "profiling",
    "scoring",
    "reconstructing",
    "fine-tuning",
    "measuring",
    "exporting",
)


@dataclass
class Progress:
    """A snapshot a run reports while it works (`phase` is one of `PHASES`)."""

    phase: str
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    accuracy: float | None = None
    sparsity: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.step / self.steps if self.steps else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "fraction": self.fraction}


ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


def ignore(_progress) -> None:
    """A progress callback that drops every report."""
    return None


def never() -> bool:
    """A cancel check that never asks to stop."""
    return False


def check_cancel(should_cancel: CancelFn) -> None:
    """Raise `Canceled` when the run was asked to stop (called at step and phase boundaries)."""
    if should_cancel():
        raise Canceled("canceled by request")
