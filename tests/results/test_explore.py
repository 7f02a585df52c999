"""Tests for prune_core.results.explore: the Explore page's tables read off stored profiles."""

import dataclasses

import numpy as np
import pytest

from prune_core.results import demo, explore
from prune_core.results.profile import SCOPES, Profile
from tests.results.test_profile import _stored


@pytest.fixture(scope="module")
def profile():
    """The bundled five-criterion profile: 12 levels, 3 scopes, 41 layers, both channel curves."""
    return demo.profile()


def _only(profile, *names):
    return dataclasses.replace(profile, criteria={n: profile.criteria[n] for n in names})


def test_merging_profiles_joins_their_criteria_and_later_ones_win(profile):
    assert explore.merge([]) is None
    one = _only(profile, "magnitude")
    assert explore.merge([one]) is one
    merged = explore.merge([one, _only(profile, "taylor", "fisher")])
    assert list(merged.criteria) == ["magnitude", "taylor", "fisher"]
    again = dataclasses.replace(profile.criteria["magnitude"], seconds={"scoring": -1.0})
    later = dataclasses.replace(one, criteria={"magnitude": again})
    assert explore.merge([one, later]).criteria["magnitude"] is again


def test_profiles_of_different_baselines_do_not_merge(profile):
    other = dataclasses.replace(profile, baseline={**profile.baseline, "key": "another"})
    with pytest.raises(ValueError, match="do not merge"):
        explore.merge([profile, other])


def test_curves_have_a_row_per_criterion_scope_and_level(profile):
    table = explore.curves(profile)
    assert len(table) == len(profile.criteria) * len(SCOPES) * len(profile.levels)
    row = table[(table.criterion == "taylor") & (table.scope == "global") & (table.level == 0.5)]
    curve = profile.criteria["taylor"].curve("global")
    i = curve["level"].index(0.5)
    assert row.iloc[0]["top1"] == curve["top1_bn"][i] and row.iloc[0]["loss"] == curve["loss_bn"][i]
    as_pruned = explore.curves(profile, batchnorm=False)
    row = as_pruned[(as_pruned.criterion == "taylor") & (as_pruned.scope == "global")]
    assert row["top1"].tolist() == curve["top1"]


def test_points_at_a_measured_level_are_the_curves_values_and_between_levels_in_between(profile):
    at = explore.points_at(profile, 0.5)
    assert len(at) == len(profile.criteria) * len(SCOPES) and set(at.sparsity) == {0.5}
    curve = profile.criteria["magnitude"].curve("layerwise")
    i = curve["level"].index(0.5)
    row = at[(at.criterion == "magnitude") & (at.scope == "layerwise")].iloc[0]
    assert row["top1"] == pytest.approx(curve["top1_bn"][i])
    assert row["nonzero_params"] == pytest.approx(curve["nonzero_params"][i])
    between = explore.points_at(profile, 0.55, batchnorm=False)
    row = between[(between.criterion == "magnitude") & (between.scope == "layerwise")].iloc[0]
    low, high = sorted(curve["top1"][i : i + 2])
    assert low <= row["top1"] <= high


def test_a_scope_not_measured_gives_no_points():
    only_global = Profile.from_dict(_stored())
    at = explore.points_at(only_global, 0.25)
    assert at["scope"].tolist() == ["global"] and at["top1"].tolist() == [0.0]
    assert explore.structured_curves(only_global).empty
    assert explore.structured_points_at(only_global, 0.2).empty
    assert explore.dense_latency(only_global) is None


def test_drops_are_against_the_dense_baseline(profile):
    loss_increase, top1_drop = explore.drops(profile, "wanda")
    measured = profile.criteria["wanda"]
    shape = (len(profile.layers), len(profile.layer_levels))
    assert loss_increase.shape == top1_drop.shape == shape
    assert top1_drop[3][2] == pytest.approx(profile.dense["top1"] - measured.sensitivity_top1[3][2])
    assert loss_increase[3][2] == pytest.approx(
        measured.sensitivity_loss[3][2] - profile.dense["loss"]
    )


