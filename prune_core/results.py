"""Stored job results → one tidy DataFrame (a row per completed run), plus the questions the
Compare page asks of it: the Pareto front, and whether latency moved when sparsity did.
Pure functions over data; no TensorFlow, no Streamlit."""
from __future__ import annotations

import json

import pandas as pd

#: Columns the dashboard plots and exports, in order.
COLUMNS = ["job", "label", "sweep", "model", "dataset", "strategy", "granularity", "scope", "schedule", "mode",
           "target_sparsity", "threshold", "achieved_sparsity", "top1_dense", "top1_before_finetune", "top1",
           "top5", "params", "nonzero_params", "flops", "nonzero_flops", "theoretical_speedup", "file_bytes",
           "gzip_bytes", "latency_ms_b1_p50", "latency_ms_b1_p90", "latency_ms_b32_p50", "throughput_ips",
           "finetune_seconds", "dense_gzip_bytes", "dense_latency_ms_b1_p50", "dense_latency_ms_b32_p50",
           "dense_params", "dense_flops", "recipe", "hover"]

HOVER_KEYS = ("model", "dataset", "strategy", "scope", "schedule", "sparsity", "threshold", "fine_tune_epochs",
              "learning_rate", "seed")

#: Axis choices: column → human label.
AXES = {
    "gzip_bytes": "gzip bytes (compressed model)",
    "file_bytes": "file bytes (.h5)",
    "nonzero_params": "nonzero parameters",
    "latency_ms_b1_p50": "Keras latency, batch 1, p50 (ms)",
    "latency_ms_b32_p50": "Keras latency, batch 32, p50 (ms)",
    "achieved_sparsity": "achieved sparsity",
    "theoretical_speedup": "theoretical speedup (dense / nonzero FLOPs)",
    "nonzero_flops": "nonzero FLOPs",
    "top1": "top-1 after fine-tuning",
    "top1_before_finetune": "top-1 before fine-tuning",
    "top5": "top-5 after fine-tuning",
}


def frame(jobs) -> pd.DataFrame:
    """A row per completed job with a result; newest last."""
    rows = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.status != "completed" or not job.result:
            continue
        r = job.result
        row = {c: r.get(c) for c in COLUMNS}
        config = r.get("config", {})
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
    """The dense baseline's numbers (median over runs that share it)."""
    if df.empty:
        return {}
    return {"top1": float(df["top1_dense"].median()),
            "gzip_bytes": float(df["dense_gzip_bytes"].median()) if df["dense_gzip_bytes"].notna().any() else None,
            "latency_ms_b1_p50": float(df["dense_latency_ms_b1_p50"].median())
            if df["dense_latency_ms_b1_p50"].notna().any() else None,
            "latency_ms_b32_p50": float(df["dense_latency_ms_b32_p50"].median())
            if df["dense_latency_ms_b32_p50"].notna().any() else None}
