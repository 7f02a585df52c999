"""What a run reports while it works, and how it is asked to stop (pure Python: the job store,
the CLI's printer and the dashboard read it without TensorFlow)."""

from __future__ import annotations

import sys
import time
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


class ProgressPrinter:
    """Human progress on stderr: one line per phase change and per epoch (overwritten on a tty)."""

    def __init__(self, label: str, stream=sys.stderr, quiet: bool = False):
        self.label, self.stream, self.quiet = label, stream, quiet
        self.tty = stream.isatty()
        self.last_key, self.last_time = None, 0.0

    def __call__(self, p) -> None:
        if self.quiet:
            return
        key = (p.phase, p.epoch)
        now = time.monotonic()
        if key == self.last_key and now - self.last_time < (0.5 if self.tty else 10.0):
            return  # a log file gets a line per phase or epoch, and one every 10 s in a long one
        self.last_key, self.last_time = key, now
        parts = [f"[{self.label}] {p.phase}"]
        if p.epochs:
            parts.append(f"epoch {p.epoch}/{p.epochs} step {p.step}/{p.steps}")
        if p.loss is not None:
            parts.append(f"loss {p.loss:.3f} acc {p.accuracy:.3f}")
        if p.sparsity is not None:
            parts.append(f"sparsity {p.sparsity:.3f}")
        if p.message:
            parts.append(p.message)
        line = " · ".join(parts)
        self.stream.write(("\r\033[K" + line) if self.tty else line + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(("\r\033[K" if self.tty else "") + f"[{self.label}] {text}\n")
            self.stream.flush()
