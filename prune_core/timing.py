"""Timing a call as a distribution, and comparing two calls fairly (numpy only).

One helper for every latency the tool reports (Keras, LiteRT, the per-layer table), so they are
measured the same way. A single p50 of 30 calls moves ±30 % between measurements on a busy machine,
so a latency here is measured in *rounds*: each round's median is one estimate, and the range of
those estimates (lowest to highest round) is the band a difference has to leave before it means
anything: "faster" only when every round says so. Comparing a model with a reference (the dense
baseline) times both in alternation, round by round (A B, B A, A B, …), so drift in the machine's
speed hits both alike, and the ratio is taken per round."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np


def _percentile(values, q: float) -> float:
    return float(np.percentile(values, q))


@dataclass(frozen=True)
class Timing:
    """Milliseconds of repeated calls: every call's time, grouped by round."""

    rounds_ms: tuple  # one tuple of call times per round

    @property
    def samples_ms(self) -> tuple:
        return tuple(t for r in self.rounds_ms for t in r)

    @property
    def round_medians(self) -> tuple:
        return tuple(float(np.median(r)) for r in self.rounds_ms)

    def percentile(self, q: float) -> float:
        """A percentile of single calls (p90: the tail a caller sees)."""
        return _percentile(self.samples_ms, q)

    @property
    def p10(self) -> float:
        return self.percentile(10)

    @property
    def p50(self) -> float:
        """The latency: the median of the rounds' medians (one round: the median call)."""
        return float(np.median(self.round_medians))

    @property
    def p90(self) -> float:
        return self.percentile(90)

    @property
    def band(self) -> tuple[float, float]:
        """The lowest and highest round median: how far `p50` moves between measurements."""
        medians = self.round_medians
        return min(medians), max(medians)


@dataclass(frozen=True)
class Comparison:
    """A candidate and a reference timed in alternation, round by round (round i of each was timed
    next to round i of the other)."""

    candidate: Timing
    reference: Timing

    @property
    def ratios(self) -> tuple:
        """Per round: reference ms ÷ candidate ms (> 1: the candidate is faster)."""
        return tuple(
            r / c for c, r in zip(self.candidate.round_medians, self.reference.round_medians)
        )

    @property
    def speedup(self) -> float:
        return float(np.median(self.ratios))

    @property
    def speedup_band(self) -> tuple[float, float]:
        """The lowest and highest per-round speedup: a verdict needs every round to agree."""
        return min(self.ratios), max(self.ratios)


def verdict(low: float | None, high: float | None) -> str:
    """ "faster", "slower" or "within noise" for a speedup band (reference ÷ candidate)."""
    if low is None or high is None:
        return "within noise"
    if low > 1.0:
        return "faster"
    if high < 1.0:
        return "slower"
    return "within noise"


#: A round lasts at least this long: sub-millisecond calls (LiteRT on a small model) are repeated
#: more,
#: so that one round's median is not one scheduler hiccup away from another's.
MIN_ROUND_MS = 25.0
#: Rounds, and calls per round at the least, of a timing against a reference (`time_alternating`).
ROUNDS, REPEATS = 8, 10


def _calls_per_round(calls, repeats: int, min_round_ms: float) -> int:
    """`repeats`, or more when a call is so fast that `repeats` of them last under
    `min_round_ms`."""
    slowest = max(min(_timed(call, 3)) for call in calls)
    return max(repeats, min(2000, int(math.ceil(min_round_ms / max(slowest, 1e-6)))))


def time_calls(
    call, *, warmup: int = 5, repeats: int = 30, rounds: int = 1, min_round_ms: float = 0.0
) -> Timing:
    """Call `call()` `warmup` times untimed, then `rounds` × `repeats` times timed (wall clock,
    ms)."""
    for _ in range(warmup):
        call()
    if min_round_ms:
        repeats = _calls_per_round([call], repeats, min_round_ms)
    return Timing(tuple(_timed(call, repeats) for _ in range(rounds)))


def time_alternating(
    candidate,
    reference,
    *,
    warmup: int = 5,
    repeats: int = REPEATS,
    rounds: int = ROUNDS,
    min_round_ms: float = MIN_ROUND_MS,
) -> Comparison:
    """Time two calls in alternation: `rounds` rounds of at least `repeats` calls each (more for
    calls faster than `min_round_ms` / `repeats`), the order reversed every round (A B, B A, …) so
    that a machine getting faster or slower hits both alike."""
    for _ in range(warmup):
        candidate()
        reference()
    if min_round_ms:
        repeats = _calls_per_round([candidate, reference], repeats, min_round_ms)
    mine, theirs = [], []
    for r in range(rounds):
        if r % 2 == 0:
            theirs.append(_timed(reference, repeats))
            mine.append(_timed(candidate, repeats))
        else:
            mine.append(_timed(candidate, repeats))
            theirs.append(_timed(reference, repeats))
    return Comparison(Timing(tuple(mine)), Timing(tuple(theirs)))


def _timed(call, repeats: int) -> tuple:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000.0)
    return tuple(samples)
