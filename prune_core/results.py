"""Stored job results → one tidy DataFrame (a row per completed run), plus the questions the
Compare page asks of it: the Pareto front, and whether latency moved when sparsity did.
Pure functions over data; no TensorFlow, no Streamlit."""
from __future__ import annotations

import json

import pandas as pd

#: Columns the dashboard plots and exports, in order.
COLUMNS = ["job", "label", "sweep", "model", "dataset", "strategy", "granularity", "scope", "rank", "budget",
           "schedule", "mode",
           "target_sparsity", "threshold", "achieved_sparsity", "top1_dense", "top1_before_finetune", "top1",
           "top5", "params", "nonzero_params", "flops", "nonzero_flops", "theoretical_speedup", "file_bytes",
           "gzip_bytes", "latency_ms_b1_p50", "latency_ms_b1_p90", "latency_ms_b32_p50", "throughput_ips",
           "finetune_seconds", "dense_gzip_bytes", "dense_file_bytes", "dense_latency_ms_b1_p50", "dense_latency_ms_b32_p50",
           "dense_params", "dense_flops", "h5_gzip_bytes", "tflite_float_bytes", "tflite_sparse_bytes",
           "tflite_int8_bytes", "tflite_int8_gzip_bytes", "tflite_int8_top1", "litert_ms_b1_p50",
           "litert_1t_ms_b1_p50", "litert_int8_ms_b1_p50", "litert_ms_predicted", "dense_litert_ms_predicted",
           "recipe", "hover"]

HOVER_KEYS = ("model", "dataset", "strategy", "granularity", "scope", "budget", "rank", "schedule", "sparsity",
              "threshold", "fine_tune_epochs", "learning_rate", "seed")

#: Axis choices: column → human label.
AXES = {
    "gzip_bytes": "gzip bytes (compressed model)",
    "file_bytes": "file bytes (.h5)",
    "nonzero_params": "nonzero parameters",
    "latency_ms_b1_p50": "Keras latency, batch 1, p50 (ms)",
    "latency_ms_b32_p50": "Keras latency, batch 32, p50 (ms)",
    "tflite_float_bytes": "TFLite float32 bytes",
    "tflite_sparse_bytes": "TFLite sparse-storage bytes",
    "tflite_int8_bytes": "TFLite int8 bytes",
    "tflite_int8_gzip_bytes": "TFLite int8, gzip bytes",
    "litert_ms_b1_p50": "LiteRT latency, batch 1, all threads (ms)",
    "litert_1t_ms_b1_p50": "LiteRT latency, batch 1, 1 thread (ms)",
    "litert_int8_ms_b1_p50": "LiteRT int8 latency, batch 1 (ms)",
    "achieved_sparsity": "achieved sparsity",
    "theoretical_speedup": "theoretical speedup (dense / nonzero FLOPs)",
    "nonzero_flops": "nonzero FLOPs",
    "top1": "top-1 after fine-tuning",
    "top1_before_finetune": "top-1 before fine-tuning",
    "top5": "top-5 after fine-tuning",
}


#: Axis choices per chart, in the order offered (only those with data are shown).
SIZE_AXES = ["gzip_bytes", "file_bytes", "nonzero_params", "tflite_int8_gzip_bytes", "tflite_int8_bytes",
             "tflite_sparse_bytes", "tflite_float_bytes"]
LATENCY_AXES = ["latency_ms_b1_p50", "latency_ms_b32_p50", "litert_ms_b1_p50", "litert_1t_ms_b1_p50",
                "litert_int8_ms_b1_p50"]


def available(df: pd.DataFrame, axes: list) -> list:
    return [a for a in axes if a in df and df[a].notna().any()]


