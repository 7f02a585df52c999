"""Tests for prune_core.engine.channel_allocation: silencing is removal without surgery, the
sensitivity it measures ranks groups, and the allocation spends the budget where it costs least
while meeting the target exactly as the cost model counts it."""

import numpy as np
import pytest

from prune_core.engine import channel_allocation, channels, metrics, structure, surgery
from prune_core.engine.channel_allocation import ChannelSensitivity
from prune_core.errors import ResultError, SpecError
from tests.engine.helpers import small_model
from tests.engine.test_surgery import _randomise


def _groups(model):
    return {g.producers[0]: g for g in structure.trace(model) if g.prunable}


def test_silencing_computes_what_surgery_computes_and_restores_every_weight():
    model = _randomise(small_model())
    group = _groups(model)["conv_a"]
    gone = np.array([0, 3, 5, 9])
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).normal(0, 1, (2, 16, 16, 3)).astype(np.float32)
    plan = surgery.Plan(
        tuple(structure.trace(model)), {group.id: sorted(set(range(16)) - set(gone))}
    )
    smaller = surgery.apply(model, plan)
    restore = channel_allocation.silence(model, [(group, gone)])
    np.testing.assert_allclose(model(x).numpy(), smaller(x).numpy(), atol=1e-4)
    restore()
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_the_sensitivity_is_what_the_reduced_model_measures(tiny_data):
    """Each point equals the validation loss and top-1 of the model with that group's channels
    really removed (surgery, no BatchNorm re-estimation): silencing is a shortcut, not a guess."""
    from prune_core.engine import models
    from prune_core.engine.training import Trainer

    model = models.build("tiny-cnn", tiny_data.num_classes, 16, seed=0)
    Trainer(model, learning_rate=1e-2, total_steps=200, augment=False).fit(
        tiny_data.x_train, tiny_data.y_train, epochs=10, batch_size=16
    )
    groups = structure.trace(model)
    scores = {t.name: np.abs(t.variable.numpy()) for t in _targets(model)}
    importance = channels.importance(model, groups, scores)
    evaluate = metrics.evaluator(model, tiny_data.x_val, tiny_data.y_val)
    before = [w.copy() for w in model.get_weights()]
    measured = channel_allocation.measure(model, groups, importance, evaluate)
    prunable = [g for g in groups if g.prunable]
    assert measured.groups == tuple(g.producers[0] for g in prunable)
    assert measured.dense_top1 == pytest.approx(evaluate()["top1"])
    for row, group in enumerate(prunable):
        for col, level in enumerate(measured.levels):
            order = np.argsort(importance[group.id], kind="stable")
            gone = channel_allocation.removed_at(group, order, level)
            assert len(gone) == group.size - max(1, int(np.ceil(group.size * (1 - level))))
            kept = sorted(set(range(group.size)) - set(gone.tolist()))
            smaller = surgery.apply(model, surgery.Plan(tuple(groups), {group.id: kept}))
            reduced = metrics.evaluator(smaller, tiny_data.x_val, tiny_data.y_val)()
            assert measured.loss[row][col] == pytest.approx(reduced["loss"], abs=1e-4)
            assert measured.top1[row][col] == pytest.approx(reduced["top1"])
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert ChannelSensitivity.from_dict(measured.to_dict()) == measured


def _targets(model):
    from prune_core.engine import criteria

    return criteria.find_targets(model, prune_head=True, prune_depthwise=True)


def _sensitivity(flat: str, steep: str) -> ChannelSensitivity:
    levels = channel_allocation.LEVELS
    return ChannelSensitivity(
        levels,
        (flat, steep),
        [[0.9] * len(levels), [0.5] * len(levels)],
        [
            [0.1 + 0.01 * i for i in range(len(levels))],
            [0.1 + 2.0 * (i + 1) for i in range(len(levels))],
        ],
        0.9,
        0.1,
    )


@pytest.mark.parametrize("budget", ["flops", "params"])
def test_the_allocation_cuts_the_insensitive_group_first_and_meets_the_target(budget):
    model = small_model()
    by_name = _groups(model)
    groups = structure.trace(model)
    cost = channels.CostModel(model, groups)
    sizes = {name: g.size for name, g in by_name.items()}
    for flat, steep in (("conv_a", "conv_b"), ("conv_b", "conv_a")):
        counts = channel_allocation.counts_for(
            _sensitivity(flat, steep), groups, cost, budget, 0.3, cost.total[budget], sizes
        )
        kept = {name: counts[g.id] / g.size for name, g in by_name.items()}
        assert kept[flat] < kept[steep], (flat, kept)
        removed = 1 - cost.evaluate(counts)[budget] / cost.total[budget]
        assert removed >= 0.3
        # the smallest plan that meets it: one channel more of the cut group falls short
        back = dict(counts)
        back[by_name[flat].id] += 1
        if back[by_name[flat].id] <= by_name[flat].size:
            assert 1 - cost.evaluate(back)[budget] / cost.total[budget] < removed


def test_an_unreachable_target_is_refused_in_one_line():
    model = small_model()
    groups = structure.trace(model)
    cost = channels.CostModel(model, groups)
    sizes = {name: g.size for name, g in _groups(model).items()}
    with pytest.raises(SpecError, match="cannot remove 99% of the flops") as refused:
        channel_allocation.counts_for(
            _sensitivity("conv_a", "conv_b"),
            groups,
            cost,
            "flops",
            0.99,
            cost.total["flops"],
            sizes,
        )
    assert "\n" not in str(refused.value)


def test_a_damaged_sensitivity_does_not_read():
    good = _sensitivity("conv_a", "conv_b").to_dict()
    for broken in (
        {**good, "loss": good["loss"][:1]},
        {**good, "top1": [[float("nan")] * 4, [0.5] * 4]},
        {k: v for k, v in good.items() if k != "dense_loss"},
    ):
        with pytest.raises(ResultError):
            ChannelSensitivity.from_dict(broken)