def test_the_layer_table_gives_each_scopes_sparsity_per_layer(profile):
    table = explore.layer_table(profile, "taylor", 0.6)
    assert table["layer"].tolist() == [layer.name for layer in profile.layers]
    assert (table["layerwise"] == 0.6).all()
    params = table["params"].to_numpy(float)
    # the automatic and the global shares remove the same overall share, layer by layer differently
    for scope in ("auto", "global"):
        assert np.average(table[scope], weights=params) == pytest.approx(0.6, abs=0.02), scope
    assert table["auto"].std() > 0
    automatic = explore.allocation_for(profile, "taylor", 0.6)
    np.testing.assert_allclose(table["auto"], automatic.sparsities)
    given = dataclasses.replace(automatic, sparsities=np.zeros(len(profile.layers)))
    assert (explore.layer_table(profile, "taylor", 0.6, given)["auto"] == 0).all()


def test_the_sensitivity_frame_is_the_drops_in_long_form(profile):
    frame = explore.sensitivity_frame(profile, "fisher")
    assert len(frame) == len(profile.layers) * len(profile.layer_levels)
    loss_increase, top1_drop = explore.drops(profile, "fisher")
    np.testing.assert_allclose(frame["top1_drop"], top1_drop.ravel())
    np.testing.assert_allclose(frame["loss_increase"], loss_increase.ravel())
    assert frame["level"].tolist()[: len(profile.layer_levels)] == list(profile.layer_levels)


def test_channel_curves_and_their_points(profile):
    table = explore.structured_curves(profile)
    curve = profile.criteria["magnitude"].curve("structured")
    auto = profile.criteria["magnitude"].curve("structured_auto")
    # the bundled profile has both channel curves: one global ranking, the automatic allocation
    assert set(table.scope) == {"channels", "channels_auto"}
    assert (table.scope == "channels").sum() == len(profile.criteria) * len(curve["level"])
    assert (table.scope == "channels_auto").sum() == len(profile.criteria) * len(auto["level"])
    at = explore.structured_points_at(profile, curve["budget_removed"][2])
    row = at[at.criterion == "magnitude"].iloc[0]
    assert row["top1"] == pytest.approx(curve["top1"][2])
    assert row["litert_ms_predicted"] == pytest.approx(curve["litert_ms_predicted"][2])
    # past the deepest cut measured: nothing is extrapolated
    assert explore.structured_points_at(profile, max(curve["budget_removed"]) + 0.05).empty


def test_the_dense_latency_is_where_the_channel_curves_start(profile):
    first = profile.criteria[next(iter(profile.criteria))].curve("structured")
    assert explore.dense_latency(profile) == first["litert_ms_predicted"][0]


def test_every_scope_has_a_label():
    assert set(explore.SCOPE_LABELS) == set(SCOPES)


def test_the_automatic_channel_curve_is_shown_beside_the_global_one(profile):
    measured = profile.criteria["magnitude"]
    curve = measured.curve("structured")
    auto = {**curve, "top1": [min(1.0, t + 0.01) for t in curve["top1"]]}
    both = _only(
        dataclasses.replace(
            profile,
            criteria={
                **profile.criteria,
                "magnitude": dataclasses.replace(
                    measured, curves={**measured.curves, "structured_auto": auto}
                ),
            },
        ),
        "magnitude",
    )
    table = explore.structured_curves(both)
    assert table.groupby("scope").size().to_dict() == {
        "channels": len(curve["level"]),
        "channels_auto": len(curve["level"]),
    }
    at = explore.structured_points_at(both, curve["budget_removed"][2]).set_index("scope")
    assert at.loc["channels_auto", "top1"] == pytest.approx(auto["top1"][2])
    assert set(explore.CHANNEL_LABELS) == set(explore.CHANNEL_RECIPE_SCOPES) == set(table.scope)
