"""Compact summaries of many values (numpy only, so the dashboard can read them without
TensorFlow)."""

from __future__ import annotations

import numpy as np


def distribution(arrays, bins: int = 60, points: int = 201) -> dict:
    """A compact summary of many non-negative values (scores, |weights|): zero count, quantiles
    (to read off the sparsity any threshold would give) and a histogram on a log scale.

    One copy of the values at their own precision, sorted in place: a large model's weights are
    summarised without the several float64 copies a plain `np.quantile` would make."""
    # arrays, or anything with a shape and a dtype that numpy can read (a model's variables): each
    # read into the one copy in turn, so a whole model's worth of copies never coexists
    values = [a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a) for a in arrays]
    sizes = [int(np.prod(v.shape)) for v in values]
    dtypes = [np.dtype(getattr(v.dtype, "as_numpy_dtype", v.dtype)) for v in values]
    dtype = np.result_type(np.float32, *dtypes) if values else np.float64
    flat = np.empty(sum(sizes), dtype)
    at = 0
    for v, size in zip(values, sizes):
        flat[at : at + size] = np.asarray(v).ravel()
        at += size
    np.abs(flat, out=flat)
    flat.sort()  # NaN, if any, last
    zeros = int(np.searchsorted(flat, 0, side="right"))
    positive = flat[zeros : int(np.searchsorted(flat, np.inf, side="right"))]
    summary = {
        "count": int(flat.size),
        "zeros": int(flat.size - positive.size),
        "quantiles": _sorted_quantiles(flat, points) if flat.size else [],
    }
    if positive.size:
        low, high = float(positive[0]), float(positive[-1])
        edges = np.logspace(np.log10(low), np.log10(high) + 1e-12, bins + 1)
        edges[0] = low  # logspace may round the first edge above the minimum
        counts, edges = np.histogram(positive, bins=edges)
        summary.update(hist_counts=counts.tolist(), hist_edges=edges.tolist())
    return summary


def _sorted_quantiles(ordered: np.ndarray, points: int) -> list[float]:
    """`points` evenly spaced quantiles of sorted values (numpy's linear method), read by index."""
    position = np.linspace(0, 1, points) * (ordered.size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, ordered.size - 1)
    below, above = ordered[low].astype(np.float64), ordered[high].astype(np.float64)
    return (below + (above - below) * (position - low)).tolist()


def fraction_below(summary: dict, threshold: float) -> float:
    """Fraction of the summarised values below `threshold`, read from the quantiles."""
    q = np.asarray(summary.get("quantiles", []))
    if not q.size:
        return 0.0
    return float(np.interp(threshold, q, np.linspace(0, 1, q.size), left=0.0, right=1.0))


def threshold_removing(summary: dict, fraction: float) -> float | None:
    """The threshold below which `fraction` of the summarised values lie (the inverse of
    `fraction_below`); None without quantiles."""
    q = np.asarray(summary.get("quantiles", []))
    if not q.size:
        return None
    return float(np.interp(fraction, np.linspace(0, 1, q.size), q))
