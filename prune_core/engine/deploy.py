"""TFLite export and the LiteRT interpreter: what a phone or an IoT board would run.

The converter is TensorFlow's `tf.lite.TFLiteConverter`; the interpreter is `ai_edge_litert`
(the supported successor of the deprecated `tf.lite.Interpreter`), whose default CPU path uses
XNNPACK. Latency is measured like the Keras one: warm-up, repeats, p50/p90.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from prune_core.engine import layers, metrics, quantization
from prune_core.engine.keras_env import keras, native_convolutions, release, tf
from prune_core.errors import SpecError
from prune_core.results.deployment import FORMAT, Deployment
from prune_core.timing import MIN_ROUND_MS, REPEATS, ROUNDS, Timing, time_alternating, time_calls

KINDS = ("float", "sparse", "int8")
#: An int8 export losing more top-1 than this against float32 gets a quantization-aware fine-tune
#: (issue #28's goal: every int8 model within 1 pp of its own float top-1).
QAT_MARGIN = 0.01
#: Raised when what an export measures changes (2: zeros kept, the quantization-aware int8;
#: 3: its pass-through layers quantize their outputs; 4: it trains with BatchNorm held).
EXPORT_VERSION = 4


def converter_for(model):
    """TensorFlow's converter for the model's inference call, traced once. The converter writes a
    SavedModel and loads it back; given the Keras model itself (`from_keras_model`) it traces a
    call of every layer and loads them all into the process for good: each export grew the
    memory, and a deep model took minutes. Here the SavedModel holds the variables and one
    function; the flatbuffer is the same (docs/benchmarks/converter.md measures both ways)."""
    spec = tf.TensorSpec(
        (None, *model.input_shape[1:]),
        model.inputs[0].dtype,
        name=re.sub(r"[^A-Za-z0-9_.-]", "_", model.input_names[0]),
    )
    carrier = tf.Module()
    carrier.weights = list(model.variables)  # what the SavedModel stores
    with native_convolutions():  # the graph as Keras writes it (keras_env)
        call = tf.function(
            lambda x: model(x, training=False), input_signature=[spec]
        ).get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([call], carrier)


def to_tflite(model, kind: str = "float", representative: np.ndarray | None = None) -> bytes:
    """Convert a plain Keras model: float32, float32 with sparse weight storage, or int8
    post-training quantization (needs a representative set of training images)."""
    return convert(converter_for(model), kind, representative)


def convert(converter, kind: str = "float", representative: np.ndarray | None = None) -> bytes:
    """Run a TFLite converter set for `kind` (`to_tflite`)."""
    if kind not in KINDS:
        raise SpecError(f"unknown TFLite kind {kind!r}; choose one of {', '.join(KINDS)}")
    # the conversion metadata would be added by unpacking the whole flatbuffer into Python
    # objects and packing it again: several copies of every weight, for a few bytes of metadata
    converter.exclude_conversion_metadata = True
    if kind == "sparse":
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    elif kind == "int8":
        if representative is None or len(representative) == 0:
            raise SpecError("int8 quantization needs representative images from the training split")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        samples = np.asarray(representative, np.float32)

        def examples():
            for i in range(len(samples)):
                yield [samples[i : i + 1]]

        converter.representative_dataset = examples
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # "statistics for quantized inputs": our inputs stay float32
        warnings.simplefilter("ignore")
        cwd = os.getcwd()
        try:
            os.chdir(tmp)  # the converter writes scratch files to the working directory
            with native_convolutions():
                return converter.convert()
        finally:
            os.chdir(cwd)
            del converter
            release()  # the SavedModel the converter loaded back


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
        x = np.clip(
            np.round(x / scale + zero), np.iinfo(detail["dtype"]).min, np.iinfo(detail["dtype"]).max
        )
    interp.set_tensor(detail["index"], x.astype(detail["dtype"]))


def _invoker(content: bytes, input_shape: tuple, threads: int | None, batch: int = 1):
    """A zero-argument call running one LiteRT invocation on a fixed random input."""
    interp = interpreter(content, threads, batch)
    _feed(
        interp,
        np.random.default_rng(0).uniform(0, 255, (batch,) + tuple(input_shape)).astype(np.float32),
    )
    return interp.invoke


def latency(
    content: bytes,
    input_shape: tuple,
    batch: int = 1,
    threads: int | None = None,
    warmup: int = 5,
    repeats: int = 30,
    rounds: int = 1,
    min_round_ms: float = 0.0,
) -> Timing:
    """LiteRT (XNNPACK) latency of one invocation at `batch`, in ms."""
    return time_calls(
        _invoker(content, input_shape, threads, batch),
        warmup=warmup,
        repeats=repeats,
        rounds=rounds,
        min_round_ms=min_round_ms,
    )


def predict(content: bytes, x: np.ndarray, batch: int = 32) -> np.ndarray:
    """Class predictions of a TFLite model (dequantizing int8 outputs)."""
    interp = interpreter(content, batch=batch)
    out_detail = interp.get_output_details()[0]
    preds = []
    for start in range(0, len(x), batch):
        chunk = np.asarray(x[start : start + batch], np.float32)
        if len(chunk) < batch:
            interp = interpreter(content, batch=len(chunk))
            out_detail = interp.get_output_details()[0]
        _feed(interp, chunk)
        interp.invoke()
        preds.append(np.argmax(interp.get_tensor(out_detail["index"]), axis=-1))
    return np.concatenate(preds)


def model_digest(model) -> str:
    """Identifies a model by architecture and weights (exports are cached under it)."""
    h = hashlib.sha256(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()[:20]


def _sizes(content: bytes | Path) -> dict:
    size = content.stat().st_size if isinstance(content, Path) else len(content)
    return {"bytes": size, "gzip_bytes": metrics.gzip_bytes(content)}


def _quantization_aware_int8(
    model, dataset, calibration, batch_size, seed, on_progress, should_cancel
):
    """The prune-preserving quantization-aware int8 file, or None (said through `on_progress`)
    where tfmot cannot wrap a layer of this model."""
    try:
        qat = quantization.quantization_aware(model)
    except Exception as exc:  # noqa: BLE001 - tfmot and Keras raise anything while wrapping
        on_progress(f"no quantization-aware int8 for this model: {str(exc)[:200]}")
        return None
    quantization.fine_tune(
        qat,
        dataset,
        batch_size=batch_size,
        seed=seed,
        on_progress=lambda p: on_progress(
            f"quantization-aware fine-tuning, step {p.step}/{p.steps}"
        ),
        should_cancel=should_cancel,
    )
    on_progress("converting to TFLite (int8, quantization-aware)")
    return to_tflite(qat, "int8", calibration)  # the learned ranges; the rest calibrated


def reference_float(reference, root: Path) -> bytes:
    """The dense reference's float32 TFLite (converted once, kept beside its own exports)."""
    path = Path(root) / "exports" / model_digest(reference) / FORMAT["float"].filename
    if path.exists():
        return path.read_bytes()
    content = to_tflite(reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    tmp.write_bytes(content)
    tmp.replace(path)
    return content


def export_all(
    model,
    dataset,
    root: Path,
    *,
    representative: int = 100,
    seed: int = 0,
    reference=None,
    on_progress=lambda message: None,
    repeats: int = REPEATS,
    rounds: int = ROUNDS,
    batch_size: int | None = None,
    should_cancel=lambda: False,
) -> Deployment:
    """Export a stripped model in every deployable format and measure each: bytes, gzip bytes, top-1
    on the test split (int8 measured, never assumed), LiteRT latency at 1 thread and at all threads,
    each with the band of its median over rounds. With `reference` (the dense baseline), the
    1-thread latency of every format is timed in alternation with the dense float32 model, so the
    speedup a phone would see carries its own band. With a fine-tune `batch_size`, an int8 export
    that lost more than `QAT_MARGIN` of the float32 top-1 is followed by a quantization-aware
    fine-tune that keeps the zeros (`quantization`), exported and measured as its own format. Each
    int8 file says how many of the model's zero weights it kept. Results are cached by model digest
    (and the reference's) under `root/exports/`."""
    name = model_digest(model) + (f"-vs-{model_digest(reference)}" if reference is not None else "")
    # what else changes the files: the calibration draw, and whether and how QAT may run
    how = [EXPORT_VERSION, representative, seed, batch_size]
    if batch_size is not None:
        how += [QAT_MARGIN, quantization.QAT_EPOCHS, quantization.QAT_LEARNING_RATE]
    name += "-" + hashlib.sha256(json.dumps(how).encode()).hexdigest()[:8]
    folder = Path(root) / "exports" / name
    cached = folder / "metrics.json"
    if cached.exists():
        return Deployment.from_dict(json.loads(cached.read_text()))
    dense = reference_float(reference, root) if reference is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    formats: dict = {}
    for key in ("keras", "h5"):
        path = folder / FORMAT[key].filename
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(str(path)) if key == "keras" else model.save(
                str(path), include_optimizer=False
            )
        formats[key] = _sizes(path)
    keras_classes = metrics.predicted_classes(model, dataset.x_test)
    rng = np.random.default_rng(seed)
    calibration = dataset.x_train[rng.permutation(len(dataset.x_train))[:representative]]
    shape = tuple(model.input_shape[1:])
    all_threads = os.cpu_count() or 1

    def measure(kind: str, content: bytes) -> dict:
        (folder / FORMAT[kind].filename).write_bytes(content)
        classes = predict(content, dataset.x_test)
        measured = {
            **_sizes(content),
            "top1": float((classes == dataset.y_test).mean()),
            "agreement": float((classes == keras_classes).mean()),
        }
        if FORMAT[kind].quantized:
            kept = zeros_kept(model, content)
            if kept is not None:
                measured["zeros_kept"] = kept
        on_progress(f"timing LiteRT ({kind})")
        for threads, tag in ((1, "ms_1t_b1"), (all_threads, "ms_b1")):
            if threads == 1 and dense is not None:
                compared = time_alternating(
                    _invoker(content, shape, 1),
                    _invoker(dense, shape, 1),
                    repeats=repeats,
                    rounds=rounds,
                )
                timing = compared.candidate
                measured["speedup_1t"] = compared.speedup
                measured["speedup_1t_lo"], measured["speedup_1t_hi"] = compared.speedup_band
            else:
                timing = latency(
                    content,
                    shape,
                    1,
                    threads=threads,
                    repeats=repeats,
                    rounds=rounds,
                    min_round_ms=MIN_ROUND_MS,
                )
            measured[f"{tag}_p50"], measured[f"{tag}_p90"] = timing.p50, timing.p90
            measured[f"{tag}_lo"], measured[f"{tag}_hi"] = timing.band
        return measured

    for kind in KINDS:
        on_progress(f"converting to TFLite ({kind})")
        formats[kind] = measure(
            kind, to_tflite(model, kind, calibration if kind == "int8" else None)
        )
    lost = formats["float"]["top1"] - formats["int8"]["top1"]
    if batch_size is not None and lost > QAT_MARGIN:
        on_progress(
            f"int8 lost {lost:.1%} of top-1: quantization-aware fine-tuning that keeps the zeros"
        )
        content = _quantization_aware_int8(
            model, dataset, calibration, batch_size, seed, on_progress, should_cancel
        )
        if content is not None:
            formats["int8_qat"] = measure("int8_qat", content)
    deployment = Deployment(formats, litert_threads=all_threads, export_dir=str(folder))
    tmp = folder / ".metrics.json.tmp"
    tmp.write_text(json.dumps(deployment.to_dict()))
    tmp.replace(cached)
    return deployment


#: TFLite ops whose second input is a kernel (conv, depthwise, dense).
_KERNEL_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def _tflite_weights(content: bytes) -> dict:
    """The kernels of a TFLite file's conv, depthwise and dense ops, by tensor name (copies: no
    array outlives the interpreter's memory)."""
    interp = interpreter(content)
    details = {d["index"]: d for d in interp.get_tensor_details()}
    out = {}
    for op in interp._get_ops_details():
        if op["op_name"] not in _KERNEL_OPS or len(op["inputs"]) < 2:
            continue
        detail = details.get(int(op["inputs"][1]))
        if detail is None or len(detail["shape"]) < 2:
            continue
        out[detail["name"]] = np.array(interp.get_tensor(detail["index"]), copy=True)
    return out


def _as_tflite(kernel: np.ndarray, layer) -> list:
    """The shapes a Keras kernel takes in a TFLite file: conv (O, H, W, I), depthwise
    (1, H, W, C·m), dense (out, in)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [kernel.reshape(1, *kernel.shape[:2], -1)]
    if kernel.ndim == 4:
        return [np.transpose(kernel, (3, 0, 1, 2))]
    return [kernel.T]


def zeros_kept(model, content: bytes) -> float | None:
    """The share of `model`'s zero kernel weights (Conv2D / Dense) that are zero in the TFLite file
    too (1.0: every mask survived); None when the model has no zero weight or no kernel is found
    in the file by its layer name and shape."""
    weights = _tflite_weights(content)
    kept = total = 0
    for layer in model.layers:
        kernel = layers.kernel_of(layer)
        if kernel is None:
            continue
        values = kernel.numpy()
        zero = values == 0
        if not zero.any():
            continue
        for name, tensor in weights.items():
            shaped = _as_tflite(zero, layer)[0]
            if layer.name in name.split("/") or f"quant_{layer.name}" in name.split("/"):
                if tensor.shape == shaped.shape:
                    total += int(shaped.sum())
                    kept += int((tensor[shaped] == 0).sum())
                    break
    return kept / total if total else None
