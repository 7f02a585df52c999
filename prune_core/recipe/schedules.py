"""Pruning schedules as small value objects: validation, preview curve, and tfmot's classes.

Pure Python (no TensorFlow) so the dashboard can preview and validate a schedule in its own process.
The engine turns it into tfmot's (`engine.pruners.tfmot.tfmot_schedule`): `ConstantSparsity` /
`PolynomialDecay` object and uses it to decide when to prune and to what sparsity; `sparsity_at`
here reproduces tfmot's formula exactly (a test checks both agree) so the preview is what the run
will do.

Steps are numbered as tfmot's wrappers see them: the k-th optimizer step of fine-tuning is step k
(1, 2, …, total); a one-shot schedule prunes before step 1. So tfmot's own default
`ConstantSparsity(begin_step=0, frequency=100)` first prunes at step 100, and a schedule whose first
pruning step lies past the last fine-tune step never prunes at all (tfmot #973) — `validate_for`
refuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prune_core.errors import SpecError
from prune_core.recipe.fields import MAX_STEP, check_int

SCHEDULE_KINDS = ("oneshot", "constant", "polynomial")


def aligned_end_step(begin: int, end: int, frequency: int) -> int:
    """The end step moved up to the next one the frequency reaches from the begin step."""
    return begin + frequency * math.ceil((end - begin) / frequency)


@dataclass(frozen=True)
class Schedule:
    """When and how hard to prune. `final_sparsity` is the recipe's target sparsity."""

    kind: str = "oneshot"
    final_sparsity: float = 0.5
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int = -1
    frequency: int = 100
    power: float = 3.0

    def aligned_end_step(self) -> int:
        return aligned_end_step(self.begin_step, self.end_step, self.frequency)

    def __post_init__(self):
        if self.kind not in SCHEDULE_KINDS:
            raise SpecError(
                f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULE_KINDS)}"
            )
        for name in ("final_sparsity", "initial_sparsity"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value < 1.0):
                raise SpecError(f"{name.replace('_', ' ')} must be in [0, 1), got {value!r}")
        check_int("begin_step", self.begin_step, 0, MAX_STEP)
        check_int("end_step", self.end_step, -1, MAX_STEP)
        check_int("frequency", self.frequency, 1, MAX_STEP)
        if self.kind == "polynomial":
            if self.end_step <= self.begin_step:
                raise SpecError(
                    f"polynomial schedule needs end step > begin step, got {self.begin_step} → "
                    f"{self.end_step}"
                )
            if self.initial_sparsity > self.final_sparsity:
                raise SpecError(
                    f"initial sparsity {self.initial_sparsity} is above the final sparsity "
                    f"{self.final_sparsity}"
                )
            if (self.end_step - self.begin_step) % self.frequency:
                raise SpecError(
                    f"(end step - begin step) = {self.end_step - self.begin_step} is not a "
                    f"multiple of frequency "
                    f"{self.frequency}, so the final sparsity would never be applied; "
                    f"set end step to {self.aligned_end_step()}"
                )
            if self.power <= 0:
                raise SpecError(f"power must be > 0, got {self.power}")
        if self.kind == "constant" and self.end_step != -1 and self.end_step < self.begin_step:
            raise SpecError(
                f"constant schedule needs end step >= begin step (or -1), got {self.end_step}"
            )

    # ---- what the schedule does -------------------------------------------------------------
    def sparsity_at(self, step: int) -> float:
        """Target sparsity at `step` by tfmot's formula (oneshot: the final sparsity throughout)."""
        if self.kind != "polynomial":
            return float(self.final_sparsity)
        p = min(1.0, max(0.0, (step - self.begin_step) / (self.end_step - self.begin_step)))
        return float(
            (self.initial_sparsity - self.final_sparsity) * (1.0 - p) ** self.power
            + self.final_sparsity
        )

    def prunes_at(self, step: int) -> bool:
        """Whether masks are recomputed at optimizer step `step` (tfmot's rule; one-shot: before
        step 1)."""
        if self.kind == "oneshot":
            return step == 0
        in_range = step >= self.begin_step and (self.end_step < 0 or step <= self.end_step)
        return in_range and (step - self.begin_step) % self.frequency == 0

    def _events(self, total_steps: int) -> range:
        """The steps at which masks are recomputed, as a range (counted without listing them)."""
        if self.kind == "oneshot":
            return range(0, 1)
        # tfmot's wrappers start at step 1
        first = self.begin_step if self.begin_step >= 1 else self.frequency
        last = total_steps if self.end_step < 0 else min(self.end_step, total_steps)
        return range(first, last + 1, self.frequency)

    def pruning_steps(self, total_steps: int) -> list[int]:
        """Every step at which masks are recomputed during `total_steps` steps of fine-tuning."""
        return list(self._events(total_steps))

    def count_pruning_steps(self, total_steps: int) -> int:
        return len(self._events(total_steps))

    def preview(self, total_steps: int, max_points: int = 2000) -> tuple[list[int], list[float]]:
        """(steps, sparsity the masks hold from that step on): the step curve the run will follow,
        drawn through its pruning events — at most `max_points` of them, evenly picked, so a
        schedule of millions of steps previews as fast as a short one."""
        events = self._events(total_steps)
        if len(events) > max_points:
            events = list(events[:: math.ceil(len(events) / max_points)]) + [events[-1]]
        steps, values = ([], []) if events and events[0] == 0 else ([0], [0.0])
        for step in events:
            if not steps or step != steps[-1]:
                steps.append(step)
                values.append(self.sparsity_at(step))
        if steps[-1] != total_steps:
            steps.append(total_steps)
            values.append(values[-1])
        return steps, values

    def validate_for(self, total_steps: int, steps_per_epoch: int) -> None:
        """Reject a schedule that never prunes or cannot reach its final sparsity in the fine-tune
        steps."""
        if self.kind == "oneshot":
            return
        per_epoch = max(steps_per_epoch, 1)
        have = f"fine-tuning has {total_steps} steps ({per_epoch} per epoch)"
        if self.kind == "polynomial" and self.end_step > total_steps:
            raise SpecError(
                f"polynomial schedule reaches its final sparsity at step {self.end_step} but "
                f"{have}; "
                f"lower --end-step to at most {total_steps} or raise --fine-tune-epochs to "
                f"{math.ceil(self.end_step / per_epoch)}"
            )
        first = self.begin_step if self.begin_step >= 1 else self.frequency
        if first > total_steps:
            raise SpecError(
                f"{self.kind} schedule first prunes at step {first} but {have}, so it would "
                f"never prune; "
                f"lower --begin-step/--frequency or raise --fine-tune-epochs to "
                f"{math.ceil(first / per_epoch)}"
            )


def seed_recipe(final_sparsity: float = 0.8) -> Schedule:
    """The seed document's tfmot recipe: PolynomialDecay 0.5 → 0.8 between steps 1000 and 2000."""
    return Schedule(
        kind="polynomial",
        initial_sparsity=0.5,
        final_sparsity=final_sparsity,
        begin_step=1000,
        end_step=2000,
        frequency=100,
    )
