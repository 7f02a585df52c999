"""One training loop for dense baselines and masked fine-tuning.

A compiled step (forward, loss, optimizer step, then `w *= mask` for every pruned kernel) keeps
pruned weights exactly zero after every optimizer step — no leak between pruning events — at the
cost of one multiply per kernel. Progress and cancel are checked at step boundaries so a job runner
can show live state and stop a run cooperatively.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from prune_core.engine.datasets import Feed, epoch_orders
from prune_core.engine.keras_env import keras, tf
from prune_core.engine.models import outputs_logits
from prune_core.engine.tracing import open_batch
from prune_core.progress import CancelFn, Progress, ProgressFn, check_cancel, ignore, never


def augmenter(seed: int):
    """Small shifts, rotations and zooms: the digits baseline overfits 1,257 images without them."""
    layers = keras.layers
    return keras.Sequential(
        [
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
            layers.RandomRotation(0.04, fill_mode="constant", seed=seed + 1),
            layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 2),
        ],
        name="augment",
    )


def learning_rate_schedule(peak: float, total_steps: int, warmup_steps: int):
    """Linear warm-up to `peak`, then cosine decay to zero."""
    decay = max(total_steps - warmup_steps, 1)
    if warmup_steps:
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay, warmup_target=peak, warmup_steps=warmup_steps
        )
    return keras.optimizers.schedules.CosineDecay(peak, decay)


def _log_probabilities(model, out, temperature: float):
    """log softmax(logits / T) of a model's outputs, whether it ends in logits or in a softmax
    (whose log is the logits up to a constant per example, which the softmax cancels)."""
    logits = out if outputs_logits(model) else tf.math.log(tf.maximum(out, 1e-12))
    return tf.nn.log_softmax(tf.cast(logits, tf.float32) / temperature, axis=-1)


class Trainer:
    """Trains `model` in place on a dataset's training split.

    `masks` pairs a kernel variable with a same-shaped 0/1 `tf.Variable`; the step multiplies each
    kernel by its mask right after the optimizer update. `before_step(step)` runs in Python before
    optimizer step `step` (1, 2, …) (the pruning schedule hooks in there to recompute masks).
    With a `teacher` (the dense model) and `distill` > 0, the loss mixes the labels with the
    teacher's softened outputs on the same augmented images (`_loss`); the teacher is not trained.
    """

    def __init__(
        self,
        model,
        *,
        learning_rate: float,
        total_steps: int,
        warmup_steps: int = 0,
        augment: bool = True,
        seed: int = 0,
        masks: list | None = None,
        teacher=None,
        distill: float = 0.0,
        temperature: float = 4.0,
    ):
        self.model = model
        self.masks = list(masks or [])
        self.optimizer = keras.optimizers.Adam(
            learning_rate_schedule(learning_rate, total_steps, warmup_steps)
        )
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=outputs_logits(model))
        self.augment = augmenter(seed) if augment else None
        self.teacher = teacher if distill > 0 else None
        self.distill, self.temperature = float(distill), float(temperature)
        self._step = open_batch(self._train_step)  # a partial last batch is not traced again

    def _loss(self, y, out, teacher_out=None):
        """Cross-entropy with the labels, mixed with the teacher's softened outputs when
        distilling: (1 − α)·CE(y, s) + α·T²·KL(softmax(t/T) ‖ softmax(s/T)) (Hinton et al.,
        2015; T² keeps the soft term's gradients on the labels' scale)."""
        loss = self.loss_fn(y, out)
        if teacher_out is None:
            return loss
        t = self.temperature
        teacher = _log_probabilities(self.teacher, tf.stop_gradient(teacher_out), t)
        student = _log_probabilities(self.model, out, t)
        soft = tf.reduce_mean(tf.reduce_sum(tf.exp(teacher) * (teacher - student), axis=-1)) * (
            t * t
        )
        return (1.0 - self.distill) * loss + self.distill * soft

    def _train_step(self, x, y):
        x = tf.cast(x, tf.float32)
        if self.augment is not None:
            x = self.augment(x, training=True)
        # the teacher's forward pass stays off the tape: no gradient, no memory held for one
        teacher_out = None if self.teacher is None else self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            out = self.model(x, training=True)
            loss = self._loss(y, out, teacher_out)
            if self.model.losses:
                loss += tf.add_n(self.model.losses)
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        for variable, mask in self.masks:
            variable.assign(variable * mask)
        hits = tf.cast(
            tf.equal(tf.argmax(out, axis=-1, output_type=tf.int32), tf.cast(y, tf.int32)),
            tf.float32,
        )
        return loss, tf.reduce_mean(hits)

    def _create_variables(self) -> None:
        """Create the variables the step's first call would (the optimizer's slots, the
        augmentation's random state) before it is traced: TensorFlow traces a function that creates
        variables twice, and for a training step each trace is the model's forward and backward
        pass. The same variables, the same random streams, created once."""
        self.optimizer.build(self.model.trainable_variables)
        for layer in getattr(self.augment, "layers", []):
            generator = getattr(layer, "_random_generator", None)
            if hasattr(generator, "_maybe_init"):  # tf_keras's lazily made tf.random.Generator
                generator._maybe_init()

    def start_at(self, step: int) -> None:
        """Continue a learning-rate schedule from optimizer step `step` (for training in
        segments)."""
        self.optimizer.iterations.assign(step)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        batch_size: int,
        seed: int = 0,
        phase: str = "fine-tuning",
        on_progress: ProgressFn = ignore,
        should_cancel: CancelFn = never,
        before_step: Callable[[int], None] = lambda step: None,
        sparsity: Callable[[], float] = lambda: None,
        first_step: int = 1,
        last_step: int | None = None,
    ):
        """Run steps `first_step`…`last_step` (default: all) of an `epochs`-epoch run, in the same
        batch order as an uninterrupted run; returns per-epoch history (loss, accuracy, seconds,
        steps)."""
        steps_per_epoch = -(-len(x) // batch_size)
        total = epochs * steps_per_epoch
        last_step = total if last_step is None else min(last_step, total)
        self._create_variables()
        feed = Feed(x, y)
        orders = epoch_orders(len(x), seed)  # every epoch drawn, so a segment sees the same order
        history, step = [], 0
        for epoch in range(epochs):
            order = next(orders)
            if step + steps_per_epoch < first_step:
                step += steps_per_epoch
                continue
            skipped = max(0, first_step - 1 - step)  # this epoch's batches before the segment
            step += skipped
            start, losses, accs = time.perf_counter(), [], []
            for xb, yb in feed.batches(order, batch_size, first=skipped):
                step += 1
                if step > last_step:
                    break
                check_cancel(should_cancel)
                before_step(step)
                loss, acc = self._step(xb, yb)
                losses.append(float(loss))
                accs.append(float(acc))
                on_progress(
                    Progress(
                        phase,
                        epoch + 1,
                        epochs,
                        step,
                        total,
                        losses[-1],
                        float(np.mean(accs)),
                        sparsity(),
                    )
                )
            if losses:
                history.append(
                    {
                        "epoch": epoch + 1,
                        "loss": float(np.mean(losses)),
                        "accuracy": float(np.mean(accs)),
                        "seconds": time.perf_counter() - start,
                        "steps": len(losses),
                    }
                )
            if step >= last_step:
                break
        return history


def batchnorm_recalibrator(
    model,
    x: np.ndarray,
    *,
    batch_size: int = 32,
    batches: int = 30,
    seed: int = 0,
    momentum: float | None = None,
):
    """A zero-argument call that re-estimates `model`'s BatchNorm moving statistics on training
    images, with no weight update and no dropout (the same images every call; traced once).
    `momentum` (default: the layers' own) sets how fast the old statistics are forgotten: after n
    batches a fraction momentumⁿ of them is left."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return lambda: model
    # dropout and stochastic depth (EfficientNet's) would widen the statistics: off while traced
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(len(x), size=min(batch_size, len(x)), replace=False) for _ in range(batches)
    ]
    forward = tf.function(lambda b: model(b, training=True))

    def recalibrate():
        own = [layer.momentum for layer in norms]
        rates = [layer.rate for layer in drops]
        try:
            if momentum is not None:  # read when the forward pass is traced
                for layer in norms:
                    layer.momentum = momentum
            for layer in drops:
                layer.rate = 0.0
            for idx in chosen:
                forward(tf.constant(x[idx], tf.float32))
        finally:
            for layer, value in zip(norms, own):
                layer.momentum = value
            for layer, value in zip(drops, rates):
                layer.rate = value
        return model

    return recalibrate


def recalibrate_batchnorm(
    model, x: np.ndarray, *, batch_size: int = 32, batches: int = 30, seed: int = 0
):
    """Re-estimate BatchNorm moving statistics on training images, with no weight update. After
    channels are cut, the old statistics no longer describe the smaller network's activations."""
    return batchnorm_recalibrator(model, x, batch_size=batch_size, batches=batches, seed=seed)()


def merge_history(parts: list) -> list:
    """Join the per-epoch histories of consecutive segments (an epoch split by a segment boundary
    becomes one entry, weighted by steps)."""
    merged: dict = {}
    for entry in (e for part in parts for e in part):
        m = merged.setdefault(
            entry["epoch"],
            {"epoch": entry["epoch"], "loss": 0.0, "accuracy": 0.0, "seconds": 0.0, "steps": 0},
        )
        n = m["steps"] + entry["steps"]
        for key in ("loss", "accuracy"):
            m[key] = (m[key] * m["steps"] + entry[key] * entry["steps"]) / n
        m["seconds"] += entry["seconds"]
        m["steps"] = n
    return [merged[k] for k in sorted(merged)]
