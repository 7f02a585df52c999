"""Tests for prune_core.results.profile: levels checked, round trips, broken files refused."""

import json

import pytest

from prune_core.errors import ResultError, SpecError
from prune_core.results import profile


def test_levels_are_sorted_and_checked():
    assert profile.check_levels([0.5, 0, 0.9]) == (0.0, 0.5, 0.9)
    for bad, words in (
        ([1.0], r"\[0, 1\)"),
        ([-0.1], r"\[0, 1\)"),
        ([0.5, 0.5], "twice"),
        ([i / 100 for i in range(41)], "at most 40"),
        ([], "at least one"),
        (["x"], "numbers"),
    ):
        with pytest.raises(SpecError, match=words):
            profile.check_levels(bad)


def _stored(n_layers=2, levels=(0.0, 0.5), layer_levels=(0.5,)):
    curve = {k: [0.0] * len(levels) for k in profile.CURVE_KEYS}
    curve["sparsity"] = list(levels)
    curve["layer_sparsity"] = [[lv] * n_layers for lv in levels]
    return {
        "schema": 1,
        "baseline": {"key": "k", "model": "tiny-cnn"},
        "levels": list(levels),
        "layer_levels": list(layer_levels),
        "dense": {"top1": 0.9},
        "layers": [[f"conv{i}", 10, 100] for i in range(n_layers)],
        "criteria": {
            "magnitude": {
                "curves": {"global": curve},
                "sensitivity_top1": [[0.9]] * n_layers,
                "sensitivity_loss": [[0.1]] * n_layers,
                "seconds": {"scoring": 1.0},
            }
        },
    }


def test_a_profile_round_trips_through_json():
    stored = _stored()
    loaded = profile.Profile.from_dict(json.loads(json.dumps(stored)))
    assert loaded.to_dict() == stored
    assert profile.at_level(loaded.criteria["magnitude"].curve("global"), "sparsity", 0.25) == 0.25
    assert list(profile.layer_sparsity_at(loaded.criteria["magnitude"].curve("global"), 0.25)) == [
        0.25,
        0.25,
    ]


@pytest.mark.parametrize("breakage", ["short curve", "text", "nan", "rows", "scope", "schema"])
def test_a_broken_profile_is_refused(breakage):
    stored = _stored()
    crit = stored["criteria"]["magnitude"]
    if breakage == "short curve":
        crit["curves"]["global"]["top1"] = [0.9]
    elif breakage == "text":
        crit["curves"]["global"]["top1"] = ["a", "b"]
    elif breakage == "nan":
        crit["sensitivity_loss"] = [[float("nan")], [0.1]]
    elif breakage == "rows":
        crit["sensitivity_top1"] = [[0.9]]
    elif breakage == "scope":
        crit["curves"]["everywhere"] = crit["curves"]["global"]
    else:
        stored["schema"] = 7
    with pytest.raises(ResultError):
        profile.Profile.from_dict(stored)
