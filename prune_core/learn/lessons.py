"""The numbers behind the Learn page: small, exact computations a class can change live.

Each function takes plain numbers and returns plain numbers (numpy only, no TensorFlow), so the page
redraws at once and a test can check each lesson's claim: a threshold zeros exactly the weights
below it; the seed's Fisher example removes θ₂ at threshold 5; the second-order saliency ½·F·w² is
the loss a removal costs on a quadratic loss; whole channels leave a smaller dense matrix where
scattered zeros leave the same shape."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from prune_core.recipe import patterns
from prune_core.results.demo import LESSON_WEIGHTS
from prune_core.timing import verdict


def lesson_weights() -> tuple[np.ndarray, str]:
    """(16×16 weights, where they come from): a block of a real trained 1×1 convolution when the
    demo ships one, else a fixed seeded heavy-tailed matrix (trained weights are heavy-tailed
    too)."""
    try:
        data = json.loads(LESSON_WEIGHTS.read_text())
        weights = np.asarray(data["weights"], dtype=float)
        if weights.shape == (16, 16) and np.isfinite(weights).all():
            return weights, f"16×16 block of {data['layer']} in the trained compact EfficientNet"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    rng = np.random.default_rng(0)
    return 0.05 * rng.standard_t(
        3, size=(16, 16)
    ), "a fixed random 16×16 matrix (no trained weights bundled)"


def sample_input(n: int = 16, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


def threshold_cut(weights: np.ndarray, threshold: float, x: np.ndarray) -> dict:
    """Magnitude pruning at `threshold`: the mask (|w| >= threshold kept), the share removed, and
    how much the layer's output y = xᵀW changes on the sample input (relative L2)."""
    mask = np.abs(weights) >= threshold
    dense, pruned = x @ weights, x @ (weights * mask)
    change = float(np.linalg.norm(dense - pruned) / max(np.linalg.norm(dense), 1e-12))
    return {
        "mask": mask,
        "sparsity": float(1 - mask.mean()),
        "output_change": change,
        "dense_output": dense,
        "pruned_output": pruned,
    }


#: The seed document's example: two parameters, Fisher matrix diag(10, 1), threshold 5.
SEED_FISHER = {"w": (0.5, 1.0), "fisher": (10.0, 1.0), "threshold": 5.0}


def fisher_example(w: tuple, fisher: tuple, threshold: float) -> dict:
    """Which parameter each rule removes, for two parameters with a diagonal Fisher matrix.

    - the seed's rule removes every parameter whose Fisher eigenvalue (here the diagonal) is below
      the threshold, whatever its weight;
    - the Fisher saliency ½·F·w² is the loss increase a removal causes on the quadratic
      approximation of the loss around the trained weights; removing one of two, it removes the
      cheaper;
    - magnitude removes the smaller |w|, blind to how much the loss cares.
    """
    w, f = np.asarray(w, dtype=float), np.asarray(fisher, dtype=float)
    saliency = 0.5 * f * w**2
    return {
        "w": w,
        "fisher": f,
        "saliency": saliency,
        "magnitude": np.abs(w),
        "seed_removes": [i for i in range(len(w)) if f[i] < threshold],
        "saliency_removes": int(np.argmin(saliency)),
        "magnitude_removes": int(np.argmin(np.abs(w))),
        "loss_if_removed": saliency,
    }


def loss_surface(w: tuple, fisher: tuple, points: int = 61) -> dict:
    """ΔL(θ) = ½ Σ F_i (θ_i − w_i)² on a grid around the trained weights and the origin (the contour
    plot)."""
    w, f = np.asarray(w, dtype=float), np.asarray(fisher, dtype=float)
    span = 1.3 * max(abs(w).max(), 0.1)
    axis = (
        np.linspace(-0.3 * span, span, points)
        if (w >= 0).all()
        else np.linspace(-span, span, points)
    )
    t1, t2 = np.meshgrid(axis, axis)
    return {
        "theta1": axis,
        "theta2": axis,
        "loss": 0.5 * (f[0] * (t1 - w[0]) ** 2 + f[1] * (t2 - w[1]) ** 2),
    }