def frame(jobs) -> pd.DataFrame:
    """A row per completed pruning run with a result (export jobs excluded); newest last."""
    rows = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.status != "completed" or not job.result or job.kind != "run":
            continue
        r = job.result
        row = {c: r.get(c) for c in COLUMNS}
        config = r.get("config", {})
        row.update(rank=config.get("rank", "importance"), budget=config.get("budget", "flops"))
        row.update(job=job.id, label=job.label, sweep=job.sweep or f"job {job.id}",
                   recipe=json.dumps(config, sort_keys=True), hover=hover_text(job.id, job.label, r, config))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def hover_text(job_id: int, label: str, result: dict, config: dict) -> str:
    """What a chart shows when you hover a run: its numbers and its whole recipe."""
    lines = [f"<b>job {job_id}</b> · {label}",
             f"top-1 {result.get('top1', float('nan')):.4f} (before FT {result.get('top1_before_finetune', float('nan')):.4f})",
             f"achieved sparsity {result.get('achieved_sparsity', float('nan')):.3f}"]
    lines += [f"{k}: {config[k]}" for k in HOVER_KEYS if config.get(k) is not None]
    return "<br>".join(lines)


#: Axes where a larger value is the better one (for the Pareto front); on the others smaller is better.
HIGHER_IS_BETTER = {"achieved_sparsity", "theoretical_speedup", "throughput_ips"}


def pareto_mask(df: pd.DataFrame, x: str, y: str = "top1") -> pd.Series:
    """True for runs no other run beats on both axes (larger y; smaller x, or larger for
    sparsity-like axes)."""
    keep = []
    sign = -1.0 if x in HIGHER_IS_BETTER else 1.0
    xs, ys = sign * df[x].to_numpy(dtype=float), df[y].to_numpy(dtype=float)
    for i in range(len(df)):
        dominated = ((xs <= xs[i]) & (ys >= ys[i]) & ((xs < xs[i]) | (ys > ys[i]))).any()
        keep.append(not dominated)
    return pd.Series(keep, index=df.index, dtype=bool)


def latency_flat(df: pd.DataFrame, column: str = "latency_ms_b1_p50", tolerance: float = 0.15) -> bool:
    """True when sparsity moved a lot (≥ 0.3) among unstructured runs but measured latency stayed
    within ±tolerance of the dense model — the normal result for zeros in dense kernels."""
    runs = df[(df["granularity"] == "unstructured")].dropna(subset=["achieved_sparsity", column])
    if len(runs) < 2 or runs["achieved_sparsity"].max() - runs["achieved_sparsity"].min() < 0.3:
        return False
    dense = runs[f"dense_{column}"].dropna()
    reference = float(dense.median()) if len(dense) else float(runs[column].median())
    return bool(((runs[column] / reference - 1).abs() <= tolerance).all())


def dense_reference(df: pd.DataFrame) -> dict:
    """The dense baseline's numbers (median over the runs that share it): top1 and every `dense_*`."""
    if df.empty:
        return {}
    ref = {"top1": float(df["top1_dense"].median())}
    for column in df.columns:
        if column.startswith("dense_") and df[column].notna().any():
            ref[column[len("dense_"):]] = float(df[column].median())
    return ref


#: (label, size key, gzip key, top-1 key, LiteRT all-threads key, LiteRT 1-thread key) per format.
FORMATS = [
    ("Keras .keras", "keras_bytes", "keras_gzip_bytes", "top1", None, None),
    ("Keras .h5", "h5_bytes", "h5_gzip_bytes", "top1", None, None),
    ("TFLite float32", "tflite_float_bytes", "tflite_float_gzip_bytes", "tflite_float_top1",
     "litert_ms_b1_p50", "litert_1t_ms_b1_p50"),
    ("TFLite sparse", "tflite_sparse_bytes", "tflite_sparse_gzip_bytes", "tflite_sparse_top1",
     "litert_sparse_ms_b1_p50", "litert_sparse_1t_ms_b1_p50"),
    ("TFLite int8", "tflite_int8_bytes", "tflite_int8_gzip_bytes", "tflite_int8_top1",
     "litert_int8_ms_b1_p50", "litert_int8_1t_ms_b1_p50"),
]


def deploy_table(result: dict) -> pd.DataFrame:
    """One row per exported format: bytes, gzip bytes, measured top-1, LiteRT latency."""
    rows = []
    for label, size, gz, top1, lat, lat1 in FORMATS:
        if result.get(size) is None:
            continue
        rows.append({"format": label, "bytes": result[size], "gzip bytes": result.get(gz),
                     "top-1": result.get(top1), "LiteRT ms, all threads": result.get(lat) if lat else None,
                     "LiteRT ms, 1 thread": result.get(lat1) if lat1 else None})
    return pd.DataFrame(rows)
