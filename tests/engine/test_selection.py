"""Tests for prune_core.engine.selection: masks meet their target; lowest scores go first."""

import numpy as np
import pytest

from bench.bench_selection import stable_sort_masks
from prune_core.engine import selection
from prune_core.errors import SpecError


def _scores(seed=0, shapes=((3, 3, 8, 16), (64, 10), (1, 1, 16, 32), (7,))):
    rng = np.random.default_rng(seed)
    return [rng.random(s) for s in shapes]


@pytest.mark.parametrize("sparsity", [0.0, 0.25, 0.5, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("scope", ["layerwise", "global"])
def test_target_sparsity_is_reached_within_half_a_percent(sparsity, scope):
    masks = selection.select(_scores(), sparsity=sparsity, scope=scope)
    assert abs(selection.sparsity_of(masks) - sparsity) <= 0.005
    if scope == "layerwise":
        for m in masks:
            assert (
                abs((m.size - np.count_nonzero(m)) / m.size - sparsity) <= 0.5 / m.size + 1e-9
                or m.sum() == 1
            )


def test_zero_sparsity_keeps_everything():
    for scope in ("layerwise", "global"):
        assert all(m.all() for m in selection.select(_scores(), sparsity=0.0, scope=scope))


def test_lowest_scores_go_first():
    scores = [np.array([0.3, 0.1, 0.9, 0.2])]
    np.testing.assert_array_equal(selection.layerwise(scores, 0.5)[0], [1, 0, 1, 0])


def test_threshold_removes_exactly_what_scores_below_it():
    scores = [np.array([0.5, 0.01, 0.02, 0.009]), np.array([[0.011, 0.0]])]
    masks = selection.threshold(scores, 0.01)
    np.testing.assert_array_equal(masks[0], [1, 1, 1, 0])
    np.testing.assert_array_equal(masks[1], [[1, 0]])
    assert selection.sparsity_of(masks) == pytest.approx(2 / 6)


def test_removed_weights_stay_removed_when_masks_are_recomputed():
    scores = _scores(1)
    first = selection.layerwise(scores, 0.5)
    reshuffled = _scores(2)  # completely different scores next time
    second = selection.layerwise(reshuffled, 0.8, previous=first)
    for a, b in zip(first, second):
        assert not np.any((a == 0) & (b == 1))


def test_global_ranking_never_empties_a_kernel():
    scores = [np.full((4, 4), 1e-9), np.ones((100,))]
    masks = selection.global_(scores, 0.9)
    assert masks[0].sum() >= 1


def test_bad_amounts_are_refused():
    with pytest.raises(SpecError):
        selection.layerwise(_scores(), 1.0)
    with pytest.raises(SpecError):
        selection.threshold(_scores(), float("nan"))
    with pytest.raises(SpecError):
        selection.select(_scores(), sparsity=0.5, scope="row")


def test_one_ranking_serves_every_sparsity_exactly_as_fresh_selections():
    rng = np.random.default_rng(5)
    # ties in the second
    scores = [rng.random((3, 3, 4, 8)), rng.integers(0, 3, (16, 5)).astype(float)]
    ranking = selection.Ranking(scores)
    for sparsity in (0.0, 0.3, 0.9, 0.5):
        for a, b in zip(ranking.global_(sparsity), selection.global_(scores, sparsity)):
            np.testing.assert_array_equal(a, b)
        for i, b in enumerate(selection.layerwise(scores, sparsity)):
            np.testing.assert_array_equal(ranking.layer(i, sparsity), b)
    per_layer = ranking.layerwise([0.2, 0.7])
    assert [1 - m.mean() for m in per_layer] == pytest.approx([0.2, 0.7], abs=0.02)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_masks_are_exactly_a_stable_sorts_with_ties_removed_values_and_nan(dtype):
    """The sorted-values ranking removes exactly what a stable index sort of every score did —
    ties at the cut first by position, kernel after kernel; removed weights (−inf) first; NaN
    last — at every sparsity, in both scopes, fresh and from one Ranking."""
    rng = np.random.default_rng(11)
    shapes = [(3, 3, 4, 6), (40,), (2, 2, 3, 5), (9, 7)]
    for trial in range(4):
        scores = [rng.integers(0, 4, s).astype(dtype) for s in shapes]  # many ties
        if dtype != np.int64 and trial >= 2:
            for s in scores[:2]:
                s.ravel()[rng.choice(s.size, 5, replace=False)] = np.nan
        previous = [(rng.random(s) > 0.3).astype(np.float32) for s in shapes] if trial % 2 else None
        ranking = selection.Ranking(scores, previous)
        for sparsity in (0.0, 0.1, 0.35, 0.5, 0.77, 0.9, 0.99):
            for scope in ("layerwise", "global"):
                want = stable_sort_masks(scores, sparsity, scope, previous)
                got = selection.select(scores, sparsity=sparsity, scope=scope, previous=previous)
                reused = (
                    ranking.global_(sparsity) if scope == "global" else ranking.layerwise(sparsity)
                )
                for w, g, r in zip(want, got, reused, strict=True):
                    np.testing.assert_array_equal(g, w, err_msg=f"{scope} {sparsity} {trial}")
                    np.testing.assert_array_equal(r, w)
                    assert g.dtype == np.float32 and g.shape == w.shape


def test_a_ranking_keeps_one_copy_of_the_scores_at_their_own_precision():
    """float32 scores are ranked as float32 and read in place: the sorted copy is the only copy
    (the full index sort held a float64 copy, its concatenation and an int64 order: ~8×)."""
    scores = [np.random.default_rng(0).random((64, 32), dtype=np.float32) for _ in range(3)]
    ranking = selection.Ranking(scores)
    ranking.global_(0.5)
    assert all(np.shares_memory(f, s) for f, s in zip(ranking.flats, scores))
    assert ranking._global.dtype == np.float32
    assert ranking._global.nbytes == sum(s.nbytes for s in scores)