def channel_cut(weights: np.ndarray, share: float) -> dict:
    """The same share of a kernel (input × output channels) removed two ways: the smallest |w|
    anywhere (scattered zeros; the matrix keeps its shape) or the output channels with the smallest
    L1 norm (whole columns gone; a smaller dense matrix)."""
    n = weights.size
    k = int(round(share * n))
    order = np.argsort(np.abs(weights), axis=None, kind="stable")
    scattered = np.ones(n, dtype=bool)
    scattered[order[:k]] = False
    channels = int(round(share * weights.shape[1]))
    dropped = np.sort(np.argsort(np.abs(weights).sum(axis=0), kind="stable")[:channels])
    kept = np.setdiff1d(np.arange(weights.shape[1]), dropped)
    return {
        "scattered_mask": scattered.reshape(weights.shape),
        "dropped_channels": dropped.tolist(),
        "kept_channels": kept.tolist(),
        "smaller": weights[:, kept],
        "scattered_shape": weights.shape,
        "smaller_shape": (weights.shape[0], len(kept)),
    }


def pattern_cut(weights: np.ndarray, text: str) -> dict:
    """Half of a Dense kernel [input, output] removed under a pattern: N:M inside each output's
    groups of M consecutive inputs, blocks ranked by mean |w|, or unstructured (the smallest |w|
    anywhere)."""
    pattern = patterns.Pattern.parse(text)
    scores = np.abs(weights)
    if pattern.kind == "n:m":
        keep = patterns.nm_mask(scores, pattern.n, pattern.m)
    elif pattern.kind == "block":
        means, _ = patterns.block_scores(scores, pattern)
        order = np.argsort(means, axis=None, kind="stable")
        blocks = np.ones(means.size, dtype=np.float32)
        blocks[order[: means.size // 2]] = 0.0
        keep = patterns.expand_blocks(blocks.reshape(means.shape), weights.shape, pattern)
    else:
        keep = channel_cut(weights, 0.5)["scattered_mask"].astype(np.float32)
    return {"keep": keep.astype(bool), "pattern": pattern, "sparsity": float(1 - keep.mean())}


def _unstructured_runs(results: list) -> list:
    """Unstructured runs on the model and data most runs share (one baseline, comparable
    numbers)."""
    flat = [r for r in results if not r.structured]
    if not flat:
        return []
    common = Counter((r.spec.baseline.model, r.spec.baseline.dataset) for r in flat).most_common(1)[
        0
    ][0]
    return [r for r in flat if (r.spec.baseline.model, r.spec.baseline.dataset) == common]


def pipeline_rows(results: list) -> list:
    """Per unstructured run: the strategy, the share of weights removed, top-1 one-shot (before
    fine-tuning) and after, and the dense baseline's top-1 — section 5's numbers."""
    return [
        {
            "strategy": r.spec.pruning.strategy,
            "amount": r.weight_sparsity,
            "top1_before": r.top1_before_finetune,
            "top1": r.top1,
            "dense": r.dense.top1,
        }
        for r in _unstructured_runs(results)
    ]


def speed_rows(results: list) -> list:
    """What removing single weights and whole channels did to speed in measured runs: every
    structured run, and the unstructured runs of one criterion (taylor when there are any). Per run:
    the FLOPs speedup in theory (dense FLOPs ÷ FLOPs left, zeros skipped) and the measured one with
    its band — LiteRT at one thread where the run was exported, else Keras batch 1 — and whether the
    band leaves 1.0."""
    flat = _unstructured_runs(results)
    strategies = {r.spec.pruning.strategy for r in flat}
    pick = "taylor" if "taylor" in strategies else min(strategies, default=None)
    chosen = [r for r in results if r.structured] + [
        r for r in flat if r.spec.pruning.strategy == pick
    ]
    rows = []
    for r in chosen:
        lite = r.deployment.get("float", "speedup_1t") if r.deployment else None
        if lite is not None:
            measured, low, high = (
                lite,
                r.deployment.get("float", "speedup_1t_lo"),
                r.deployment.get("float", "speedup_1t_hi"),
            )
            where = "LiteRT, 1 thread"
        elif r.speedup_b1 is not None:
            measured, low, high, where = (
                r.speedup_b1,
                r.speedup_b1_lo,
                r.speedup_b1_hi,
                "Keras, batch 1",
            )
        else:
            continue
        rows.append(
            {
                "run": r.spec.label(),
                "kind": "whole channels" if r.structured else "single weights",
                "removed": r.amount_text(),
                "FLOPs speedup in theory": r.dense.flops / max(r.nonzero_flops, 1),
                "measured speedup": measured,
                "band": f"{low:.2f}–{high:.2f}×" if low is not None and high is not None else "–",
                "measured on": where,
                "verdict": verdict(low, high)
                if low is not None and high is not None
                else "timed once",
            }
        )
    return rows
