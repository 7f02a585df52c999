"""Tests for prune_core.recipe.patterns: N:M masks equal tfmot's, blocks go together."""

import numpy as np
import pytest

from prune_core.engine import selection
from prune_core.errors import SpecError
from prune_core.recipe import patterns
from prune_core.recipe.patterns import Pattern


def _tfmot_mask(weights, n, m):
    """tfmot's own m-by-n mask, the way its pruning wrapper builds it (pruning_impl)."""
    import tensorflow as tf
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils as pu

    w = tf.constant(weights, tf.float32)
    mask = pu.generate_m_by_n_mask(pu.weights_rearrange(w), (n, m))
    return pu.m_by_n_sparsity_mask_prepare(mask, w.shape).numpy()


@pytest.mark.parametrize("shape", [(3, 3, 8, 16), (20, 6), (1, 1, 10, 5), (3, 3, 16, 1)])
@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (4, 8)])
def test_magnitude_nm_masks_equal_tfmots(shape, n, m):
    import tensorflow as tf
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils as pu

    weights = np.random.default_rng(sum(shape) + n).normal(size=shape).astype(np.float32)
    ours = selection.select([np.abs(weights)], sparsity=n / m, pattern=Pattern.parse(f"{n}:{m}"))[0]
    np.testing.assert_array_equal(ours, _tfmot_mask(weights, n, m))
    assert pu.is_pruned_m_by_n(tf.constant(weights * ours), (n, m))
    assert patterns.nm_violations(weights * ours, n, m) == 0
    if shape[-2] % m == 0:  # whole groups: exactly N/M of the weights go
        assert 1 - ours.mean() == pytest.approx(n / m)


def test_nm_keeps_earlier_removals_and_counts_violations():
    scores = np.arange(32, dtype=float).reshape(1, 1, 8, 4)
    previous = np.ones_like(scores)
    previous[0, 0, 7, 0] = 0.0  # the best-scored weight of one group was removed earlier
    mask = patterns.nm_mask(scores, 2, 4, previous)
    assert mask[0, 0, 7, 0] == 0 and patterns.nm_violations(scores * mask, 2, 4) == 0
    dense = np.ones((1, 1, 8, 4))
    # 4 outputs × 2 groups of 4 inputs, none has a zero
    assert patterns.nm_violations(dense, 2, 4) == 8


@pytest.mark.parametrize("text", ["block:1x4", "block:4x1", "block:2x2"])
def test_blocks_go_together_and_are_ranked_by_their_mean(text):
    pattern = Pattern.parse(text)
    rng = np.random.default_rng(0)
    scores = [rng.random((3, 3, 8, 16)), rng.random((64, 10))]
    masks = selection.select(scores, sparsity=0.5, scope="global", pattern=pattern)
    blocks = [patterns.block_scores(m, pattern)[0] for m in masks]
    for mask, means in zip(masks, blocks):  # every block is all kept or all removed
        assert mask.shape in {s.shape for s in scores}
        assert set(np.unique(means)) <= {0.0, 1.0}
    kept_means = np.concatenate(
        [patterns.block_scores(s, pattern)[0][b == 1] for s, b in zip(scores, blocks)]
    )
    gone_means = np.concatenate(
        [patterns.block_scores(s, pattern)[0][b == 0] for s, b in zip(scores, blocks)]
    )
    assert kept_means.min() >= gone_means.max()  # one global ranking of block means
    assert 1 - np.mean(np.concatenate([m.ravel() for m in masks])) == pytest.approx(0.5, abs=0.03)


def test_block_threshold_and_earlier_removals():
    pattern = Pattern.parse("block:1x4")
    scores = np.tile(np.array([[0.1] * 4 + [0.9] * 4]), (2, 1))  # 2 rows, two 1×4 blocks each
    mask = selection.select([scores], threshold_value=0.5, pattern=pattern)[0]
    np.testing.assert_array_equal(mask, [[0] * 4 + [1] * 4] * 2)
    previous = np.ones_like(scores)
    previous[0, 4:] = 0  # a high-scoring block removed earlier stays removed
    again = selection.select([scores], sparsity=0.25, pattern=pattern, previous=[previous])[0]
    assert again[0, 4:].sum() == 0 and again.sum() == 12


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("3:2", "0 < N < M"),
        ("0:4", "0 < N < M"),
        ("block:1x1", "unstructured"),
        ("block:0x4", "1 ≤ H, W"),
        ("2x4", "unknown pattern"),
        ("2:4:8", "unknown pattern"),
    ],
)
def test_bad_patterns_are_refused(text, fragment):
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(")):
        Pattern.parse(text)
