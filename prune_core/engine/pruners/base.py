"""The interface every pruning engine implements (`prune_core.engine.pruners` says how the pipeline
drives it), and the fine-tune helpers the engines share."""

from __future__ import annotations

from prune_core import summaries
from prune_core.engine import models
from prune_core.engine.training import Trainer
from prune_core.progress import ignore, never
from prune_core.results.run_result import PruningEvent


def no_event(model, event) -> None:
    return None


class Pruner:
    """The interface every engine implements (see the module doc)."""

    #: What `PruningEvent.achieved` counts: "weights" or a structured budget.
    unit = "weights"

    def __init__(self):
        self.events: list[PruningEvent] = []
        # the scores at the first event, summarised at once for the histograms (one number per
        # weight held to the end of a run was a copy of the weights)
        self.score_distribution: dict | None = None

    def keep_first_scores(self, scores: list) -> None:
        """Summarise the scores of the first event (later events' are not kept)."""
        if self.score_distribution is None:
            self.score_distribution = summaries.distribution(scores)

    def kernels(self, model) -> list:
        """The kernel values this engine prunes in a plain model (for the |weight| histograms)."""
        raise NotImplementedError

    def start(self, baseline):
        """The model to prune and fine-tune; `baseline` itself is never changed."""
        return models.clone(baseline)

    def prune(self, model, amount: float | None, step: int = 0, *, threshold: float | None = None):
        """Prune `model` to `amount` (or by `threshold`) at fine-tune step `step`; returns (model,
        event)."""
        raise NotImplementedError

    def fine_tune(
        self,
        model,
        dataset,
        schedule,
        training,
        *,
        on_progress=ignore,
        should_cancel=never,
        on_event=no_event,
        teacher=None,
    ):
        """Fine-tune with the recipe's budget, pruning at the schedule's steps, distilling from
        `teacher` (the dense baseline) when the recipe says so; returns (model, history)."""
        raise NotImplementedError

    def finish(self, model):
        """The plain Keras model to measure, save and export."""
        return model

    def measure(self, model) -> dict:
        """Engine-specific numbers about the finished model (`RunResult` field names)."""
        return {}

    # ---- shared by the engines
    # ---------------------------------------------------------------------
    def _record(self, event: PruningEvent) -> PruningEvent:
        self.events.append(event)
        return event

    @staticmethod
    def _trainer(model, dataset, training, masks=None, teacher=None):
        """(the fine-tune `Trainer` for the recipe's budget, its number of steps); `teacher`: the
        dense model the recipe distills from (`training.distill` > 0)."""
        steps = training.fine_tune_epochs * dataset.steps_per_epoch(training.batch_size)
        return Trainer(
            model,
            learning_rate=training.learning_rate,
            total_steps=max(steps, 1),
            augment=True,
            seed=training.seed,
            masks=masks,
            teacher=teacher,
            distill=training.distill,
            temperature=training.temperature,
        ), steps

    @staticmethod
    def _fit(trainer, dataset, training, **kwargs) -> list:
        """Run (part of) the recipe's fine-tuning on the training split; returns per-epoch
        history."""
        return trainer.fit(
            dataset.x_train,
            dataset.y_train,
            epochs=training.fine_tune_epochs,
            batch_size=training.batch_size,
            seed=training.seed,
            **kwargs,
        )
