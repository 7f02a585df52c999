"""Stored job results → one tidy DataFrame (a row per completed run), plus the questions the
Compare page asks of it: the Pareto front, and whether latency moved when sparsity did.
Pure functions over data; no TensorFlow, no Streamlit. Every column comes from `result.COLUMNS`.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from prune_core.errors import ResultError
from prune_core.recipe.spec import FIELDS
from prune_core.results.demo import SWEEP as DEMO_SWEEP
from prune_core.results.deployment import FORMATS
from prune_core.results.run_result import COLUMNS as RESULT_COLUMNS
from prune_core.results.run_result import IDENTITY, RunResult, band_of
from prune_core.timing import verdict

#: Columns of the frame, in order: the job, the recipe's identity, every number, the recipe and
#: hover text.
COLUMNS = ["job", "label", "sweep", *IDENTITY, *RESULT_COLUMNS, "recipe", "hover"]

#: Axis choices: column → human label.
AXES = {name: column.label for name, column in RESULT_COLUMNS.items()}
#: Axes where a larger value is the better one (for the Pareto front); on the others smaller is
#: better.
HIGHER_IS_BETTER = {name for name, column in RESULT_COLUMNS.items() if column.better == "higher"}


def _axes(axis: str, first: tuple = ()) -> list:
    rest = [
        name for name, column in RESULT_COLUMNS.items() if column.axis == axis and name not in first
    ]
    return list(first) + rest


#: Axis choices per chart, in the order offered (only those with data are shown).
SIZE_AXES = _axes(
    "size", first=("gzip_bytes", "file_bytes", "nonzero_params", "tflite_int8_gzip_bytes")
)
LATENCY_AXES = _axes("latency", first=("latency_ms_b1_p50", "latency_ms_b32_p50"))
#: How much was pruned: parameters removed compares unstructured and structured runs on one axis.
AMOUNT_AXES = _axes("amount", first=("params_removed", "weight_sparsity", "budget_removed"))


#: The columns the Compare table shows (the CSV has them all).
TABLE = [
    "job",
    "label",
    "sweep",
    "model",
    "dataset",
    "strategy",
    "granularity",
    "scope",
    "pattern",
    "regrow",
    "budget",
    "rank",
    "target",
    "achieved",
    "weight_sparsity",
    "budget_removed",
    "params_removed",
    "top1_before_finetune",
    "top1",
    "top5",
    "dense_top1",
    "nonzero_params",
    "gzip_bytes",
    "theoretical_speedup",
    "latency_ms_b1_p50",
    "latency_ms_b1_lo",
    "latency_ms_b1_hi",
    "speedup_b1",
    "speedup_b1_lo",
    "speedup_b1_hi",
    "litert_ms_predicted",
    "litert_1t_ms_b1_lo",
    "litert_1t_speedup",
    "tflite_int8_gzip_bytes",
]


def table(df: pd.DataFrame) -> pd.DataFrame:
    """The Compare table: the columns a person reads, without those no run shown has."""
    return df[[c for c in TABLE if c in df and df[c].notna().any()]]


def available(df: pd.DataFrame, axes: list) -> list:
    return [a for a in axes if a in df and df[a].notna().any()]


def frame(jobs) -> pd.DataFrame:
    """A row per completed pruning run with a readable result (export jobs excluded); newest last.
    A stored result that is not a valid run result is left out rather than breaking the frame."""
    rows = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.status != "completed" or job.kind != "run" or not job.result_json:
            continue
        try:
            result = job.run_result
        except (ResultError, ValueError):
            continue
        rows.append(
            {
                **result.row(),
                "job": job.id,
                "label": job.label,
                "sweep": job.sweep or f"job {job.id}",
                "recipe": json.dumps(result.spec.to_dict(), sort_keys=True),
                "hover": hover_text(job.id, job.label, result, demo=job.demo),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


#: Recipe fields a hover always shows (others only when they differ from the default).
HOVER_ALWAYS = (
    "model",
    "dataset",
    "strategy",
    "granularity",
    "pattern",
    "sparsity",
    "threshold",
    "scope",
    "schedule",
    "fine_tune_epochs",
    "learning_rate",
    "seed",
)


def hover_text(job_id: int, label: str, result: RunResult, demo: bool = False) -> str:
    """What a chart shows when you hover a run: its numbers and its whole recipe."""
    lines = [
        f"<b>job {job_id}</b> · {html.escape(label)}"
        + (" · <i>bundled demo result</i>" if demo else ""),
        f"top-1 {result.top1:.4f} (before FT {result.top1_before_finetune:.4f})",
        result.amount_text(),
    ]
    if result.latency_ms_b1_lo is not None:
        versus = speedup_text(result.speedup_b1, result.speedup_b1_lo, result.speedup_b1_hi)
        lines.append(
            f"Keras batch 1: {result.latency_ms_b1_p50:.2f} ms ({result.latency_ms_b1_lo:.2f}–"
            f"{result.latency_ms_b1_hi:.2f})" + (f", vs dense: {versus}" if versus else "")
        )
    for f, value in zip(FIELDS, result.spec.flat_values()):
        if value is not None and (f.name in HOVER_ALWAYS or value != f.default):
            # paths are user text: no markup from them
            lines.append(f"{f.name}: {html.escape(str(value))}")
    return "<br>".join(lines)


def band(df: pd.DataFrame, x: str) -> tuple[str, str] | None:
    """The (low, high) columns of `x`'s measurement band when the frame has them."""
    columns = band_of(x)
    return columns if columns and all(c in df and df[c].notna().any() for c in columns) else None


