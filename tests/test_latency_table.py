import numpy as np
import pytest

from prune_core.engine import channels, latency_table, structure
from prune_core.engine.keras_env import keras
from prune_core.errors import SpecError
from prune_core.engine.latency_table import LayerTime


def small_model(width=16, seed=0):
    """conv_a (16, prunable) → swish → depthwise → conv_b (8, prunable) → relu → GAP → head."""
    keras.utils.set_random_seed(seed)
    L = keras.layers
    x = keras.Input((16, 16, 3), name="image")
    h = L.Conv2D(width, 3, padding="same", name="conv_a")(x)
    h = L.BatchNormalization(name="bn_a")(h)
    h = L.Activation("swish", name="act_a")(h)
    h = L.DepthwiseConv2D(3, padding="same", name="dw")(h)
    h = L.Conv2D(8, 1, name="conv_b")(h)
    h = L.Activation("relu", name="act_b")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, L.Dense(4, name="head")(h), name="small")


def test_layer_time_scales_only_its_prunable_dimensions():
    conv = LayerTime(fixed_ms=1.0, scaled_ms=4.0, in_ref=16, out_ref=8)
    assert conv.at(16, 8) == pytest.approx(5.0)
    assert conv.at(8, 4) == pytest.approx(1.0 + 4.0 * 0.25)
    first = LayerTime(fixed_ms=0.5, scaled_ms=2.0, in_ref=0, out_ref=16)  # reads the fixed RGB input
    assert first.at(3, 8) == pytest.approx(1.5)


def test_every_timed_layer_is_in_the_table_with_its_channel_references():
    model = small_model()
    table = latency_table.measure(model, structure.trace(model), repeats=3)
    # BatchNorm folds into the conv in TFLite, the input layer costs nothing
    assert set(table) == {"conv_a", "act_a", "dw", "conv_b", "act_b", "gap", "head", latency_table.INVOKE}
    refs = {name: (t.in_ref, t.out_ref) for name, t in table.items() if name != latency_table.INVOKE}
    assert refs == {"conv_a": (0, 16), "act_a": (0, 16), "dw": (0, 16), "conv_b": (16, 8), "act_b": (0, 8),
                    "gap": (0, 8), "head": (8, 0)}  # the head's output is the model's: fixed
    assert all(t.fixed_ms >= 0 and t.scaled_ms >= 0 for t in table.values())
    assert sum(t.fixed_ms + t.scaled_ms for t in table.values()) > 0


def test_tables_are_cached_per_architecture_not_per_weights(tmp_path, monkeypatch):
    model = small_model()
    table = latency_table.load_or_measure(model, structure.trace(model), tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(latency_table, "measure", refuse)
    other_weights = small_model(seed=1)
    assert latency_table.load_or_measure(other_weights, structure.trace(other_weights), tmp_path) == table
    assert latency_table.digest(small_model(width=24), 1) != latency_table.digest(model, 1)
    assert latency_table.digest(model, 2) != latency_table.digest(model, 1)


SYNTHETIC = {"conv_a": LayerTime(1.0, 4.0, 0, 16), "dw": LayerTime(0.0, 3.0, 0, 16),
             "conv_b": LayerTime(0.5, 2.0, 16, 8), "head": LayerTime(0.25, 0.0, 8, 0)}


def _group(groups, producer):
    return next(g for g in groups if producer in g.producers)


def test_cost_model_predicts_latency_from_the_table():
    model = small_model()
    groups = structure.trace(model)
    cost = channels.CostModel(model, groups, SYNTHETIC)
    assert cost.total["latency"] == pytest.approx(1 + 4 + 3 + 0.5 + 2 + 0.25)
    a, b = _group(groups, "conv_a"), _group(groups, "conv_b")
    half_a = cost.evaluate({a.id: 8})["latency"]
    assert half_a == pytest.approx(1 + 2 + 1.5 + 0.5 + 1 + 0.25)
    assert cost.evaluate({a.id: 8, b.id: 4})["latency"] == pytest.approx(1 + 2 + 1.5 + 0.5 + 0.5 + 0.25)
    assert "latency" not in channels.CostModel(model, groups).total  # no table, no prediction


def test_latency_ranking_takes_the_budget_from_the_slow_work_first():
    """conv_b's channels matter a little less, so ranking by importance cuts them first; but conv_a's
    channels carry a slow depthwise and activation per FLOP, so latency-aware ranking cuts those."""
    model = small_model()
    groups = structure.trace(model)
    a, b = _group(groups, "conv_a"), _group(groups, "conv_b")
    table = {**SYNTHETIC, "dw": LayerTime(0.0, 30.0, 0, 16)}
    cost = channels.CostModel(model, groups, table)
    scores = {a.id: np.full(a.size, 1.2), b.id: np.full(b.size, 1.0)}
    by_importance = channels.select(groups, scores, target=0.1, cost=cost)
    by_latency = channels.select(groups, scores, target=0.1, cost=cost, rank="latency")
    assert len(by_importance.kept(b)) < b.size and len(by_importance.kept(a)) == a.size
    assert len(by_latency.kept(a)) < a.size and len(by_latency.kept(b)) == b.size
    with pytest.raises(ValueError, match="latency table"):
        channels.select(groups, scores, target=0.1, cost=channels.CostModel(model, groups), rank="latency")
    with pytest.raises(ValueError, match="latency table"):
        channels.select(groups, scores, target=0.1, cost=cost, budget="latency", rank="latency")


def test_an_unreachable_target_is_refused_with_what_is_reachable():
    """Fixed per-op time cannot be cut by removing channels: asking for more is a clear error."""
    model = small_model()
    groups = structure.trace(model)
    cost = channels.CostModel(model, groups, SYNTHETIC)
    scores = {g.id: np.ones(g.size) for g in groups if g.prunable}
    with pytest.raises(SpecError, match=r"cannot remove 90% of the latency: .* removes \d+\.\d%; the rest is per-op"):
        channels.select(groups, scores, target=0.9, cost=cost, budget="latency")
    plan = channels.select(groups, scores, target=0.3, cost=cost, budget="latency")
    kept = {g.id: len(plan.kept(g)) for g in groups if g.prunable}
    assert 1 - cost.evaluate(kept)["latency"] / cost.total["latency"] >= 0.3
