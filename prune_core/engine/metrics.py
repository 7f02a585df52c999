"""Measured numbers about a (stripped) Keras model: accuracy, size, FLOPs, latency.

FLOPs count convolution and dense layers only, as 2 × multiply-accumulates; nonzero FLOPs scale
each layer by the fraction of its kernel that is nonzero (the theoretical cost on hardware that
skips zeros). File bytes are the saved `.h5`; gzip bytes are that file gzipped at level 9 — zeros
do not shrink the file, they make it compress.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np

from prune_core.engine import datasets, layers
from prune_core.engine.keras_env import tf
from prune_core.engine.models import outputs_logits
from prune_core.engine.tracing import open_batch
from prune_core.timing import Comparison, Timing, time_alternating, time_calls

#: Evaluation batches hold at most this many input values (32 MB as float32): 256 images at 32 px,
#: 55 at 224 px, so a large input's batch (and its activations) does not grow the peak memory.
EVAL_VALUES = 2**23


def eval_batch(x) -> int:
    """Images per evaluation batch for inputs shaped like `x`."""
    return int(max(1, min(256, EVAL_VALUES // int(np.prod(x.shape[1:])))))


def evaluator(model, x: np.ndarray, y: np.ndarray, batch_size: int | None = None):
    """A zero-argument call returning {top1, top5, loss} of `model` on (x, y) as its weights are
    now. Traced once: a profile evaluates the same model hundreds of times with different
    weights."""
    batch_size = batch_size or eval_batch(x)
    infer = open_batch(lambda b: model(tf.cast(b, tf.float32), training=False))
    from_logits = outputs_logits(model)
    if isinstance(x, np.ndarray):  # kept as given (uint8 stays uint8), cast a batch at a time
        held = [
            (tf.convert_to_tensor(x[s : s + batch_size]), y[s : s + batch_size])
            for s in range(0, len(x), batch_size)
        ]

        def stream():
            return held
    else:  # an image folder: decoded batch by batch on every call, never held

        def stream():
            return (
                (images, labels.numpy())
                for images, labels in datasets.batches(x, y, np.arange(len(x)), batch_size)
            )

    def evaluate() -> dict:
        top1 = top5 = 0
        loss = 0.0
        for images, labels in stream():
            out = infer(images).numpy().astype(np.float64)
            if from_logits:
                out = out - out.max(axis=1, keepdims=True)
                log_probs = out - np.log(np.exp(out).sum(axis=1, keepdims=True))
            else:
                log_probs = np.log(np.clip(out, 1e-12, 1.0))
            loss -= float(log_probs[np.arange(len(labels)), labels].sum())
            order = np.argsort(-out, axis=1)
            top1 += int((order[:, 0] == labels).sum())
            top5 += int((order[:, :5] == labels[:, None]).any(axis=1).sum())
        n = max(len(x), 1)
        return {"top1": top1 / n, "top5": top5 / n, "loss": loss / n}

    return evaluate


def predicted_classes(model, x, batch_size: int | None = None) -> np.ndarray:
    """The class each image is given, a batch at a time (a folder is decoded as it goes)."""
    batch_size = batch_size or eval_batch(x)
    infer = open_batch(lambda b: model(tf.cast(b, tf.float32), training=False))
    labels = np.zeros(len(x), np.int32)
    return np.concatenate(
        [
            np.argmax(infer(images).numpy(), axis=-1)
            for images, _ in datasets.batches(x, labels, np.arange(len(x)), batch_size)
        ]
    )


def accuracy(model, x: np.ndarray, y: np.ndarray, batch_size: int | None = None) -> dict:
    """Top-1 and top-5 accuracy (top-5 is 1.0 when there are five classes or fewer)."""
    measured = evaluator(model, x, y, batch_size)()
    return {"top1": measured["top1"], "top5": measured["top5"]}


def param_counts(model) -> dict:
    """Parameters, and those not zero; read one variable at a time (`get_weights()` copies the
    whole model at once)."""
    params = nonzero = 0
    for variable in model.weights:
        values = variable.numpy()
        params += values.size
        nonzero += np.count_nonzero(values)
    return {"params": int(params), "nonzero_params": int(nonzero)}


def layer_sparsity(targets) -> dict:
    """Fraction of zeros in each target kernel, by layer name."""
    return {t.name: float(1.0 - np.count_nonzero(t.variable.numpy()) / t.size) for t in targets}


def weight_sparsity(targets) -> float:
    """Zeros over all target kernels together: the number a target sparsity controls."""
    total = sum(t.size for t in targets)
    zeros = sum(t.size - np.count_nonzero(t.variable.numpy()) for t in targets)
    return float(zeros / total) if total else 0.0


def _layer_flops(layer) -> tuple[int, np.ndarray | None]:
    """(dense FLOPs, kernel) of the prunable kernel of a layer (conv, depthwise, dense, a separable
    conv's pointwise stage); (0, None) for a layer without one."""
    variable = layers.kernel_of(layer)
    if variable is None:
        return 0, None
    # kernel.size = kh·kw·cin/groups·cout (conv), kh·kw·c (depthwise), in·out (dense)
    kernel = variable.numpy()
    return 2 * layers.positions(layer) * kernel.size, kernel


def _stage_kernels(layer) -> list:
    """(FLOPs, kernel) of every multiply-accumulate stage: the prunable kernel, and a separable
    conv's depthwise stage before it."""
    f, kernel = _layer_flops(layer)
    stages = [(f, kernel)] if kernel is not None else []
    if kernel is not None and layers.type_of(layer).consumes == "separable":
        depthwise = layer.depthwise_kernel.numpy()
        stages.append((2 * layers.positions(layer) * depthwise.size, depthwise))
    return stages


def flops(model) -> dict:
    dense = nonzero = 0
    for layer in model.layers:
        for f, kernel in _stage_kernels(layer):
            if kernel.size:
                dense += f
                nonzero += f * np.count_nonzero(kernel) / kernel.size
    return {
        "flops": int(dense),
        "nonzero_flops": int(round(nonzero)),
        "theoretical_speedup": float(dense / nonzero) if nonzero else float("inf"),
    }


#: A gzip file's header and trailer around its deflate stream (no name, no extra field).
GZIP_FRAME_BYTES = 18
#: How much of a file or buffer is compressed at a time.
GZIP_CHUNK = 1 << 20


def gzip_bytes(source: bytes | Path) -> int:
    """The length `gzip.compress(data, 9, mtime=0)` would have, compressed a megabyte at a time
    and never kept: a large model's file is neither read whole nor copied (deflate's output does
    not depend on how its input is split)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    total = 0
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), GZIP_CHUNK):
            total += len(deflate.compress(view[start : start + GZIP_CHUNK]))
    else:
        with open(source, "rb") as f:
            while chunk := f.read(GZIP_CHUNK):
                total += len(deflate.compress(chunk))
    return total + len(deflate.flush()) + GZIP_FRAME_BYTES


def file_sizes(model, path: Path | None = None) -> dict:
    """Bytes of the saved .h5 file and of that file gzipped (level 9)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(path) if path is not None else Path(tmp) / "model.h5"
        with warnings.catch_warnings():
            # Keras calls .h5 "legacy"; it is what users gzip and ship
            warnings.simplefilter("ignore")
            model.save(str(target), include_optimizer=False)
        return {"file_bytes": target.stat().st_size, "gzip_bytes": gzip_bytes(target)}


def threads() -> int:
    configured = tf.config.threading.get_intra_op_parallelism_threads()
    return configured or os.cpu_count() or 1


def _forward(model, batch_size: int):
    """A zero-argument call running one compiled forward pass (never `predict`: its overhead
    dominates)."""
    shape = (batch_size,) + tuple(model.input_shape[1:])
    x = tf.constant(np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32))
    infer = tf.function(lambda b: model(b, training=False))
    return lambda: infer(x).numpy()


