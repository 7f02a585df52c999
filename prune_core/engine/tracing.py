"""Graphs traced once for batches of any size.

`tf.function` traces a new graph for every new input shape, so the last, partial batch of an epoch
or of an evaluation traced the whole model again: for a training step its forward and backward
pass (ResNet50 at 32 px: 26 s, beside 3 s for the step itself). `open_batch` traces on the first
call with the batch dimension left open, and every later batch size runs that one graph
(with `Trainer._create_variables`, a one-epoch fine-tune 2–2.75× faster on stock applications:
docs/benchmarks/tracing.md)."""

from __future__ import annotations

from prune_core.engine.keras_env import tf


class OpenBatch:
    """A `tf.function` of tensors whose first (batch) dimension may change between calls; each
    argument keeps the dtype and the other dimensions of the first call's."""

    def __init__(self, fn):
        self.fn, self.traced = fn, None

    def __call__(self, *args):
        if self.traced is None:
            specs = [
                tf.TensorSpec((None, *tuple(arg.shape)[1:]), tf.as_dtype(arg.dtype)) for arg in args
            ]
            self.traced = tf.function(self.fn, input_signature=specs)
        return self.traced(*args)

    def tracing_count(self) -> int:
        """How many graphs were traced (1 after any number of calls, 0 before the first)."""
        return 0 if self.traced is None else self.traced.experimental_get_tracing_count()


def open_batch(fn) -> OpenBatch:
    """`fn` traced once for every batch size (used as `tf.function` is, or as a decorator)."""
    return OpenBatch(fn)
