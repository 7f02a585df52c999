"""Tests for prune_core.engine.profiler: profiles as Explore and --scope auto read them."""

import json

import numpy as np
import pytest

from prune_core.engine import pipeline, profiler
from prune_core.errors import Canceled
from prune_core.recipe.spec import RunSpec
from prune_core.results import explore
from prune_core.results.profile import Profile
from tests.conftest import TINY, tiny_with_file

LEVELS = (0.0, 0.3, 0.6, 0.9)
LAYER_LEVELS = (0.0, 0.5, 0.9)


@pytest.fixture(scope="module")
def measured(prune_home):
    spec = RunSpec.of(**TINY)
    events = []
    result = profiler.run(
        spec,
        ["magnitude", "taylor"],
        levels=LEVELS,
        layer_levels=LAYER_LEVELS,
        on_progress=events.append,
    )
    return spec, result, events


def test_level_zero_is_the_dense_model_and_each_level_is_its_sparsity(measured):
    spec, result, events = measured
    dense = result.dense
    for name in ("magnitude", "taylor"):
        for scope in ("layerwise", "global", "auto"):
            curve = result.criteria[name].curve(scope)
            assert curve["top1"][0] == dense["top1"] and curve["loss"][0] == pytest.approx(
                dense["loss"]
            )
            assert curve["nonzero_params"][0] == dense["nonzero_params"]
            # the sparsity at each level is the level, to one weight per layer
            tolerance = len(result.layers) / sum(layer.params for layer in result.layers)
            assert np.allclose(curve["sparsity"], LEVELS, atol=tolerance), (
                name,
                scope,
                curve["sparsity"],
            )
            assert all(a >= b for a, b in zip(curve["nonzero_params"], curve["nonzero_params"][1:]))
            assert all(a >= b for a, b in zip(curve["gzip_bytes"][:1], curve["gzip_bytes"][-1:]))
    assert {e.phase for e in events} >= {"profiling"}
    assert events[-1].step == events[-1].steps  # the progress count is honest


def test_a_layer_pruned_at_zero_has_no_drop_and_layers_are_described(measured):
    _, result, _ = measured
    for name in ("magnitude", "taylor"):
        loss_increase, top1_drop = explore.drops(result, name)
        assert np.allclose(loss_increase[:, 0], 0.0, atol=1e-6) and np.allclose(
            top1_drop[:, 0], 0.0
        )
    assert all(layer.params > 0 and layer.flops > 0 for layer in result.layers)


def test_the_profile_is_cached_and_reloaded_without_measuring(measured, monkeypatch):
    spec, result, _ = measured
    monkeypatch.setattr(profiler.Profiler, "criterion", lambda *a: pytest.fail("measured again"))
    again = profiler.run(spec, ["taylor"], levels=LEVELS, layer_levels=LAYER_LEVELS)
    assert again.criteria["taylor"] == result.criteria["taylor"]
    assert Profile.from_dict(json.loads(json.dumps(again.to_dict()))).to_dict() == again.to_dict()


def test_a_profile_can_be_canceled(prune_home):
    spec = RunSpec.of(**TINY)
    asked = {"n": 0}

    def should_cancel():
        asked["n"] += 1
        return asked["n"] > 3

    with pytest.raises(Canceled):
        profiler.run(
            spec, ["fisher"], levels=LEVELS, layer_levels=LAYER_LEVELS, should_cancel=should_cancel
        )
    # nothing half-written is cached
    assert not list((prune_home / "profiles").rglob("fisher-*.json"))


def test_scope_auto_prunes_each_layer_as_the_allocation_says(measured, monkeypatch):
    spec, _, _ = measured
    run = pipeline.run(
        spec.with_(strategy="magnitude", sparsity=0.6, scope="auto", fine_tune_epochs=1)
    )
    assert run.weight_sparsity == pytest.approx(0.6, abs=0.01)
    # the run measured (and cached) the default profile; reading it again measures nothing
    monkeypatch.setattr(profiler.Profiler, "criterion", lambda *a: pytest.fail("measured again"))
    profile = profiler.run(spec, ["magnitude"])
    chosen = explore.allocation_for(profile, "magnitude", 0.6).sparsities
    sizes = {layer.name: layer.params for layer in profile.layers}
    for layer, wanted in zip(profile.layers, chosen):
        assert run.layer_sparsity[layer.name] == pytest.approx(wanted, abs=1.0 / sizes[layer.name])
    assert len(set(np.round(chosen, 3))) > 1  # not uniform: the layers' curves differ
    assert RunSpec.from_json(run.spec.to_json()).pruning.scope == "auto"


