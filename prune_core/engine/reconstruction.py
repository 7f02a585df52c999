"""Reconstruction after a one-shot cut: refit each pruned layer's surviving weights so that its
outputs match the dense layer's on calibration images (`--reconstruct`).

A cut leaves the surviving weights as they were trained *with* the removed ones, so the pruned
model starts far from the dense one; BatchNorm re-estimation fixes the statistics, not the weights.
Layer by layer, in graph order (the Optimal Brain Compression / SparseGPT family, and AIMET's
channel-pruning reconstruction):

- X: the layer's input in the *pruned* model (so each refit also absorbs the error of the layers
  before it), unfolded into patches for a convolution, plus a column of ones for a bias;
- Y: the *dense* layer's output (before its activation) on the same images, restricted to the
  output channels the pruned layer keeps;
- W = argmin ‖X·W − Y‖² + λ‖W − W₀‖² over the surviving weights only, held near the weights W₀
  they start from (a layer whose input the cut left alone keeps its weights exactly): one solve
  for a layer whose kernel has no holes (a channel cut), one per output column over that column's
  surviving rows for a masked kernel (single weights, patterns), so every removed weight stays
  exactly zero. λ is 1 % of the mean diagonal of XᵀX (SparseGPT's dampening).

Plain Conv2D (ungrouped) and Dense layers are refitted; other layers keep their weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prune_core.engine import layers
from prune_core.engine.keras_env import keras, tf
from prune_core.progress import Progress

#: Rows (image positions) each layer's least-squares problem samples, at most.
MAX_ROWS = 16_384
#: Ridge term, as a share of the mean diagonal of XᵀX.
DAMPENING = 0.01


def refittable(layer) -> bool:
    """A plain convolution or dense layer: what this module refits."""
    if isinstance(layer, keras.layers.Dense):
        return True
    return type(layer) is keras.layers.Conv2D and getattr(layer, "groups", 1) == 1


def _rows(layer, inputs: np.ndarray) -> np.ndarray:
    """The layer's input as one row per output position: patches for a convolution (in the order
    of its kernel's (kh, kw, cin) axes), the last axis for a dense layer."""
    if isinstance(layer, keras.layers.Dense):
        return inputs.reshape(-1, inputs.shape[-1])
    kh, kw = layer.kernel_size
    patches = tf.image.extract_patches(
        tf.constant(inputs),
        sizes=[1, kh, kw, 1],
        strides=[1, *layer.strides, 1],
        rates=[1, *layer.dilation_rate, 1],
        padding=layer.padding.upper(),
    ).numpy()
    return patches.reshape(-1, patches.shape[-1])


def _design(layer, inputs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    x = _rows(layer, inputs)[rows].astype(np.float64)
    return np.concatenate([x, np.ones((len(x), 1))], axis=1) if layer.use_bias else x


def _solve(x: np.ndarray, y: np.ndarray, start: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Least squares held near the weights it starts from (`start`: a layer whose input did not
    change keeps exactly its weights), column by column over each column's surviving rows with a
    `mask` (rows × columns, the bias row always kept)."""
    gram = x.T @ x
    damp = DAMPENING * max(np.mean(np.diag(gram)), 1e-12)
    gram[np.diag_indices_from(gram)] += damp
    cross = x.T @ y + damp * start
    if mask is None:
        return np.linalg.solve(gram, cross)
    out = np.zeros_like(cross)
    for column in range(cross.shape[1]):
        keep = np.flatnonzero(mask[:, column])
        if keep.size:
            out[keep, column] = np.linalg.solve(gram[np.ix_(keep, keep)], cross[keep, column])
    return out


def _inputs_of(model, names: list):
    """A model from `model`'s input to the inputs of layers `names`."""
    return keras.Model(model.inputs, [model.get_layer(n).input for n in names])


def refit(
    dense,
    pruned,
    images: np.ndarray,
    *,
    masks: dict | None = None,
    kept_out: dict | None = None,
    seed: int = 0,
    on_layer: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Refit, in place, the surviving weights of every refittable layer of `pruned` that `dense`
    has too (by name). `masks`: layer name → 0/1 kernel-shaped mask of a masked kernel;
    `kept_out`: layer name → the dense output channels a reduced layer keeps (a channel cut).
    Returns the names refitted."""
    masks, kept_out = masks or {}, kept_out or {}
    names = [
        layer.name
        for layer in pruned.layers
        if refittable(layer)
        and layer.name in {d.name for d in dense.layers}
        and (layer.name in masks or layer.name in kept_out or _reduced(layer, dense))
    ]
    if not names:
        return []
    x = tf.constant(images, tf.float32)
    dense_inputs = _inputs_of(dense, names)(x, training=False)
    dense_inputs = dict(zip(names, [np.asarray(a) for a in _as_list(dense_inputs)]))
    pruned_inputs_of = _inputs_of(pruned, names)
    rng = np.random.default_rng(seed)
    for i, name in enumerate(names):
        layer, reference = pruned.get_layer(name), dense.get_layer(name)
        inputs = np.asarray(_as_list(pruned_inputs_of(x, training=False))[i])
        total = len(_rows(layer, inputs[:1])) * len(inputs)
        rows = np.sort(rng.choice(total, size=min(total, MAX_ROWS), replace=False))
        # the dense layer's own output before its activation, at the same positions
        weights = reference.get_weights()
        kernel = weights[0].reshape(-1, weights[0].shape[-1]).astype(np.float64)
        target = _design(reference, dense_inputs.pop(name), rows) @ (
            np.vstack([kernel, weights[1][None, :]]) if reference.use_bias else kernel
        )
        if name in kept_out:
            target = target[:, np.asarray(kept_out[name])]
        own = layer.get_weights()
        mask = masks.get(name)
        flat_mask = None
        if mask is not None:
            flat_mask = np.asarray(mask).reshape(-1, own[0].shape[-1]) != 0
            if layer.use_bias:
                flat_mask = np.vstack([flat_mask, np.ones((1, flat_mask.shape[1]), bool)])
        start = own[0].reshape(-1, own[0].shape[-1]).astype(np.float64)
        if layer.use_bias:
            start = np.vstack([start, own[1][None, :]])
        solved = _solve(_design(layer, inputs, rows), target, start, flat_mask)
        own[0] = solved[: own[0].size // own[0].shape[-1]].reshape(own[0].shape).astype(np.float32)
        if layer.use_bias:
            own[1] = solved[-1].astype(np.float32)
        layer.set_weights(own)
        if on_layer is not None:
            on_layer(i + 1, len(names))
    return names


def _reduced(layer, dense) -> bool:
    """Whether a layer lost input or output channels against its dense namesake."""
    return tuple(layers.kernel_of(layer).shape) != tuple(
        layers.kernel_of(dense.get_layer(layer.name)).shape
    )


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


class Refit:
    """A run's reconstruction: its calibration images and seed bound, progress reported as the
    "reconstructing" phase; the pruners call it after a one-shot cut, before BatchNorm
    re-estimation."""

    def __init__(self, images: np.ndarray, seed: int = 0, on_progress=None):
        self.images, self.seed = images, seed
        self.on_progress = on_progress or (lambda p: None)

    def __call__(self, dense, pruned, *, masks=None, kept_out=None) -> list[str]:
        def tick(done, total):
            self.on_progress(
                Progress(
                    "reconstructing",
                    step=done,
                    steps=total,
                    message=f"refitting layer {done}/{total} to the dense model's outputs",
                )
            )

        return refit(
            dense,
            pruned,
            self.images,
            masks=masks,
            kept_out=kept_out,
            seed=self.seed,
            on_layer=tick,
        )
