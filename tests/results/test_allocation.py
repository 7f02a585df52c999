"""Tests for prune_core.results.allocation: the budget is met, spent where removal is cheap."""

import numpy as np
import pytest

from prune_core.errors import SpecError
from prune_core.results import allocation

LEVELS = (0.25, 0.5, 0.75, 0.9, 0.95, 0.98)


def test_the_budget_is_met_exactly_and_no_layer_is_emptied():
    sizes = [1000, 200, 5000, 50]
    rng = np.random.default_rng(0)
    costs = np.sort(rng.random((4, len(LEVELS))), axis=1)
    for target in (0.0, 0.3, 0.8, 0.95, 0.98):
        result = allocation.allocate(sizes, LEVELS, costs, target)
        removed = float(np.dot(result.sparsities, sizes)) / sum(sizes)
        assert removed == pytest.approx(target, abs=1e-9)
        assert (result.sparsities <= allocation.MAX_SPARSITY + 1e-12).all() and (
            result.sparsities >= 0
        ).all()


def test_a_layer_whose_removal_costs_nothing_goes_first():
    # layer 0 is free to prune up to 0.9, layer 1 hurts from the first level on
    costs = [[0, 0, 0, 0, 0.5, 2.0], [0.4, 1.0, 2.0, 3.0, 4.0, 5.0]]
    result = allocation.allocate([100, 100], LEVELS, costs, 0.45)
    assert result.sparsities[0] == pytest.approx(0.9) and result.sparsities[1] == pytest.approx(0.0)
    assert result.predicted_loss_increase == pytest.approx(0.0)


def test_it_beats_uniform_on_its_own_prediction():
    rng = np.random.default_rng(1)
    sizes = rng.integers(10, 1000, 12)
    costs = np.sort(rng.random((12, len(LEVELS))) * rng.random((12, 1)) * 5, axis=1)
    for target in (0.5, 0.8, 0.9):
        auto = allocation.allocate(sizes, LEVELS, costs, target)
        uniform = allocation.predicted(LEVELS, costs, np.full(12, target))
        assert auto.predicted_loss_increase <= uniform + 1e-9


def test_noisy_curves_are_made_monotone():
    # a measured decrease (noise) is not a reason to prune more
    x, y = allocation._curve(LEVELS, [0.1, 0.05, 0.2, 0.2, 0.3, 0.4], 0.99)
    assert (np.diff(y) >= 0).all() and x[-1] == 0.99


def test_impossible_targets_are_refused():
    with pytest.raises(SpecError, match=r"\[0, 1\), got"):
        allocation.allocate([10], LEVELS, [[0] * 6], 1.0)
    with pytest.raises(SpecError, match="no layer that"):
        allocation.allocate([], LEVELS, [], 0.5)


def test_a_measured_level_zero_is_used_as_is():
    x, y = allocation._curve((0.0, 0.5), [0.0, 1.0], 0.99)
    assert list(x[:2]) == [0.0, 0.5] and y[0] == 0.0
