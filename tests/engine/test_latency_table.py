"""Tests for prune_core.engine.latency_table: per-layer LiteRT times, once per architecture."""

import pytest

from prune_core.engine import latency_table, structure
from prune_core.engine.latency_table import LayerTime
from tests.engine.helpers import small_model


def test_layer_time_scales_only_its_prunable_dimensions():
    conv = LayerTime(fixed_ms=1.0, scaled_ms=4.0, in_ref=16, out_ref=8)
    assert conv.at(16, 8) == pytest.approx(5.0)
    assert conv.at(8, 4) == pytest.approx(1.0 + 4.0 * 0.25)
    # reads the fixed RGB input
    first = LayerTime(fixed_ms=0.5, scaled_ms=2.0, in_ref=0, out_ref=16)
    assert first.at(3, 8) == pytest.approx(1.5)


def test_every_timed_layer_is_in_the_table_with_its_channel_references():
    model = small_model()
    table = latency_table.measure(model, structure.trace(model), repeats=3)
    # BatchNorm folds into the conv in TFLite, the input layer costs nothing
    assert set(table) == {
        "conv_a",
        "act_a",
        "dw",
        "conv_b",
        "act_b",
        "gap",
        "head",
        latency_table.INVOKE,
    }
    refs = {
        name: (t.in_ref, t.out_ref) for name, t in table.items() if name != latency_table.INVOKE
    }
    assert refs == {
        "conv_a": (0, 16),
        "act_a": (0, 16),
        "dw": (0, 16),
        "conv_b": (16, 8),
        "act_b": (0, 8),
        "gap": (0, 8),
        "head": (8, 0),
    }  # the head's output is the model's: fixed
    assert all(t.fixed_ms >= 0 and t.scaled_ms >= 0 for t in table.values())
    assert sum(t.fixed_ms + t.scaled_ms for t in table.values()) > 0


def test_tables_are_cached_per_architecture_not_per_weights(tmp_path, monkeypatch):
    model = small_model()
    table = latency_table.load_or_measure(model, structure.trace(model), tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(latency_table, "measure", refuse)
    other_weights = small_model(seed=1)
    assert (
        latency_table.load_or_measure(other_weights, structure.trace(other_weights), tmp_path)
        == table
    )
    assert latency_table.digest(small_model(width=24), 1) != latency_table.digest(model, 1)
    assert latency_table.digest(model, 2) != latency_table.digest(model, 1)
