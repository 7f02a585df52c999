"""Timing a call: warm-ups, then repeats, kept as a distribution (numpy only).

One helper for every latency the tool reports (Keras, LiteRT, the per-layer table), so they are
measured the same way and carry the same percentiles.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Milliseconds of repeated calls, summarised."""

    samples_ms: tuple

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples_ms, q))

    @property
    def p10(self) -> float:
        return self.percentile(10)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)


def time_calls(call, *, warmup: int = 5, repeats: int = 30) -> Timing:
    """Call `call()` `warmup` times untimed, then `repeats` times timed (wall clock, ms)."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000.0)
    return Timing(tuple(samples))