def test_nothing_prunable_is_one_clear_error(prune_home, tmp_path):
    from prune_core.engine.keras_env import keras
    from prune_core.errors import ModelError

    inputs = keras.Input((16, 16, 3))
    model = keras.Model(
        inputs,
        keras.layers.Dense(3, activation="softmax", name="predictions")(
            keras.layers.Flatten()(inputs)
        ),
    )
    path = tmp_path / "head_only.keras"
    model.save(path)
    with pytest.raises(ModelError, match="no Conv2D or Dense kernel"):
        profiler.run(RunSpec.of(**tiny_with_file(path)), ["magnitude"], levels=LEVELS)


def test_the_structured_curve_removes_more_flops_at_every_level(measured):
    _, result, _ = measured
    curve = result.criteria["taylor"].curve("structured")
    assert curve["level"][0] == 0 and curve["top1"][0] == result.dense["top1"]
    assert curve["flops"][0] == result.dense["flops"] and curve["budget_removed"][0] == 0
    assert all(a <= b for a, b in zip(curve["budget_removed"], curve["budget_removed"][1:]))
    assert all(
        a >= b for a, b in zip(curve["litert_ms_predicted"], curve["litert_ms_predicted"][1:])
    )
    assert (
        curve["params"][-1] < curve["params"][0]
        and curve["gzip_bytes"][-1] < curve["gzip_bytes"][0]
    )
    assert max(curve["budget_removed"]) >= 0.5


def test_channel_groups_are_measured_and_the_automatic_curve_meets_each_level(measured):
    from prune_core.engine.channel_allocation import LEVELS as CHANNEL_LEVELS
    from prune_core.engine.channel_allocation import ChannelSensitivity

    _, result, _ = measured
    taylor = result.criteria["taylor"]
    sensitivity = ChannelSensitivity.from_dict(taylor.channel_sensitivity)
    assert sensitivity.levels == CHANNEL_LEVELS and sensitivity.groups
    assert sensitivity.dense_top1 == pytest.approx(result.dense["top1"])
    auto = taylor.curve("structured_auto")
    assert auto["level"][0] == 0 and auto["top1"][0] == result.dense["top1"]
    for level, removed in zip(auto["level"][1:], auto["budget_removed"][1:]):
        assert removed >= level - 1e-9  # the allocation meets every level it reaches
    assert len(auto["level"]) >= 4


def test_channels_by_the_automatic_allocation_follow_the_profiled_sensitivity(
    measured, monkeypatch
):
    spec, _, _ = measured
    recipe = spec.with_(
        strategy="taylor", sparsity=0.4, scope="auto", granularity="structured", fine_tune_epochs=1
    )
    run = pipeline.run(recipe)
    assert run.budget_removed >= 0.4 and run.spec.pruning.scope == "auto"
    # the plan is the allocation's own: groups keep different shares, as their curves differ
    kept = [len(g["keep"]) / g["size"] for g in run.events[0].plan["groups"]]
    assert len({round(k, 2) for k in kept}) > 1
    # the profile it measured is cached: Explore reads it without measuring again
    monkeypatch.setattr(profiler.Profiler, "criterion", lambda *a: pytest.fail("measured again"))
    assert profiler.run(spec, ["taylor"]).criteria["taylor"].channel_sensitivity


def test_a_channel_multiple_is_its_own_profile_only_where_channels_are_measured(tmp_path):
    # the channel curves round counts to the recipe's multiple; the weight curves do not
    spec = RunSpec.of(**TINY, granularity="structured", strategy="taylor", sparsity=0.3)
    rounded = spec.with_(channel_multiple=8)

    def path(s, structured):
        return profiler._cache_file(tmp_path, "key", "taylor", s, (0.5,), (0.5,), structured)

    assert path(spec, (0.3,)) != path(rounded, (0.3,))
    assert path(spec, ()) == path(rounded, ())


def test_a_retrained_baseline_is_profiled_again(tmp_path, monkeypatch):
    # the profile is of one trained baseline: its training constants are part of the key
    from prune_core.recipe import baseline_cache

    spec = RunSpec.of(**TINY, strategy="taylor", sparsity=0.3)
    before = profiler._cache_file(tmp_path, spec.baseline_key(), "taylor", spec, (0.5,), (0.5,))
    monkeypatch.setattr(baseline_cache, "FINISH", "another")
    after = profiler._cache_file(tmp_path, spec.baseline_key(), "taylor", spec, (0.5,), (0.5,))
    assert before != after
