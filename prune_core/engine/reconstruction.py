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

Plain Conv2D (ungrouped) and Dense layers are refitted; other layers keep their weights. Each
layer's inputs are gathered a batch of images at a time, only at the sampled positions, so memory
grows with `MAX_ROWS` × the layer's inputs, not with the images or the feature maps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from prune_core.engine import layers
from prune_core.engine.keras_env import keras, tf
from prune_core.progress import Progress

#: Rows (image positions) each layer's least-squares problem samples, at most.
MAX_ROWS = 16_384
#: A layer with more inputs than this (a Flatten → Dense of a large feature map) keeps its weights:
#: its XᵀX alone would take k² × 8 bytes (8192: 512 MB).
MAX_INPUTS = 8192
#: Bytes of a layer's input one forward pass may produce while inputs are gathered (the images
#: per pass follow: all 256 calibration images at once on the compact model).
BATCH_BYTES = 256 * 2**20
#: Ridge term, as a share of the mean diagonal of XᵀX.
DAMPENING = 0.01


def refittable(layer) -> bool:
    """A plain convolution or dense layer: what this module refits."""
    if isinstance(layer, keras.layers.Dense):
        return True
    return type(layer) is keras.layers.Conv2D and getattr(layer, "groups", 1) == 1


def _inputs_count(layer) -> int:
    kernel = layers.kernel_of(layer)
    return int(np.prod(kernel.shape[:-1])) + bool(layer.use_bias)


def _positions(layer, input_shape: tuple) -> int:
    """Output positions per image: one row each of the least-squares problem."""
    if isinstance(layer, keras.layers.Dense):
        return int(np.prod(input_shape[1:-1], dtype=np.int64)) if len(input_shape) > 2 else 1
    return int(np.prod(layer.compute_output_shape(input_shape)[1:-1]))


def _patches_at(layer, inputs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The layer's input at output positions `rows` (indices into this batch's images × positions),
    one row each: the patch a convolution reads there, in its kernel's (kh, kw, cin) order, or a
    dense layer's last axis. Only the chosen patches are ever built."""
    if isinstance(layer, keras.layers.Dense):
        return inputs.reshape(-1, inputs.shape[-1])[rows]
    _, h, w, _ = inputs.shape
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.strides, layer.dilation_rate
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if layer.padding == "same":
        out_h, out_w = -(-h // sh), -(-w // sw)
        pad_h = max((out_h - 1) * sh + span_h - h, 0)
        pad_w = max((out_w - 1) * sw + span_w - w, 0)
        inputs = np.pad(
            inputs,
            ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
        )
    else:
        out_h, out_w = (h - span_h) // sh + 1, (w - span_w) // sw + 1
    image, at = np.divmod(rows, out_h * out_w)
    oy, ox = np.divmod(at, out_w)
    ys = (oy * sh)[:, None] + np.arange(kh) * dh  # (rows, kh)
    xs = (ox * sw)[:, None] + np.arange(kw) * dw  # (rows, kw)
    patches = inputs[image[:, None, None], ys[:, :, None], xs[:, None, :], :]
    return patches.reshape(len(rows), -1)


def _design(layer, x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return np.concatenate([x, np.ones((len(x), 1))], axis=1) if layer.use_bias else x


def _gather(model, name: str, layer, images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Layer `name`'s input in `model` at `rows` (over all images × positions), read a batch of
    images at a time: memory grows with the rows kept, not with the images or the feature maps."""
    reach = keras.Model(model.inputs, model.get_layer(name).input)
    shape = tuple(reach.output_shape[1:])
    per_image = _positions(layer, (None, *shape))
    step = max(1, BATCH_BYTES // (4 * int(np.prod(shape))))
    out = []
    for start in range(0, len(images), step):
        batch = np.asarray(reach(tf.constant(images[start : start + step], tf.float32)))
        first, last = start * per_image, (start + len(batch)) * per_image
        chosen = rows[(rows >= first) & (rows < last)] - first
        if chosen.size:
            out.append(_patches_at(layer, batch, chosen))
    return np.concatenate(out)


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
    has too (by name), up to `MAX_INPUTS` inputs. `masks`: layer name → 0/1 kernel-shaped mask of a
    masked kernel; `kept_out`: layer name → the dense output channels a reduced layer keeps (a
    channel cut). Returns the names refitted."""
    masks, kept_out = masks or {}, kept_out or {}
    names = [
        layer.name
        for layer in pruned.layers
        if refittable(layer)
        and layer.name in {d.name for d in dense.layers}
        and (layer.name in masks or layer.name in kept_out or _reduced(layer, dense))
        and _inputs_count(layer) <= MAX_INPUTS
    ]
    rng = np.random.default_rng(seed)
    for i, name in enumerate(names):
        layer, reference = pruned.get_layer(name), dense.get_layer(name)
        total = _positions(layer, (None, *layer.input_shape[1:])) * len(images)
        rows = np.sort(rng.choice(total, size=min(total, MAX_ROWS), replace=False))
        # inputs from the pruned model as refitted so far; the target is the dense layer's own
        # output before its activation, at the same positions
        inputs = _design(layer, _gather(pruned, name, layer, images, rows))
        weights = reference.get_weights()
        kernel = weights[0].reshape(-1, weights[0].shape[-1]).astype(np.float64)
        target = _design(reference, _gather(dense, name, reference, images, rows)) @ (
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
        solved = _solve(inputs, target, start, flat_mask)
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
