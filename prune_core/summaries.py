"""Compact summaries of many values (numpy only, so the dashboard can read them without
TensorFlow)."""

from __future__ import annotations

import numpy as np


def distribution(arrays, bins: int = 60, points: int = 201) -> dict:
    """A compact summary of many non-negative values (scores, |weights|): zero count, quantiles
    (to read off the sparsity any threshold would give) and a histogram on a log scale."""
    flat = (
        np.concatenate([np.abs(np.asarray(a, dtype=np.float64)).ravel() for a in arrays])
        if arrays
        else np.zeros(0)
    )
    positive = flat[flat > 0]
    summary = {
        "count": int(flat.size),
        "zeros": int(flat.size - positive.size),
        "quantiles": np.quantile(flat, np.linspace(0, 1, points)).tolist() if flat.size else [],
    }
    if positive.size:
        edges = np.logspace(np.log10(positive.min()), np.log10(positive.max()) + 1e-12, bins + 1)
        edges[0] = positive.min()  # logspace may round the first edge above the minimum
        counts, edges = np.histogram(positive, bins=edges)
        summary.update(hist_counts=counts.tolist(), hist_edges=edges.tolist())
    return summary


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
