"""A combined recipe: whole channels cut, then single weights (or a pattern) of what remains."""

from __future__ import annotations

from prune_core.engine.pruners.base import Pruner
from prune_core.engine.pruners.channel import ChannelPruner
from prune_core.engine.pruners.masked import MaskedPruner


class CombinedPruner(Pruner):
    """A combined recipe: whole channels cut (a smaller dense model), then single weights — or an
    N:M or block pattern — of what remains, both before fine-tuning; fine-tuning holds the weight
    masks. `stages` keeps the model after each cut, so the pipeline can report every stage's
    numbers."""

    def __init__(self, channels: ChannelPruner, weights: MaskedPruner, then: float):
        super().__init__()
        self.channels, self.weights, self.then = channels, weights, then
        self.unit = channels.unit
        self.stages: list = []  # (name, model) after each cut

    def kernels(self, model) -> list:
        return self.channels.kernels(model)

    def start(self, baseline):
        return baseline

    def prune(self, model, amount=None, step=0, *, threshold=None):
        smaller, cut = self.channels.prune(model, amount, step, threshold=threshold)
        self._record(cut)
        self.stages = [("channels cut", smaller)]
        masked, event = self.weights.prune(self.weights.start(smaller), self.then, step)
        self.score_distribution = self.channels.score_distribution
        pattern = self.weights.pattern
        self.stages.append(
            ("weights pruned" + ("" if pattern.kind == "unstructured" else f" {pattern}"), masked)
        )
        # the run's unit is the structured budget: the channel cut's event says it
        return masked, cut

    def fine_tune(self, model, dataset, schedule, training, **kwargs):
        return self.weights.fine_tune(model, dataset, schedule, training, **kwargs)

    def measure(self, model) -> dict:
        return {**self.channels.measure(model), **self.weights.measure(model)}
