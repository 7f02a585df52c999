"""Sparsity patterns: N:M masks equal tfmot's, blocks go together, bad patterns are refused."""
import numpy as np
import pytest

from prune_core.recipe import patterns
from prune_core.engine import selection
from prune_core.errors import SpecError
from prune_core.recipe.patterns import Pattern
from prune_core.recipe.spec import RunSpec


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
    assert patterns.nm_violations(dense, 2, 4) == 8  # 4 outputs × 2 groups of 4 inputs, none has a zero


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
    kept_means = np.concatenate([patterns.block_scores(s, pattern)[0][b == 1] for s, b in zip(scores, blocks)])
    gone_means = np.concatenate([patterns.block_scores(s, pattern)[0][b == 0] for s, b in zip(scores, blocks)])
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


@pytest.mark.parametrize("text,fragment", [
    ("3:2", "0 < N < M"), ("0:4", "0 < N < M"), ("block:1x1", "unstructured"), ("block:0x4", "1 ≤ H, W"),
    ("2x4", "unknown pattern"), ("2:4:8", "unknown pattern"),
])
def test_bad_patterns_are_refused(text, fragment):
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(")):
        Pattern.parse(text)


@pytest.mark.parametrize("flat,fragment", [
    (dict(pattern="2:4", granularity="structured"), "structured pruning removes whole channels"),
    (dict(pattern="1:4", sparsity=0.5), "set the sparsity to 0.25"),
    (dict(pattern="2:4", threshold=0.1, sparsity=None), "instead of a threshold"),
    (dict(pattern="2:4", scope="global"), "layerwise scope"),
    (dict(pattern="2:4", schedule="constant", begin_step=0, end_step=10, frequency=5), None),
    (dict(pattern="2:4", strategy="tfmot"), "tfmot's recipe here prunes without a pattern"),
    (dict(pattern="2:4", schedule="polynomial", end_step=100), "one-shot or constant"),
    (dict(regrow="rigl", schedule="polynomial", end_step=100), "one-shot schedule"),
    (dict(regrow="rigl", threshold=0.1, sparsity=None), "not a threshold"),
    (dict(regrow="rigl", pattern="2:4"), "no pattern"),
    (dict(regrow="rigl", regrow_fraction=1.0), "regrow fraction must be in (0, 1)"),
    (dict(regrow="rigl", regrow_every=0), "regrow every must be an integer"),
])
def test_pattern_and_regrowth_recipes_are_checked(flat, fragment):
    if fragment is None:
        assert RunSpec.of(**flat).pruning.pattern == "2:4"
        return
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        RunSpec.of(**flat)


def test_pattern_is_normalised_labelled_and_round_trips():
    spec = RunSpec.of(pattern=" Block:1X4 ", sparsity=0.8)
    assert spec.pruning.pattern == "block:1x4" and "block:1x4" in spec.label()
    assert RunSpec.from_json(spec.to_json()) == spec and "--pattern block:1x4" in spec.command()
    rigl = RunSpec.of(regrow="rigl", sparsity=0.9)
    assert rigl.label().endswith("+rigl") and RunSpec.from_json(rigl.to_json()) == rigl
    assert RunSpec.of().pruning.pattern == "unstructured" and "pattern" not in RunSpec.of().command()


def test_pattern_runs_hold_their_pattern_after_fine_tuning(tmp_path):
    """2:4 and block:1x4 through the whole pipeline: the saved model's pruned kernels still hold the
    pattern after fine-tuning (every group of 4 has 2 zeros; every 1×4 block is all zero or all kept)."""
    import tensorflow as tf
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils as pu

    from prune_core.engine import criteria, models, pipeline
    from tests.conftest import TINY

    nm = pipeline.run(RunSpec.of(**TINY, strategy="taylor", pattern="2:4"), root=tmp_path,
                      model_path=tmp_path / "nm.keras")
    assert nm.pattern_violations == 0 and nm.row()["pattern"] == "2:4"
    kernels = [t.variable.numpy() for t in criteria.find_targets(models.load_user_model(str(tmp_path / "nm.keras")))]
    assert all(pu.is_pruned_m_by_n(tf.constant(k), (2, 4)) for k in kernels)
    block = Pattern.parse("block:1x4")
    blocked = pipeline.run(RunSpec.of(**TINY, strategy="magnitude", pattern="block:1x4", sparsity=0.75, scope="global"),
                           root=tmp_path, model_path=tmp_path / "block.keras")
    assert blocked.weight_sparsity == pytest.approx(0.75, abs=0.05) and blocked.pattern_violations is None
    for t in criteria.find_targets(models.load_user_model(str(tmp_path / "block.keras"))):
        zeros = patterns.block_scores((t.variable.numpy() == 0).astype(float), block)[0]
        assert set(np.unique(zeros)) <= {0.0, 1.0}, t.name


def test_a_combined_recipe_cuts_channels_then_weights_and_reports_every_stage(tmp_path):
    from prune_core.engine import pipeline
    from prune_core.errors import ResultError
    from prune_core.results.run_result import RunResult
    from prune_core.results.frame import stage_table
    from tests.conftest import TINY

    spec = RunSpec.of(**TINY, strategy="taylor", granularity="structured", scope="global", sparsity=0.3,
                      then_sparsity=0.5, pattern="2:4")
    result = pipeline.run(spec, root=tmp_path)
    names = [s["stage"] for s in result.stages]
    assert names == ["channels cut", "weights pruned 2:4", "fine-tuned"]
    cut, pruned, tuned = result.stages
    assert cut["params"] < result.dense.params and cut["nonzero_params"] > pruned["nonzero_params"]
    assert cut["params"] == pruned["params"] == tuned["params"]  # the weight stage zeroes, it does not cut
    assert result.budget_removed >= 0.3 and result.pattern_violations == 0
    assert [e.achieved for e in result.events] == [pytest.approx(result.budget_removed)]  # one event: the cut
    assert tuned["top1"] == pytest.approx(result.top1)
    table = stage_table(result)
    assert list(table["stage"]) == ["dense", *names] and table["gzip bytes"].iloc[-1] == result.gzip_bytes
    stored = result.to_dict()
    assert RunResult.from_dict(stored).stages == result.stages
    with pytest.raises(ResultError, match="stages"):
        RunResult.from_dict({**stored, "stages": [{"stage": 1}]})
