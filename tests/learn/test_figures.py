"""Tests for prune_core.learn.figures: the Learn page's figures show the lessons' numbers."""

import numpy as np
import pytest

from prune_core.learn import figures, lessons
from prune_core.results import demo
from prune_core.results.plots import COLOURS


@pytest.fixture(scope="module")
def weights():
    return lessons.lesson_weights()[0]


def _lines(fig):
    """(horizontal y positions, vertical x positions) of a figure's outline shapes."""
    shapes = fig.layout.shapes
    return (
        sorted(s.y0 for s in shapes if s.y0 == s.y1),
        sorted(s.x0 for s in shapes if s.x0 == s.x1),
    )


def test_the_weights_heatmap_blanks_exactly_the_removed_weights(weights):
    threshold = float(np.median(np.abs(weights)))
    cut = lessons.threshold_cut(weights, threshold, lessons.sample_input())
    heat = figures.weights_heatmap(weights, cut["mask"], "kept").data[0]
    z = np.array(heat.z, dtype=float)  # None (blank) becomes nan
    np.testing.assert_array_equal(np.isnan(z), ~cut["mask"])
    np.testing.assert_allclose(z[cut["mask"]], weights[cut["mask"]])
    # one colour scale centred on zero, wide enough for every weight
    limit = np.abs(weights).max()
    assert (heat.zmid, heat.zmin, heat.zmax) == (0, -limit, limit)


def test_the_outputs_figure_shows_the_dense_and_the_pruned_outputs(weights):
    x = lessons.sample_input()
    cut = lessons.threshold_cut(weights, 0.05, x)
    dense, pruned = figures.outputs(cut["dense_output"], cut["pruned_output"]).data
    assert (dense.name, pruned.name) == ("dense", "pruned")
    np.testing.assert_allclose(dense.y, x @ weights)
    np.testing.assert_allclose(pruned.y, x @ (weights * cut["mask"]))
    assert list(dense.x) == list(range(16))


@pytest.mark.parametrize(
    "text, horizontal, vertical",
    [
        ("2:4", [3.5, 7.5, 11.5], []),  # groups of 4 inputs down each output column
        ("block:2x4", [y - 0.5 for y in range(2, 16, 2)], [3.5, 7.5, 11.5]),
        ("unstructured", [], []),
    ],
)
def test_a_pattern_heatmap_outlines_the_groups_removed_together(
    weights, text, horizontal, vertical
):
    cut = lessons.pattern_cut(weights, text)
    fig = figures.pattern_heatmap(weights, cut)
    assert _lines(fig) == (horizontal, vertical)
    assert fig.layout.title.text == f"{text}: 50% removed"
    z = np.array(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(np.isnan(z), ~cut["keep"])


def test_the_loss_contours_mark_the_trained_weights_and_both_removals():
    seed = lessons.SEED_FISHER
    choice = lessons.fisher_example(seed["w"], seed["fisher"], seed["threshold"])
    surface = lessons.loss_surface(seed["w"], seed["fisher"])
    contour, trained, drop_1, drop_2 = figures.loss_contours(surface, seed["w"], choice).data
    assert contour.type == "contour"
    np.testing.assert_allclose(np.array(contour.z), surface["loss"])
    assert (trained.x[0], trained.y[0]) == seed["w"]
    assert (drop_1.x[0], drop_1.y[0]) == (0.0, 1.0) and (drop_2.x[0], drop_2.y[0]) == (0.5, 0.0)
    # the seed's example: removing θ₁ costs ½·10·0.5² = 1.25, removing θ₂ ½·1·1² = 0.5
    assert drop_1.name == "θ₁ removed: loss +1.25" and drop_2.name == "θ₂ removed: loss +0.5"


def test_channel_pictures_show_the_same_shape_beside_a_narrower_dense_matrix(weights):
    cut = lessons.channel_cut(weights, 0.25)
    fig = figures.channel_pictures(weights, cut)
    scattered, smaller = fig.data
    assert np.array(scattered.z, dtype=float).shape == (16, 16)
    assert np.isnan(np.array(scattered.z, dtype=float)).sum() == 64  # a quarter of 256 weights
    assert np.array(smaller.z, dtype=float).shape == (16, 12)
    assert not np.isnan(np.array(smaller.z, dtype=float)).any()
    assert list(smaller.x) == [str(c) for c in cut["kept_channels"]]
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["single weights: 16×16, zeros scattered", "whole channels: 16×12, dense"]


def _row(strategy, amount, before, after, dense=0.9):
    return dict(strategy=strategy, amount=amount, top1_before=before, top1=after, dense=dense)


def test_before_after_draws_one_shot_and_fine_tuned_curves_per_strategy_in_order():
    rows = [
        _row("taylor", 0.8, 0.3, 0.85),
        _row("magnitude", 0.5, 0.6, 0.88),
        _row("taylor", 0.5, 0.7, 0.89),
    ]
    fig = figures.before_after(rows)
    names = [t.name for t in fig.data]
    assert names == [
        "magnitude · before fine-tuning",
        "magnitude · after fine-tuning",
        "taylor · before fine-tuning",
        "taylor · after fine-tuning",
    ]
    before, after = fig.data[2], fig.data[3]
    assert list(before.x) == [0.5, 0.8] and list(before.y) == [0.7, 0.3]
    assert list(after.y) == [0.89, 0.85]
    assert (before.line.dash, after.line.dash) == ("dot", "solid")
    assert before.line.color == after.line.color == COLOURS["taylor"]
    [dense] = fig.layout.shapes
    assert dense.y0 == dense.y1 == 0.9


def test_before_after_without_a_dense_baseline_draws_no_line():
    fig = figures.before_after([_row("magnitude", 0.5, 0.6, 0.88, dense=None)])
    assert len(fig.data) == 2 and fig.layout.shapes == ()
    assert figures.before_after([]).data == ()


def test_before_after_from_the_bundled_runs_has_a_point_per_run():
    rows = lessons.pipeline_rows(demo.runs())
    fig = figures.before_after(rows)
    assert sum(len(t.x) for t in fig.data) == 2 * len(rows) > 0
