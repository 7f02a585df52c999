"""Tests for prune_core.timing: warm-ups, percentiles, bands, alternation, the speedup verdict."""

import pytest

from prune_core.timing import Comparison, Timing, time_alternating, time_calls, verdict


def test_warm_ups_are_not_timed_and_every_repeat_is():
    calls = []
    timing = time_calls(lambda: calls.append(1), warmup=3, repeats=11, rounds=2)
    assert len(calls) == 25 and len(timing.samples_ms) == 22 and len(timing.round_medians) == 2
    assert all(t >= 0 for t in timing.samples_ms)


def test_percentiles_read_single_calls_and_the_band_spans_the_round_medians():
    timing = Timing(((1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0)))
    assert timing.round_medians == (2.0, 5.0, 8.0)
    assert (
        timing.p50 == 5.0 and timing.p90 == pytest.approx(8.2) and timing.p10 == pytest.approx(1.8)
    )
    assert timing.band == (2.0, 8.0)  # lowest and highest round median


def test_alternation_reverses_the_order_every_round():
    order = []
    compared = time_alternating(
        lambda: order.append("A"),
        lambda: order.append("B"),
        warmup=1,
        repeats=2,
        rounds=3,
        min_round_ms=0,
    )
    assert order == ["A", "B"] + ["B", "B", "A", "A"] + ["A", "A", "B", "B"] + ["B", "B", "A", "A"]
    assert len(compared.candidate.round_medians) == len(compared.reference.round_medians) == 3


def test_speedup_is_taken_per_round_and_its_band_decides_the_verdict():
    # the machine slows down between rounds; per round the candidate is always twice as fast
    compared = Comparison(
        candidate=Timing(((1.0,), (2.0,), (4.0,))), reference=Timing(((2.0,), (4.0,), (8.0,)))
    )
    assert compared.ratios == (2.0, 2.0, 2.0) and compared.speedup == 2.0
    assert verdict(*compared.speedup_band) == "faster"
    assert (
        verdict(0.8, 0.95) == "slower"
        and verdict(0.9, 1.2) == "within noise"
        and verdict(None, None) == "within noise"
    )


def test_fast_calls_are_repeated_until_a_round_lasts_long_enough():
    calls = []
    timing = time_calls(lambda: calls.append(1), warmup=1, repeats=5, rounds=2, min_round_ms=1.0)
    per_round = len(timing.rounds_ms[0])
    # an append takes far under 0.2 ms
    assert per_round > 5 and len(timing.rounds_ms[1]) == per_round
