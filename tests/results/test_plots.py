"""Tests for prune_core.results.plots: latency drawn at its fastest round, up to the slowest."""

from prune_core.results import frame as results
from tests.results.helpers import _df, _tradeoff


def test_litert_latency_is_drawn_at_its_fastest_round_with_the_slowest_above():
    # fixed work that interference only slows: the point sits on the floor, the bar reaches the
    # slowest round
    df = _df(
        [
            {
                "litert_1t_ms_b1_p50": 0.10,
                "litert_1t_ms_b1_lo": 0.09,
                "litert_1t_ms_b1_hi": 0.12,
                "top1": 0.9,
            },
            {
                "litert_1t_ms_b1_p50": 0.07,
                "litert_1t_ms_b1_lo": 0.06,
                "litert_1t_ms_b1_hi": 0.08,
                "top1": 0.8,
            },
        ]
    )
    assert results.band(df, "litert_1t_ms_b1_lo") == ("litert_1t_ms_b1_lo", "litert_1t_ms_b1_hi")
    fig = _tradeoff(df, "litert_1t_ms_b1_lo")
    bars = next(t for t in fig.data if t.name == "taylor · global").error_x
    assert list(bars.arrayminus) == [0.0, 0.0]
    assert sorted(round(v, 3) for v in bars.array) == [0.02, 0.03]
    assert (
        "litert_1t_ms_b1_lo" in results.LATENCY_AXES
        and "litert_1t_ms_b1_p50" not in results.LATENCY_AXES
    )
