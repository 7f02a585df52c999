"""One registry of importance scorers. Every criterion returns, for each target kernel, a
non-negative array of the kernel's shape: higher means more important (keep).

- magnitude: |w|
- gradient:  |∂L/∂w|, the mean over calibration batches of the batch-mean loss's gradient (the
  seed's)
- taylor:    |w · ∂L/∂w|, averaged over calibration batches (SNIP)
- fisher:    ½ · F_ii · w², with F_ii = mean over calibration examples of (∂ log p(y|x) / ∂w)²
             computed from per-example gradients (diagonal empirical Fisher; OBD saliency)
- wanda:     |w| · ‖x_in‖, the weight's magnitude times the L2 norm of the input channel it reads,
             over the calibration examples (and positions) — activation-aware magnitude (Sun et al.
             2023), one forward pass, no gradients
- random:    uniform noise; the baseline every criterion must beat

Scores are left in their natural units (no per-layer normalisation). The three gradient criteria
estimate the same loss in every layer, so their raw values rank across layers; global magnitude is
the classic global-magnitude baseline. Calibration runs the model in inference mode (BatchNorm uses
its moving statistics, dropout is off).

Structured pruning turns these weight scores into channel scores in `prune_core.engine.channels`
(the mean score of every weight attached to a channel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prune_core.engine import layers
from prune_core.engine.keras_env import keras, tf
from prune_core.engine.models import HEAD_NAME, outputs_logits
from prune_core.engine.tracing import open_batch
from prune_core.errors import SpecError


@dataclass(frozen=True)
class Target:
    """A kernel the pruner may zero: the layer that owns it and the variable itself."""

    layer: object
    variable: object

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def size(self) -> int:
        return int(np.prod(self.variable.shape))


def head_layer(model):
    """The layer whose output is the model's classifier output."""
    return (
        model.get_layer(HEAD_NAME)
        if any(layer.name == HEAD_NAME for layer in model.layers)
        else model.layers[-1]
    )


def find_targets(model, prune_head: bool = False, prune_depthwise: bool = False) -> list[Target]:
    """Conv2D and Dense kernels (depthwise and the classifier head only when asked). Biases and
    BatchNorm parameters are never targets."""
    head = head_layer(model)
    targets = []
    for layer in model.layers:
        kernel = layers.kernel_of(layer)
        if kernel is None:
            continue
        if layers.is_producer(layer):
            if layer is head and not prune_head:
                continue
        elif not prune_depthwise:  # a per-channel (depthwise) kernel
            continue
        targets.append(Target(layer, kernel))
    return targets


@dataclass(frozen=True)
class Calibration:
    """Examples the data-driven criteria look at (a slice of the training split)."""

    x: np.ndarray
    y: np.ndarray
    batch_size: int = 64

    def batches(self):
        for start in range(0, len(self.x), self.batch_size):
            yield (
                tf.convert_to_tensor(self.x[start : start + self.batch_size], tf.float32),
                tf.convert_to_tensor(self.y[start : start + self.batch_size], tf.int32),
            )


Scorer = Callable[[object, list, "Calibration | None", int], list]
REGISTRY: dict[str, Scorer] = {}
NEEDS_DATA: set[str] = set()


def register(name: str, needs_data: bool = False):
    def wrap(fn):
        REGISTRY[name] = fn
        if needs_data:
            NEEDS_DATA.add(name)
        return fn

    return wrap


def score(
    name: str, model, targets: list[Target], calibration: Calibration | None = None, seed: int = 0
):
    """Scores for every target under criterion `name` (list of numpy arrays, kernel-shaped), at
    the criterion's own precision: float32 for float32 weights (a float64 copy of every score is
    twice a large model's weights, and ranks them in the same order)."""
    if name not in REGISTRY:
        raise SpecError(f"unknown criterion {name!r}; choose one of {', '.join(REGISTRY)}")
    if name in NEEDS_DATA and calibration is None:
        raise SpecError(f"criterion {name!r} needs calibration data")
    scores = REGISTRY[name](model, targets, calibration, seed)
    return [_floating(s).reshape(t.variable.shape) for s, t in zip(scores, targets)]


def _floating(values) -> np.ndarray:
    values = np.asarray(values)
    return values.astype(np.result_type(values.dtype, np.float32), copy=False)


