"""Tests for prune_core.learn.lessons: each claim the Learn page makes is checked on its numbers."""

import numpy as np
import pytest

from prune_core.learn import lessons
from prune_core.results.demo import runs


def test_a_threshold_zeros_exactly_the_weights_below_it_and_the_output_moves_with_it():
    weights, origin = lessons.lesson_weights()
    # the bundled real weights
    assert weights.shape == (16, 16) and "block6b_project_conv" in origin
    x = lessons.sample_input()
    none, half, most = (
        lessons.threshold_cut(weights, t, x)
        for t in (0.0, float(np.median(np.abs(weights))), float(np.quantile(np.abs(weights), 0.9)))
    )
    assert none["sparsity"] == 0 and none["output_change"] == 0
    assert half["sparsity"] == pytest.approx(0.5, abs=1 / 256)
    assert not (half["mask"] & (np.abs(weights) < float(np.median(np.abs(weights))))).any()
    assert 0 < half["output_change"] < most["output_change"]
    np.testing.assert_allclose(half["pruned_output"], x @ (weights * half["mask"]))


def test_the_seeds_fisher_example_removes_theta_2_at_threshold_5():
    seed = lessons.SEED_FISHER
    choice = lessons.fisher_example(seed["w"], seed["fisher"], seed["threshold"])
    assert choice["seed_removes"] == [1]  # eigenvalues 10 and 1: only θ₂ is below 5
    # magnitude chooses differently
    assert choice["saliency_removes"] == 1 and choice["magnitude_removes"] == 0
    np.testing.assert_allclose(choice["loss_if_removed"], [0.5 * 10 * 0.25, 0.5 * 1 * 1.0])
    # the saliency is the loss on the quadratic: evaluate ΔL where each parameter is zeroed
    surface = lessons.loss_surface(seed["w"], seed["fisher"], points=401)
    t1, t2 = surface["theta1"], surface["theta2"]
    i0, j1 = np.abs(t1 - 0).argmin(), np.abs(t2 - seed["w"][1]).argmin()
    assert surface["loss"][j1, i0] == pytest.approx(choice["loss_if_removed"][0], rel=0.02)
    flipped = lessons.fisher_example((2.0, 1.0), (10.0, 1.0), 5.0)
    assert (
        flipped["seed_removes"] == [1]
        and flipped["saliency_removes"] == 1
        and flipped["magnitude_removes"] == 1
    )


def test_channels_leave_a_smaller_dense_matrix_where_single_weights_leave_zeros():
    weights, _ = lessons.lesson_weights()
    cut = lessons.channel_cut(weights, 0.5)
    assert cut["scattered_mask"].shape == (16, 16) and cut["scattered_mask"].mean() == 0.5
    assert cut["smaller"].shape == (16, 8) and cut["smaller_shape"] == (16, 8)
    norms = np.abs(weights).sum(axis=0)
    assert max(norms[cut["dropped_channels"]]) <= min(norms[cut["kept_channels"]])
    np.testing.assert_array_equal(cut["smaller"], weights[:, cut["kept_channels"]])


def test_the_measured_rows_come_from_the_bundled_runs():
    results = list(runs())
    speed = lessons.speed_rows(results)
    kinds = {r["kind"] for r in speed}
    assert kinds == {"whole channels", "single weights"}
    channels = [r for r in speed if r["kind"] == "whole channels"]
    assert all(r["measured on"] == "LiteRT, 1 thread" for r in channels)
    pipeline = lessons.pipeline_rows(results)
    assert pipeline and all(
        r["top1"] >= r["top1_before"] - 0.05 for r in pipeline if r["strategy"] != "random"
    )
    assert {r["strategy"] for r in pipeline} >= {"magnitude", "taylor", "fisher", "random"}
