"""Tests for prune_core.summaries: value distributions and reading thresholds off them."""

import numpy as np
import pytest

from prune_core.summaries import distribution, fraction_below, threshold_removing


def test_a_distribution_counts_values_and_zeros_over_every_array():
    summary = distribution([np.array([[0.0, 1.0], [2.0, 0.0]]), [-3.0, 4.0]], bins=4, points=5)
    assert summary["count"] == 6 and summary["zeros"] == 2
    # quantiles of the absolute values
    assert summary["quantiles"] == pytest.approx(
        np.quantile([0, 1, 2, 0, 3, 4], [0, 0.25, 0.5, 0.75, 1])
    )
    assert len(summary["hist_counts"]) == 4 and len(summary["hist_edges"]) == 5
    assert sum(summary["hist_counts"]) == 4  # only the positive values
    edges = summary["hist_edges"]
    assert edges[0] == pytest.approx(1.0) and edges[-1] == pytest.approx(4.0)
    ratios = np.diff(np.log(edges))
    assert ratios == pytest.approx(np.full(4, ratios[0]))  # a log scale


def _lognormal_sets(count=20, size=97):
    rng = np.random.default_rng(2)
    return [rng.lognormal(sigma=3.0, size=size) for _ in range(count)]


def test_the_histogram_includes_the_largest_value():
    for values in _lognormal_sets():
        edges = distribution([values], bins=7)["hist_edges"]
        assert edges[-1] >= values.max()


def test_the_histogram_holds_every_positive_value():
    for values in _lognormal_sets():
        summary = distribution([values], bins=7)
        assert summary["hist_edges"][0] <= values.min()
        assert sum(summary["hist_counts"]) == values.size


def test_nothing_to_summarise_gives_empty_quantiles_and_no_histogram():
    for arrays in ([], [np.zeros(0)]):
        assert distribution(arrays) == {"count": 0, "zeros": 0, "quantiles": []}
    only_zeros = distribution([np.zeros(5)])
    assert only_zeros["zeros"] == 5 and "hist_counts" not in only_zeros
    assert only_zeros["quantiles"] == [0.0] * 201


def test_fraction_below_reads_the_share_of_values_under_a_threshold():
    summary = distribution([np.arange(1, 1001, dtype=float)])
    assert fraction_below(summary, 500.5) == pytest.approx(0.5, abs=0.005)
    assert fraction_below(summary, 0.0) == 0.0 and fraction_below(summary, 1e9) == 1.0


def test_threshold_removing_is_the_inverse_of_fraction_below():
    rng = np.random.default_rng(0)
    summary = distribution([rng.lognormal(size=(50, 40)), rng.normal(size=300)])
    for fraction in (0.1, 0.25, 0.5, 0.8, 0.95):
        threshold = threshold_removing(summary, fraction)
        assert fraction_below(summary, threshold) == pytest.approx(fraction, abs=1e-6)


def test_the_threshold_grows_with_the_share_removed():
    summary = distribution([np.random.default_rng(1).exponential(size=1000)])
    thresholds = [threshold_removing(summary, f) for f in np.linspace(0, 1, 11)]
    assert thresholds == sorted(thresholds)
    assert thresholds[0] == summary["quantiles"][0] and thresholds[-1] == summary["quantiles"][-1]


def test_without_quantiles_nothing_is_below_and_there_is_no_threshold():
    for summary in ({}, {"quantiles": []}, distribution([])):
        assert fraction_below(summary, 1.0) == 0.0
        assert threshold_removing(summary, 0.5) is None


def test_a_distribution_matches_numpys_quantiles_and_histogram_at_each_precision():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        arrays = [rng.normal(size=(30, 7)).astype(dtype), rng.lognormal(size=501).astype(dtype)]
        arrays[0][rng.random((30, 7)) < 0.4] = 0
        kept = [a.copy() for a in arrays]
        summary = distribution(arrays, bins=9, points=33)
        values = np.abs(np.concatenate([a.ravel() for a in kept]).astype(np.float64))
        assert summary["quantiles"] == pytest.approx(
            np.quantile(values, np.linspace(0, 1, 33)), rel=1e-12
        )
        counts, _ = np.histogram(values[values > 0], bins=np.asarray(summary["hist_edges"]))
        assert summary["hist_counts"] == counts.tolist()
        assert summary["zeros"] == int((values == 0).sum())
        for before, after in zip(kept, arrays):  # the inputs are left as they were
            np.testing.assert_array_equal(before, after)


def test_nan_values_are_not_counted_as_positive():
    summary = distribution([np.array([0.0, np.nan, 2.0, -1.0])], bins=2, points=3)
    assert summary["count"] == 4 and sum(summary["hist_counts"]) == 2
    assert summary["hist_edges"][0] == 1.0 and summary["hist_edges"][-1] == pytest.approx(2.0)


def test_a_models_variables_are_summarised_as_their_values():
    """The run's weight histograms read each variable straight into the one sorted copy (a list
    of every kernel's numpy copy first was a model's worth of memory beside it)."""
    from prune_core.engine.keras_env import tf

    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s).astype(np.float32) for s in ((3, 3, 4, 8), (16, 5), ())]
    arrays[0][0] = 0.0
    variables = [tf.Variable(a) for a in arrays]
    assert distribution(variables) == distribution(arrays)
    assert distribution(variables)["count"] == sum(a.size for a in arrays)
    assert distribution([[0.0, 2.0, -3.0]])["zeros"] == 1  # plain lists still do