def latency(model, batch_size: int, warmup: int = 5, repeats: int = 30, rounds: int = 1) -> Timing:
    """Keras CPU latency of one forward pass."""
    return time_calls(_forward(model, batch_size), warmup=warmup, repeats=repeats, rounds=rounds)


#: (rounds, calls per round) for batch 1 and batch 32. An even number of rounds puts each model
#: first
#: in a round as often as second (the order is reversed every round).
ROUNDS = {1: (12, 10), 32: (6, 3)}


def latency_against(model, reference, batch_size: int, warmup: int = 5) -> Comparison:
    """`model` and `reference` (the dense baseline) timed in alternation at `batch_size`."""
    rounds, repeats = ROUNDS.get(batch_size, (6, 3))
    return time_alternating(
        _forward(model, batch_size),
        _forward(reference, batch_size),
        warmup=warmup,
        repeats=repeats,
        rounds=rounds,
    )


def latency_fields(timing: Timing, name: str) -> dict:
    """A latency as result fields: `name_p50` (median over rounds), `name_p90` (single calls),
    `name_lo` / `name_hi` (lowest and highest round median: how far the p50 moves)."""
    lo, hi = timing.band
    return {
        f"{name}_p50": timing.p50,
        f"{name}_p90": timing.p90,
        f"{name}_lo": lo,
        f"{name}_hi": hi,
    }


def measure(model, targets, dataset, *, reference=None) -> dict:
    """Everything the result table reports about one stripped model. With `reference` (the dense
    baseline), latency is timed in alternation with it and the speedup carries its band; the dense
    numbers measured alongside come back under `dense_*`."""
    acc = accuracy(model, dataset.x_test, dataset.y_test)
    out = {
        "top1": acc["top1"],
        "top5": acc["top5"],
        **param_counts(model),
        "weight_sparsity": weight_sparsity(targets),
        "layer_sparsity": layer_sparsity(targets),
        **flops(model),
        **file_sizes(model),
        "threads": threads(),
    }
    for batch in (1, 32):
        name = f"latency_ms_b{batch}"
        if reference is None:
            rounds, repeats = ROUNDS[batch]
            out.update(latency_fields(latency(model, batch, repeats=repeats, rounds=rounds), name))
            continue
        compared = latency_against(model, reference, batch)
        low, high = compared.speedup_band
        out.update(latency_fields(compared.candidate, name))
        out.update(
            {
                f"speedup_b{batch}": compared.speedup,
                f"speedup_b{batch}_lo": low,
                f"speedup_b{batch}_hi": high,
            }
        )
        out.update({f"dense_{k}": v for k, v in latency_fields(compared.reference, name).items()})
    out["throughput_ips"] = 32 * 1000.0 / out["latency_ms_b32_p50"]
    if reference is not None:
        out["dense_throughput_ips"] = 32 * 1000.0 / out["dense_latency_ms_b32_p50"]
        # against the dense model, not this one's own architecture: removed channels count too
        dense_flops = flops(reference)["flops"]
        nonzero = out["nonzero_flops"]
        out["theoretical_speedup"] = float(dense_flops / nonzero) if nonzero else float("inf")
    return out
