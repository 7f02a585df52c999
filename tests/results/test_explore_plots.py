"""Tests for prune_core.results.explore_plots: the Explore page's figures from stored profiles."""

import pytest

from prune_core.results import demo, explore, explore_plots
from prune_core.results.plots import COLOURS


@pytest.fixture(scope="module")
def profile():
    return demo.profile()


def test_one_line_per_criterion_and_scope_with_one_legend_entry_per_criterion(profile):
    curves, points = explore.curves(profile), explore.points_at(profile, 0.5)
    fig = explore_plots.explore_curves(curves, points, "sparsity", dense=profile.dense)
    lines = [t for t in fig.data if t.mode == "lines" and t.legendgroup != "styles"]
    assert len(lines) == len(curves.groupby(["criterion", "scope"]))
    shown = [t.name for t in lines if t.showlegend]
    assert sorted(shown) == sorted(profile.criteria)  # a legend entry per colour...
    styles = {t.line.dash: t.name for t in fig.data if t.legendgroup == "styles"}
    assert styles == {  # ...and one per line style, saying what it means
        "solid": "solid: automatic per layer",
        "dot": "dotted: global ranking",
        "dash": "dashed: uniform (layerwise)",
    }
    taylor = next(t for t in lines if t.name == "taylor" and t.line.dash == "dot")  # global
    assert taylor.line.color == COLOURS["taylor"]
    marked = next(t for t in fig.data if t.name == "at the slider")  # too many to label
    assert len(marked.x) == len(points) and set(marked.x) == {0.5} and marked.text is None
    assert any(s["y0"] == profile.dense["top1"] for s in fig.layout.shapes)  # the dense line


def test_rows_without_the_chosen_axis_are_left_out(profile):
    curves, points = explore.curves(profile), explore.points_at(profile, 0.5)
    fig = explore_plots.explore_curves(curves, points, "no such column")
    assert [t for t in fig.data if t.mode == "lines"] == []


def test_the_heatmap_has_a_row_per_layer_and_the_allocation_a_bar_per_scope(profile):
    frame = explore.sensitivity_frame(profile, "taylor")
    heat = explore_plots.sensitivity_heatmap(frame).data[0]
    assert len(heat.y) == frame["layer"].nunique() == len(profile.layers)
    assert len(heat.z[0]) == frame["level"].nunique()  # a column per sensitivity level
    table = explore.layer_table(profile, "taylor", 0.8)
    bars = explore_plots.allocation_bars(table)
    scopes = [s for s in ("layerwise", "global", "auto") if s in table and table[s].notna().any()]
    assert len(bars.data) == len(scopes) >= 2
    assert all(len(bar.x) == len(table) for bar in bars.data)


def test_a_few_slider_points_are_labelled_with_their_ranking_and_accuracy(profile):
    curves, points = explore.curves(profile), explore.points_at(profile, 0.5)
    one = points[points["criterion"] == "taylor"]
    fig = explore_plots.explore_curves(
        curves[curves["criterion"] == "taylor"], one, "sparsity", dense=profile.dense
    )
    marked = next(t for t in fig.data if t.name == "at the slider (labelled)")
    top1 = dict(zip(one["scope"], one["top1"]))
    assert sorted(marked.text) == sorted(
        f"{explore_plots.STYLE_LABELS[s]}: {v:.1%}" for s, v in top1.items()
    )
