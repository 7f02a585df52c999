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
from prune_core.results.columns import COLUMNS as RESULT_COLUMNS
from prune_core.results.columns import IDENTITY, band_of
from prune_core.results.demo import SWEEP as DEMO_SWEEP
from prune_core.results.run_result import RunResult
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
#: Speedups against the dense model timed beside each run (dense ms ÷ run ms, in alternation, with
#: the band of its rounds), the most faithful to a phone or board first. A speedup answers "how much
#: faster?" across runs measured at different times, where absolute milliseconds drift.
SPEEDUP_AXES = [
    "litert_1t_speedup",
    "litert_sparse_1t_speedup",
    "litert_int8_1t_speedup",
    "speedup_b1",
    "speedup_b32",
]
#: A speedup axis in a few words, for sentences.
SPEEDUP_NAMES = {
    "litert_1t_speedup": "LiteRT float32",
    "litert_sparse_1t_speedup": "LiteRT sparse",
    "litert_int8_1t_speedup": "LiteRT int8",
    "speedup_b1": "Keras batch 1",
    "speedup_b32": "Keras batch 32",
}
AXES.update(
    {
        "litert_1t_speedup": "× faster than dense: LiteRT float32, 1 thread",
        "litert_sparse_1t_speedup": "× faster than dense: LiteRT sparse, 1 thread",
        "litert_int8_1t_speedup": "× faster than dense float32: LiteRT int8, 1 thread",
        "speedup_b1": "× faster than dense: Keras on this CPU, batch 1",
        "speedup_b32": "× faster than dense: Keras on this CPU, batch 32",
    }
)
#: How much was pruned: parameters removed compares unstructured and structured runs on one axis.
AMOUNT_AXES = [
    a
    for a in _axes("amount", first=("params_removed", "weight_sparsity", "budget_removed"))
    if a not in SPEEDUP_AXES  # the speed chart's
]


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


def frame(jobs, names=None) -> pd.DataFrame:
    """A row per completed pruning run with a readable result (export jobs excluded); newest last.
    A stored result that is not a valid run result is left out rather than breaking the frame.
    `names`: how a model or dataset name is shown (a shared dashboard hides server paths)."""
    rows = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.status != "completed" or job.kind != "run" or not job.result_json:
            continue
        try:
            result = job.run_result
        except (ResultError, ValueError):
            continue
        row = result.row()
        if names is not None:
            row.update(model=names(row["model"]), dataset=names(row["dataset"]))
        rows.append(
            {
                **row,
                "job": job.id,
                "label": job.label,
                "sweep": job.sweep or f"job {job.id}",
                "recipe": json.dumps(result.spec.to_dict(), sort_keys=True),
                "hover": hover_text(job.id, job.label, result, demo=job.demo, names=names),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


#: Recipe fields a hover names when they are not the default (the whole recipe is on Run detail).
HOVER_RECIPE = ("granularity", "pattern", "regrow", "schedule", "fine_tune_epochs")


def hover_text(job_id: int, label: str, result: RunResult, demo: bool = False, names=None) -> str:
    """A compact hover: which run, its accuracy, what was removed, its measured speed; a click
    opens its Run detail with the whole recipe."""
    spec, shown = result.spec, names or (lambda name: name)
    recipe = [
        f"{f.name.replace('_', ' ')} {html.escape(str(value))}"
        for f, value in zip(FIELDS, spec.flat_values())
        if f.name in HOVER_RECIPE and value is not None and value != f.default
    ]
    lines = [
        f"<b>job {job_id}</b> · {html.escape(label)}" + (" · <i>demo</i>" if demo else ""),
        f"{html.escape(shown(spec.baseline.model))} · {html.escape(shown(spec.baseline.dataset))}"
        + "".join(f" · {r}" for r in recipe),
        f"top-1 {result.top1:.1%} (dense {result.dense.top1:.1%}) · {result.amount_text()}",
    ]
    versus = speedup_text(result.speedup_b1, result.speedup_b1_lo, result.speedup_b1_hi)
    if versus:
        lines.append(f"Keras batch 1: {versus}")
    lines.append("<i>click for its Run detail</i>")
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


def pareto_mask(
    df: pd.DataFrame,
    x: str,
    y: str = "top1",
    with_band: bool = True,
    reference: tuple[float, float] | None = None,
) -> pd.Series:
    """True for runs no other run beats (larger y; smaller x, or larger for sparsity-like axes).
    Where `x` is a measured latency with a band, two runs whose bands overlap are tied on `x`: a
    run beats another on latency only by more than the measurement noise. `reference`: the dense
    model's (x, y), a competitor too — a run inside the noise of dense speed and less accurate than
    dense is on no front."""
    low, high = _bounds(df, x, band(df, x) if with_band else None)
    ys = df[y].to_numpy(dtype=float)
    if reference is not None and None not in reference:
        low, high = np.append(low, reference[0]), np.append(high, reference[0])
        ys = np.append(ys, reference[1])
    if x in HIGHER_IS_BETTER:
        low, high = -high, -low
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


def leaves_noise(df: pd.DataFrame, x: str) -> bool:
    """True when some run's speedup band lies wholly above or below 1.0× (a speedup named only
    where every measurement round agrees); False when every run is as fast as dense within its
    noise."""
    columns = band(df, x)
    if columns is None:
        return df[x].notna().any()
    runs = df.dropna(subset=list(columns))
    return bool(((runs[columns[0]] > 1.0) | (runs[columns[1]] < 1.0)).any())


def default_speedup_axis(df: pd.DataFrame, choices: list) -> str | None:
    """The speed axis Compare opens on: the most faithful speedup (LiteRT before Keras) on which
    some run leaves the noise — the answer to "how much faster does it get?" — else the most
    faithful one every run shown has."""
    telling = [c for c in choices if leaves_noise(df, c)]
    complete = [c for c in choices if df[c].notna().all()]
    return (telling or complete or choices or [None])[0]


def panels(df: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(model, dataset, runs) — one Compare panel per model × dataset, each with its own dense
    baseline, accuracy axis and Pareto front; the panel with the newest run first."""
    groups = [(m, d, g) for (m, d), g in df.groupby(["model", "dataset"], sort=False)]
    return sorted(groups, key=lambda item: -item[2]["job"].max())


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
    for axis in SPEEDUP_AXES:  # dense is 1× itself
        if axis in df and df[axis].notna().any():
            ref[axis] = 1.0
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


def latest_focus(df: pd.DataFrame) -> tuple[list, list]:
    """(models, datasets) Compare opens on: the newest own run's (the bundled demo's runs are not
    yours), else every one there is."""
    own = df[df["sweep"] != DEMO_SWEEP]
    if own.empty:
        return sorted(df["model"].unique()), sorted(df["dataset"].unique())
    newest = own.loc[own["job"].idxmax()]
    return [newest["model"]], [newest["dataset"]]
