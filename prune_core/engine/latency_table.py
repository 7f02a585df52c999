"""A per-layer LiteRT latency lookup table (NetAdapt-style) for latency-aware structured pruning.

FLOPs are a poor proxy for phone latency: on XNNPACK a 1×1 convolution runs its FLOPs several times
faster than a depthwise convolution or a swish over the same channels (measured on
EfficientNetB0@224: ~9 µs per MFLOP for the residual-stage channels, 20–26 µs for the early expanded
channels). So each layer is converted on its own to TFLite and timed in the LiteRT interpreter,
twice: at its real width and with its prunable channel dimensions halved. That gives a fixed part
(per-op overhead, which dominates tiny models) and a part that scales with the channels kept. Every
one-layer model also pays the interpreter's invoke overhead (~0.5 µs here, a third of the summed
layer times of a 32×32 model), so it is measured once, subtracted per layer and counted once. The
sum over layers predicts the whole model (B0@224: 11.6 ms predicted, 11.7 ms measured). BatchNorm
(folded into the preceding convolution by the converter), Dropout, Reshape and Flatten cost nothing.

Tables depend only on the architecture (not the weights), so they are cached by a digest of the
model's JSON, the thread count and the interpreter's version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from prune_core import paths
from prune_core.engine import deploy, layers, structure
from prune_core.engine.keras_env import keras
from prune_core.errors import ModelError
from prune_core.timing import time_calls

#: Bumped when the way tables are measured changes (old cached tables are then re-measured).
METHOD = 2
#: The table's entry for the interpreter's per-invocation overhead (not a layer).
INVOKE = "__invoke__"


@dataclass(frozen=True)
class LayerTime:
    """LiteRT ms of one layer: `fixed_ms + scaled_ms × (in kept / in_ref) × (out kept / out_ref)`,
    where a reference of 0 means that dimension is not prunable (its factor is 1). Channel-wise
    layers (depthwise, activations, padding, pooling, Add, Multiply) scale with their channels as
    `out`."""

    fixed_ms: float
    scaled_ms: float
    in_ref: int = 0
    out_ref: int = 0

    def at(self, kept_in: float, kept_out: float) -> float:
        share = (kept_in / self.in_ref if self.in_ref else 1.0) * (
            kept_out / self.out_ref if self.out_ref else 1.0
        )
        return self.fixed_ms + self.scaled_ms * share


def _single_layer(layer, in_share: float = 1.0, out_share: float = 1.0):
    """A one-layer model with `layer`'s configuration, its input / output channels scaled by a share
    (a flattened Dense input scales with the channels it flattens)."""
    config = layer.get_config()
    shapes = layer.input_shape if isinstance(layer.input_shape, list) else [layer.input_shape]
    step = getattr(layer, "groups", 1)  # a grouped conv keeps whole groups

    def scaled(n):
        return max(step, int(n * in_share) // step * step) if in_share != 1.0 else n

    shapes = [s[1:-1] + (scaled(s[-1]),) for s in shapes]
    if out_share != 1.0:
        key = layers.type_of(layer).width
        config[key] = max(step, int(config[key] * out_share) // step * step)
    inputs = [keras.Input(shape=s, batch_size=1) for s in shapes]
    clone = type(layer).from_config(config)
    return keras.Model(inputs, clone(inputs if len(inputs) > 1 else inputs[0]))


def _time(model, threads: int | None, repeats: int) -> float:
    try:
        interp = deploy.interpreter(deploy.to_tflite(model), threads)
    except Exception as exc:  # a layer the converter or LiteRT cannot run alone
        raise ModelError(f"cannot time layer {model.layers[-1].name} in LiteRT: {exc}") from None
    rng = np.random.default_rng(0)
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], rng.uniform(-1, 1, detail["shape"]).astype(np.float32))
    return time_calls(interp.invoke, warmup=5, repeats=repeats).p50


def measure(
    model, groups, *, threads: int = 1, repeats: int = 30, on_progress=lambda done, total: None
) -> dict[str, LayerTime]:
    """layer name → LayerTime for every layer of `model` that costs time in LiteRT, plus
    `INVOKE`."""
    roles = structure.layer_roles([g for g in groups if g.prunable])
    timed = [
        layer
        for layer in model.layers
        if not (layers.type_of(layer) and layers.type_of(layer).free)
    ]
    shared = [layer.name for layer in timed if len(layer.inbound_nodes) != 1]
    if shared:
        raise ModelError(f"cannot time layers called more than once in LiteRT: {', '.join(shared)}")
    # Each one-layer model pays the interpreter's invoke overhead once; the whole model pays it once
    # too. Subtract it per layer and count it once (it is most of a 32×32 model's per-op time).
    trivial = keras.Sequential([keras.Input((1,), batch_size=1), keras.layers.Activation("relu")])
    overhead = min(_time(trivial, threads, repeats) for _ in range(3))
    table, seen = {INVOKE: LayerTime(overhead, 0.0)}, {}
    for i, layer in enumerate(timed):
        role = roles.get(layer.name, {})
        in_g, out_g = role["in"][0] if "in" in role else None, role.get("out")
        if layers.is_producer(layer):
            in_share, out_share = (0.5 if in_g else 1.0), (0.5 if out_g else 1.0)
        else:  # channel-wise: narrowing the input narrows the output
            in_g, in_share, out_share = None, (0.5 if out_g else 1.0), 1.0
        share = in_share * out_share
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        key = json.dumps(
            [type(layer).__name__, config, str(layer.input_shape), in_share, out_share],
            sort_keys=True,
            default=str,
        )
        if key not in seen:
            full = max(0.0, _time(_single_layer(layer), threads, repeats) - overhead)
            scaled = 0.0
            if share < 1.0:
                half = max(
                    0.0,
                    _time(_single_layer(layer, in_share, out_share), threads, repeats) - overhead,
                )
                scaled = min(full, max(0.0, (full - half) / (1.0 - share)))
            seen[key] = (full, scaled)
        full, scaled = seen[key]
        table[layer.name] = LayerTime(
            full - scaled,
            scaled,
            in_ref=in_g.size if in_g else 0,
            out_ref=out_g.size if out_g else 0,
        )
        on_progress(i + 1, len(timed))
    return table


def digest(model, threads: int) -> str:
    """Architecture fingerprint: the model's JSON (not its weights), threads and LiteRT's
    version."""
    from importlib.metadata import version

    text = f"{model.to_json()}|threads={threads}|litert={version('ai-edge-litert')}|method={METHOD}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_or_measure(
    model,
    groups,
    root: Path | None = None,
    *,
    threads: int = 1,
    on_progress=lambda done, total: None,
) -> dict[str, LayerTime]:
    """The cached table of this architecture, measured (and stored) on first use."""
    folder = (root or paths.home()) / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest(model, threads)}.json"
    if path.exists():
        return {name: LayerTime(**entry) for name, entry in json.loads(path.read_text()).items()}
    table = measure(model, groups, threads=threads, on_progress=on_progress)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({name: asdict(entry) for name, entry in table.items()}, indent=1))
    tmp.replace(path)
    return table
