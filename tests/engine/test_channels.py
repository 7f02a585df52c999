"""Tests for prune_core.engine.channels: predicted latency and latency-aware channel ranking."""

import numpy as np
import pytest

from prune_core.engine import channels, structure
from prune_core.engine.latency_table import LayerTime
from prune_core.errors import SpecError
from tests.engine.helpers import small_model

SYNTHETIC = {
    "conv_a": LayerTime(1.0, 4.0, 0, 16),
    "dw": LayerTime(0.0, 3.0, 0, 16),
    "conv_b": LayerTime(0.5, 2.0, 16, 8),
    "head": LayerTime(0.25, 0.0, 8, 0),
}


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
    assert cost.evaluate({a.id: 8, b.id: 4})["latency"] == pytest.approx(
        1 + 2 + 1.5 + 0.5 + 0.5 + 0.25
    )
    assert "latency" not in channels.CostModel(model, groups).total  # no table, no prediction


def test_latency_ranking_takes_the_budget_from_the_slow_work_first():
    """conv_b's channels matter a little less, so ranking by importance cuts them first; but
    conv_a's channels carry a slow depthwise and activation per FLOP, so latency-aware ranking cuts
    those."""
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
        channels.select(
            groups, scores, target=0.1, cost=channels.CostModel(model, groups), rank="latency"
        )
    with pytest.raises(ValueError, match="latency table"):
        channels.select(groups, scores, target=0.1, cost=cost, budget="latency", rank="latency")


def test_an_unreachable_target_is_refused_with_what_is_reachable():
    """Fixed per-op time cannot be cut by removing channels: asking for more is a clear error."""
    model = small_model()
    groups = structure.trace(model)
    cost = channels.CostModel(model, groups, SYNTHETIC)
    scores = {g.id: np.ones(g.size) for g in groups if g.prunable}
    with pytest.raises(
        SpecError,
        match=r"cannot remove 90% of the latency: .* removes \d+\.\d%; the rest is per-op",
    ):
        channels.select(groups, scores, target=0.9, cost=cost, budget="latency")
    plan = channels.select(groups, scores, target=0.3, cost=cost, budget="latency")
    kept = {g.id: len(plan.kept(g)) for g in groups if g.prunable}
    assert 1 - cost.evaluate(kept)["latency"] / cost.total["latency"] >= 0.3


def test_an_unreachable_flops_target_names_the_layers_that_cap_it():
    from prune_core.engine import criteria
    from prune_core.engine.keras_env import keras

    layers = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = layers.Conv2D(32, 3, padding="same", name="wide")(x)
    x = layers.Permute((2, 1, 3), name="swap")(x)  # not followed: the 32 channels stay
    x = layers.Conv2D(32, 3, padding="same", name="after")(x)  # most of the FLOPs
    outputs = layers.Dense(3)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    groups = structure.trace(model)
    targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
    scores = dict(zip([t.name for t in targets], criteria.score("magnitude", model, targets)))
    with pytest.raises(SpecError) as refused:
        channels.select(
            groups,
            channels.importance(model, groups, scores),
            target=0.9,
            cost=channels.CostModel(model, groups),
        )
    message = str(refused.value)
    assert message.startswith("cannot remove 90% of the flops")
    assert "swap (Permute) is not understood by structured pruning (" in message
    assert "\n" not in message
