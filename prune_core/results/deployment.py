"""What a run's deployment export measured: every format (Keras files, TFLite float32 / sparse /
int8, and a quantization-aware int8 when post-training int8 lost accuracy) with its bytes, gzip
bytes, top-1 and LiteRT latency. Pure Python; stored flat inside a run's
result with the key names the first schema used (`tflite_int8_gzip_bytes`, `litert_1t_ms_b1_p50`,
…)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from prune_core.errors import ResultError


@dataclass(frozen=True)
class Format:
    """One exported format: its key, label, file name and the flat names of its numbers."""

    key: str
    label: str
    prefix: str  # bytes / gzip / top-1 keys: f"{prefix}_bytes", …
    litert: str | None  # latency keys: f"{litert}_ms_b1_p50", f"{litert}_1t_ms_b1_p50", …
    filename: str
    quantized: bool = False  # int8: rounding may zero weights, so the kept zeros are checked

    def keys(self) -> dict:
        """measure name → flat key (the names schema 1 used, kept)."""
        out = {"bytes": f"{self.prefix}_bytes", "gzip_bytes": f"{self.prefix}_gzip_bytes"}
        if self.quantized:  # share of the Keras model's zero weights still zero in the file
            out["zeros_kept"] = f"{self.prefix}_zeros_kept"
        if self.litert:
            out.update(top1=f"{self.prefix}_top1", agreement=f"{self.prefix}_agreement")
            for tag, key in (
                ("ms_b1", f"{self.litert}_ms_b1"),
                ("ms_1t_b1", f"{self.litert}_1t_ms_b1"),
            ):
                out.update({f"{tag}_{q}": f"{key}_{q}" for q in ("p50", "p90", "lo", "hi")})
            # 1 thread, timed in alternation with the dense float32 model: reference ms ÷ this ms
            out.update(
                {
                    m: f"{self.litert}_1t_{m.replace('_1t', '')}"
                    for m in ("speedup_1t", "speedup_1t_lo", "speedup_1t_hi")
                }
            )
        return out


FORMATS = (
    Format("keras", "Keras .keras", "keras", None, "model.keras"),
    Format("h5", "Keras .h5", "h5", None, "model.h5"),
    Format("float", "TFLite float32", "tflite_float", "litert", "model-float.tflite"),
    Format("sparse", "TFLite sparse", "tflite_sparse", "litert_sparse", "model-sparse.tflite"),
    Format("int8", "TFLite int8", "tflite_int8", "litert_int8", "model-int8.tflite", True),
    # exported only when post-training int8 lost accuracy: quantization-aware, zeros kept
    Format(
        "int8_qat",
        "TFLite int8, quantization-aware",
        "tflite_int8_qat",
        "litert_int8_qat",
        "model-int8-qat.tflite",
        True,
    ),
)
FORMAT = {f.key: f for f in FORMATS}
_MEASURE_KIND = {"bytes": int, "gzip_bytes": int}


@dataclass(frozen=True)
class Deployment:
    """Every exported format's measured numbers (format key → measure name → value)."""

    formats: dict = field(default_factory=dict)
    litert_threads: int | None = None
    export_dir: str | None = None

    def get(self, fmt: str, measure: str):
        return self.formats.get(fmt, {}).get(measure)

    def int8_to_ship(self) -> str | None:
        """The int8 format to deploy: the quantization-aware file where its top-1 beats
        post-training int8's, else post-training int8 (the simpler file: no training); None
        without an int8 file."""
        measured = {
            key: self.get(key, "top1")
            for key in ("int8", "int8_qat")
            if self.get(key, "top1") is not None
        }
        if not measured:
            return None
        return max(measured, key=lambda key: (measured[key], key == "int8"))

    def to_dict(self) -> dict:
        """Flat, with schema 1's key names."""
        out: dict = {}
        for fmt in FORMATS:
            for measure, key in fmt.keys().items():
                if self.get(fmt.key, measure) is not None:
                    out[key] = self.get(fmt.key, measure)
        if self.litert_threads is not None:
            out["litert_threads"] = self.litert_threads
        if self.export_dir is not None:
            out["export_dir"] = self.export_dir
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Deployment | None:
        formats = {}
        for fmt in FORMATS:
            measured = {
                m: typed(key, data.get(key), _MEASURE_KIND.get(m, float))
                for m, key in fmt.keys().items()
                if data.get(key) is not None
            }
            if measured:
                formats[fmt.key] = measured
        if not formats:
            return None
        export_dir = data.get("export_dir")
        return cls(
            formats,
            typed("litert_threads", data.get("litert_threads"), int),
            export_dir if isinstance(export_dir, str) else None,
        )


def typed(name: str, value, kind: type, required: bool = False):
    """`value` as `kind` (None stays None unless required); anything else is a ResultError."""
    if value is None:
        if required:
            raise ResultError(f"missing or not a number: {name}")
        return None
    if kind is bool:
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultError(f"missing or not a number: {name}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ResultError(f"{name} must be a whole number, got {value}")
        return int(_in_range(name, value))
    if not math.isfinite(value) and not (value == math.inf and name in _MAY_BE_INFINITE):
        raise ResultError(f"{name} must be a finite number, got {value}")
    return float(_in_range(name, value) if math.isfinite(value) else value)


#: Words in the names of numbers that are shares of a whole: accuracies, sparsities, amounts.
_SHARES = ("top1", "top5", "agreement", "sparsity", "removed", "achieved", "target", "kept")
#: No measured count, size, time or ratio comes near this (a petabyte, 30 million years).
_LARGEST = 1e15


def _in_range(name: str, value):
    """Every stored number where it can be: shares in [0, 1]; counts, bytes, times, latencies and
    ratios at least 0 and below `_LARGEST` (an import of 4,200 % or negative bytes is refused)."""
    if any(word in name for word in _SHARES):
        if not 0 <= value <= 1:
            raise ResultError(f"{name} must be in [0, 1], got {value}")
    elif not 0 <= value < _LARGEST:
        raise ResultError(f"{name} must be at least 0 and below {_LARGEST:.0e}, got {value}")
    return value


#: Numbers that are infinite by definition in one case (every kernel pruned: no FLOPs left to
#: divide by).
_MAY_BE_INFINITE = ("theoretical_speedup",)