def _accumulate(total: list | None, parts) -> list:
    """`total` plus `parts`, layer by layer, in place (a whole model's second sum is not made)."""
    if total is None:  # owned and writable (a tensor's `.numpy()` may be a view of its buffer)
        return [p if p.flags.owndata and p.flags.writeable else p.copy() for p in parts]
    for kept, part in zip(total, parts, strict=True):
        kept += part
    return total


def _loss_fn(model, reduction):
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=outputs_logits(model), reduction=reduction
    )


# ---- the criteria -----------------------------------------------------------------------------
@register("magnitude")
def magnitude(model, targets, calibration, seed):
    return [np.abs(t.variable.numpy()) for t in targets]


@register("random")
def random(model, targets, calibration, seed):
    rng = np.random.default_rng(seed)
    return [rng.random(t.variable.shape) for t in targets]


def batch_gradients(model, targets, calibration):
    """Yield (gradients of the batch-mean loss w.r.t. each target) for each calibration batch."""
    loss_fn = _loss_fn(model, "sum_over_batch_size")
    variables = [t.variable for t in targets]

    @open_batch
    def grads(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=False))
        return tape.gradient(loss, variables)

    for x, y in calibration.batches():
        yield [g.numpy() for g in grads(x, y)]


@register("gradient", needs_data=True)
def gradient(model, targets, calibration, seed):
    total, count = None, 0
    for g in batch_gradients(model, targets, calibration):
        total = _accumulate(total, (np.abs(gi) for gi in g))
        count += 1
    return [np.divide(t, count, out=t) for t in total]


@register("taylor", needs_data=True)
def taylor(model, targets, calibration, seed):
    weights = [t.variable.numpy() for t in targets]
    total, count = None, 0
    for g in batch_gradients(model, targets, calibration):
        total = _accumulate(total, (np.abs(w * gi) for w, gi in zip(weights, g)))
        count += 1
    return [np.divide(t, count, out=t) for t in total]


def fisher_diagonal(model, variables, calibration) -> list[np.ndarray]:
    """Diagonal empirical Fisher E[(∂ log p(y|x)/∂θ)²] from per-example gradients (vectorised
    with a Jacobian of the per-example losses)."""
    loss_fn = _loss_fn(model, "none")

    @tf.function
    def squared_grads(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=False))  # = -log p(y|x)
        jac = tape.jacobian(per_example, variables, experimental_use_pfor=True)
        return [tf.reduce_sum(tf.square(j), axis=0) for j in jac]

    total, n = None, 0
    for x, y in calibration.batches():
        total = _accumulate(total, (s.numpy() for s in squared_grads(x, y)))
        n += int(x.shape[0])
    return [np.divide(t, n, out=t) for t in total]


@register("fisher", needs_data=True)
def fisher(model, targets, calibration, seed):
    diag = fisher_diagonal(model, [t.variable for t in targets], calibration)
    return [0.5 * f * np.square(t.variable.numpy()) for f, t in zip(diag, targets)]


def input_norms(model, targets, calibration) -> list[np.ndarray]:
    """Per target, the L2 norm of each input channel over the calibration examples and positions
    (one forward pass of a model that returns every target layer's input)."""
    probe = keras.Model(model.inputs, [t.layer.input for t in targets])
    run = tf.function(lambda x: probe(x, training=False))
    squares = None
    for x, _ in calibration.batches():
        outs = run(x)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        part = [
            tf.reduce_sum(tf.square(tf.reshape(o, (-1, o.shape[-1]))), axis=0).numpy() for o in outs
        ]
        squares = part if squares is None else [a + b for a, b in zip(squares, part)]
    return [np.sqrt(s) for s in squares]


@register("wanda", needs_data=True)
def wanda(model, targets, calibration, seed):
    out = []
    for t, norms in zip(targets, input_norms(model, targets, calibration)):
        w = np.abs(t.variable.numpy())
        # the input-channel axis: (kh, kw, cin, cout) for convolutions and (kh, kw, c, 1) for
        # depthwise
        # kernels, (in, out) for dense layers
        axis = w.ndim - 2
        shape = [1] * w.ndim
        shape[axis] = -1
        out.append(w * norms.reshape(shape))
    return out


def names() -> tuple:
    return tuple(REGISTRY)