def _bounds(df: pd.DataFrame, x: str, columns: tuple | None):
    values = df[x].to_numpy(dtype=float)
    if columns is None:
        return values, values
    low = df[columns[0]].to_numpy(dtype=float)
    high = df[columns[1]].to_numpy(dtype=float)
    return (
        np.where(np.isnan(low), values, np.minimum(low, values)),
        np.where(np.isnan(high), values, np.maximum(high, values)),
    )


def pareto_mask(df: pd.DataFrame, x: str, y: str = "top1", with_band: bool = True) -> pd.Series:
    """True for runs no other run beats (larger y; smaller x, or larger for sparsity-like axes).
    Where `x` is a measured latency with a band, two runs whose bands overlap are tied on `x`: a
    run beats another on latency only by more than the measurement noise."""
    low, high = _bounds(df, x, band(df, x) if with_band else None)
    if x in HIGHER_IS_BETTER:
        low, high = -high, -low
    ys = df[y].to_numpy(dtype=float)
    keep = []
    for i in range(len(df)):
        as_good = low <= high[i]  # not clearly worse on x
        better = high < low[i]  # clearly better on x
        dominated = (as_good & (ys >= ys[i]) & (better | (ys > ys[i]))).any()
        keep.append(not dominated)
    return pd.Series(keep, index=df.index, dtype=bool)


def latency_unchanged(
    df: pd.DataFrame, column: str = "latency_ms_b1_p50", tolerance: float = 0.15
) -> bool:
    """True when sparsity moved a lot (≥ 0.3) among unstructured runs but measured latency did not
    change beyond measurement noise — the normal result for zeros in dense kernels. Runs timed in
    alternation with the dense model carry a speedup band: unchanged means 1.0 lies in every band.
    Older runs (one timing each) fall back to ±tolerance around the dense latency."""
    runs = df[(df["granularity"] == "unstructured")].dropna(subset=["weight_sparsity", column])
    if len(runs) < 2 or runs["weight_sparsity"].max() - runs["weight_sparsity"].min() < 0.3:
        return False
    batch = column.split("_b")[-1].split("_")[0] if column.startswith("latency_ms_b") else None
    low, high = f"speedup_b{batch}_lo", f"speedup_b{batch}_hi"
    if batch and low in runs and runs[low].notna().all():
        return bool(((runs[low] <= 1.0) & (runs[high] >= 1.0)).all())
    dense = (
        runs[f"dense_{column}"].dropna() if f"dense_{column}" in runs else pd.Series(dtype=float)
    )
    reference = float(dense.median()) if len(dense) else float(runs[column].median())
    return bool(((runs[column] / reference - 1).abs() <= tolerance).all())


#: Latency axes from the most faithful to a phone or board to the least: LiteRT measured, the
#: per-layer table's prediction, Keras on this CPU.
FAITHFUL = ("litert_1t_ms_b1_lo", "litert_ms_b1_lo", "litert_ms_predicted", "latency_ms_b1_p50")


def default_latency_axis(df: pd.DataFrame, choices: list) -> str | None:
    """The most faithful latency that every run shown has (else the first one available)."""
    for column in FAITHFUL:
        if column in choices and df[column].notna().all():
            return column
    return choices[0] if choices else None


def dense_reference(df: pd.DataFrame) -> dict:
    """The dense baseline's numbers (median over the runs that share it): top1 and every
    `dense_*`."""
    if df.empty:
        return {}
    ref = {}
    for column in df.columns:
        if column.startswith("dense_") and df[column].notna().any():
            ref[column[len("dense_") :]] = float(df[column].median())
    return ref


