from prune_core.timing import Timing, time_calls


def test_warm_ups_are_not_timed_and_every_repeat_is():
    calls = []
    timing = time_calls(lambda: calls.append(1), warmup=3, repeats=11)
    assert len(calls) == 14 and len(timing.samples_ms) == 11
    assert all(t >= 0 for t in timing.samples_ms)


def test_percentiles_read_the_distribution():
    timing = Timing(tuple(float(v) for v in range(1, 12)))  # 1 … 11 ms
    assert (timing.p10, timing.p50, timing.p90) == (2.0, 6.0, 10.0)
