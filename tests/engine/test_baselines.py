"""Tests for prune_core.engine.baselines: a baseline is trained once, then reused."""

import numpy as np

from prune_core.data import datasets as data
from prune_core.engine import baselines
from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY


def test_baseline_is_trained_once_then_reused(tmp_path):
    spec = RunSpec.of(**TINY, strategy="magnitude", sparsity=0.5)
    dataset = data.load(spec.baseline.dataset, spec.baseline.image_size, spec.training.seed)
    first, info1 = baselines.get(spec, dataset, root=tmp_path)
    second, info2 = baselines.get(
        spec.with_(strategy="fisher", sparsity=0.9), dataset, root=tmp_path
    )
    assert info1["cached"] is False and info2["cached"] is True
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    other, info3 = baselines.get(
        spec.with_(seed=1),
        data.load(spec.baseline.dataset, spec.baseline.image_size, 1),
        root=tmp_path,
    )
    assert info3["cached"] is False
    assert len(list((tmp_path / "baselines").glob("*.keras"))) == 2


def _moving_means(model):
    return np.concatenate(
        [layer.moving_mean.numpy() for layer in model.layers if hasattr(layer, "moving_mean")]
    )


def test_trained_baseline_has_statistics_of_unaugmented_images(tiny_data, monkeypatch):
    # A pruned run re-estimates BatchNorm on un-augmented training images; the dense baseline must
    # carry the same statistics, or "pruned vs dense" flatters pruning. Re-estimating once more
    # then moves them only by what is left of the old ones (0.9³⁰ ≈ 4 %).
    from prune_core.engine.training import recalibrate_batchnorm

    spec = RunSpec.of(**TINY, strategy="magnitude", sparsity=0.5)

    def moved_by_reestimation():
        model, _ = baselines.train(spec, tiny_data)
        before = _moving_means(model)
        recalibrate_batchnorm(model, tiny_data.x_train, seed=spec.training.seed)
        return np.abs(_moving_means(model) - before).max()

    settled = moved_by_reestimation()
    monkeypatch.setattr(baselines, "recalibrate_batchnorm", lambda *a, **k: None)
    as_trained = moved_by_reestimation()
    assert as_trained > 0
    assert settled < 0.1 * as_trained