#: A run this far below the best one shown is a collapse, not a trade-off: the zoomed axis leaves it
#: out (the chart says how many runs lie below) rather than flatten every other run against the top.
COLLAPSE = 0.25


def accuracy_range(
    df: pd.DataFrame, dense: dict | None = None, y: str = "top1"
) -> tuple[float, float]:
    """An accuracy axis zoomed to the data (and the dense baseline), with a margin: most runs of a
    sweep sit near the top, where a 0–1 axis crowds them into a line. Runs more than `COLLAPSE`
    below the best are left below the axis."""
    values = [float(v) for v in df[y].dropna()] if y in df else []
    if dense and dense.get(y) is not None:
        values.append(float(dense[y]))
    if not values:
        return 0.0, 1.0
    high = max(values)
    low = min(v for v in values if v >= high - COLLAPSE)
    pad = max(0.005, 0.08 * (high - low))
    return max(0.0, low - pad), min(1.0 + pad / 2, high + pad)


def speedup_text(speedup, low, high) -> str | None:
    """ "1.45× faster (1.40–1.50)", "within noise (0.97–1.04)" — a speedup only where its band says
    so."""
    if speedup is None:
        return None
    found = verdict(low, high)
    word = {"faster": f"{speedup:.2f}× faster", "slower": f"{1 / speedup:.2f}× slower"}.get(
        found, "within noise"
    )
    return f"{word} ({low:.2f}–{high:.2f})"


def deploy_table(result: RunResult) -> pd.DataFrame:
    """One row per exported format: bytes, gzip bytes, measured top-1, LiteRT latency."""
    rows = []
    deployment = result.deployment
    for fmt in FORMATS:
        if deployment is None or deployment.get(fmt.key, "bytes") is None:
            continue
        top1 = deployment.get(fmt.key, "top1") if fmt.litert else result.top1
        rows.append(
            {
                "format": fmt.label,
                "bytes": deployment.get(fmt.key, "bytes"),
                "gzip bytes": deployment.get(fmt.key, "gzip_bytes"),
                "top-1": top1,
                "LiteRT ms, all threads": deployment.get(fmt.key, "ms_b1_lo"),
                "LiteRT ms, 1 thread": deployment.get(fmt.key, "ms_1t_b1_lo"),
                "1 thread vs dense float32": speedup_text(
                    deployment.get(fmt.key, "speedup_1t"),
                    deployment.get(fmt.key, "speedup_1t_lo"),
                    deployment.get(fmt.key, "speedup_1t_hi"),
                ),
            }
        )
    return pd.DataFrame(rows)


def stage_table(result: RunResult) -> pd.DataFrame:
    """A combined recipe's stages, from the dense model to int8 (when exported): top-1, parameters
    and FLOPs left, and bytes where a stage was saved."""
    dense = result.dense
    rows = [
        {
            "stage": "dense",
            "top-1": dense.top1,
            "nonzero parameters": dense.params,
            "nonzero FLOPs": dense.flops,
            "gzip bytes": dense.gzip_bytes,
        }
    ]
    for stage in result.stages:
        rows.append(
            {
                "stage": stage["stage"],
                "top-1": stage["top1"],
                "nonzero parameters": stage["nonzero_params"],
                "nonzero FLOPs": stage["nonzero_flops"],
                "gzip bytes": result.gzip_bytes if stage["stage"] == "fine-tuned" else None,
            }
        )
    if result.deployment is not None and result.deployment.get("int8", "bytes") is not None:
        rows.append(
            {
                "stage": "int8 (TFLite)",
                "top-1": result.deployment.get("int8", "top1"),
                "nonzero parameters": None,
                "nonzero FLOPs": None,
                "gzip bytes": result.deployment.get("int8", "gzip_bytes"),
            }
        )
    table = pd.DataFrame(rows)
    table["× smaller than dense (gzip)"] = (
        dense.gzip_bytes / table["gzip bytes"] if dense.gzip_bytes else None
    )
    return table


def latest_focus(df: pd.DataFrame) -> tuple[list, list]:
    """(models, datasets) Compare opens on: the newest own run's (the bundled demo's runs are not
    yours), else every one there is."""
    own = df[df["sweep"] != DEMO_SWEEP]
    if own.empty:
        return sorted(df["model"].unique()), sorted(df["dataset"].unique())
    newest = own.loc[own["job"].idxmax()]
    return [newest["model"]], [newest["dataset"]]
