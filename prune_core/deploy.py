"""TFLite export and the LiteRT interpreter: what a phone or an IoT board would run.

The converter is TensorFlow's `tf.lite.TFLiteConverter`; the interpreter is `ai_edge_litert`
(the supported successor of the deprecated `tf.lite.Interpreter`), whose default CPU path uses
XNNPACK. Latency is measured like the Keras one: warm-up, repeats, p50/p90.
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from prune_core.errors import SpecError
from prune_core.keras_env import tf

KINDS = ("float", "sparse", "int8")


def to_tflite(model, kind: str = "float", representative: np.ndarray | None = None) -> bytes:
    """Convert a plain Keras model: float32, float32 with sparse weight storage, or int8
    post-training quantization (needs a representative set of training images)."""
    if kind not in KINDS:
        raise SpecError(f"unknown TFLite kind {kind!r}; choose one of {', '.join(KINDS)}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "sparse":
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    elif kind == "int8":
        if representative is None or len(representative) == 0:
            raise SpecError("int8 quantization needs representative images from the training split")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        samples = np.asarray(representative, np.float32)

        def examples():
            for i in range(len(samples)):
                yield [samples[i:i + 1]]

        converter.representative_dataset = examples
    with tempfile.TemporaryDirectory() as tmp:  # the converter writes scratch files to the cwd's tmp
        cwd = os.getcwd()
        try:
            os.chdir(tmp)
            return converter.convert()
        finally:
            os.chdir(cwd)


def interpreter(content: bytes, threads: int | None = None, batch: int = 1):
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=content, num_threads=threads)
    detail = interp.get_input_details()[0]
    if batch != detail["shape"][0]:
        interp.resize_tensor_input(detail["index"], [batch] + list(detail["shape"][1:]))
    interp.allocate_tensors()
    return interp


def _feed(interp, x: np.ndarray):
    detail = interp.get_input_details()[0]
    if detail["dtype"] != np.float32:  # quantized input
        scale, zero = detail["quantization"]
        x = np.clip(np.round(x / scale + zero), np.iinfo(detail["dtype"]).min, np.iinfo(detail["dtype"]).max)
    interp.set_tensor(detail["index"], x.astype(detail["dtype"]))


def latency(content: bytes, input_shape: tuple, batch: int = 1, threads: int | None = None,
            warmup: int = 5, repeats: int = 30) -> dict:
    """LiteRT (XNNPACK) latency of one invocation at `batch`, in ms."""
    interp = interpreter(content, threads, batch)
    x = np.random.default_rng(0).uniform(0, 255, (batch,) + tuple(input_shape)).astype(np.float32)
    _feed(interp, x)
    for _ in range(warmup):
        interp.invoke()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        interp.invoke()
        times.append((time.perf_counter() - start) * 1000.0)
    return {"p50": float(np.percentile(times, 50)), "p90": float(np.percentile(times, 90))}


def predict(content: bytes, x: np.ndarray, batch: int = 32) -> np.ndarray:
    """Class predictions of a TFLite model (dequantizing int8 outputs)."""
    interp = interpreter(content, batch=batch)
    out_detail = interp.get_output_details()[0]
    preds = []
    for start in range(0, len(x), batch):
        chunk = np.asarray(x[start:start + batch], np.float32)
        if len(chunk) < batch:
            interp = interpreter(content, batch=len(chunk))
            out_detail = interp.get_output_details()[0]
        _feed(interp, chunk)
        interp.invoke()
        preds.append(np.argmax(interp.get_tensor(out_detail["index"]), axis=-1))
    return np.concatenate(preds)
