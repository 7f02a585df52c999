"""Tests for prune_core.results.run_result: old results load, bad ones are refused."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prune_core.errors import ResultError
from prune_core.results.columns import COLUMNS
from prune_core.results.deployment import FORMATS
from prune_core.results.run_result import SCHEMA, RunResult
from tests.results.helpers import _old
from tests.strategies import JSON


def test_every_schema_1_result_loads_and_round_trips():
    for old in _old():
        result = RunResult.from_dict(old)
        stored = result.to_dict()
        assert stored["schema"] == SCHEMA and "achieved_sparsity" not in stored
        assert RunResult.from_dict(json.loads(json.dumps(stored))) == result
        # the old recipe, plus the fields added since at their defaults
        recipe = result.spec.to_dict()
        assert {k: v for k, v in recipe.items() if k in old["config"]} == old["config"]
        assert {k: recipe[k] for k in recipe if k not in old["config"]} == {
            "pattern": "unstructured",
            "regrow": "none",
            "regrow_fraction": 0.3,
            "regrow_every": 100,
            "then_sparsity": None,
            "pixels": "0-255",
            "reconstruct": False,  # no refit after the cut, as every run then
            "distill": 0.0,  # fine-tuned on the labels alone, as every run was then
            "temperature": 4.0,
        }
        assert (result.top1, result.top1_before_finetune, result.gzip_bytes) == (
            old["top1"],
            old["top1_before_finetune"],
            old["gzip_bytes"],
        )
        assert (result.dense.top1, result.dense.gzip_bytes) == (
            old["top1_dense"],
            old["dense_gzip_bytes"],
        )
        assert [e.step for e in result.events] == [e["step"] for e in old["pruning_events"]]


def test_schema_1_achieved_sparsity_splits_into_its_two_meanings():
    unstructured, threshold, structured, latency_aware, tfmot = (
        RunResult.from_dict(r) for r in _old()
    )
    old = _old()
    assert (
        unstructured.weight_sparsity == old[0]["achieved_sparsity"]
        and unstructured.budget_removed is None
    )
    assert unstructured.unit == "weights" and unstructured.achieved == unstructured.weight_sparsity
    for result, raw in ((structured, old[2]), (latency_aware, old[3])):
        assert result.budget_removed == raw["achieved_sparsity"] and result.unit == "flops"
        assert result.weight_sparsity == 0.0  # channel removal leaves dense kernels
        assert (
            result.layer_channels_removed == raw["layer_sparsity"] and result.layer_sparsity == {}
        )
        assert result.achieved == result.budget_removed
        assert result.params_removed == pytest.approx(
            1 - raw["nonzero_params"] / raw["dense_params"]
        )
    assert latency_aware.litert_ms_predicted == old[3]["litert_ms_predicted"]
    assert latency_aware.dense.litert_ms_predicted == old[3]["dense_litert_ms_predicted"]
    assert threshold.target is None and threshold.spec.mode == "threshold"


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda r: r.pop("top1"), "missing or not a number: top1"),
        (lambda r: r.update(gzip_bytes="12 KB"), "missing or not a number: gzip_bytes"),
        (lambda r: r.update(params=12.5), "params must be a whole number"),
        (lambda r: r.update(top1_dense=None), "dense_top1"),
        (lambda r: r.pop("config"), "missing the recipe"),
        (
            lambda r: r["config"].update(strategy="hessian"),
            "its recipe is not valid: unknown strategy",
        ),
        (lambda r: r.update(schema=99), "schema 99"),
        (lambda r: r.update(layer_sparsity={"conv1": "half"}), "layer_sparsity[conv1]"),
        (lambda r: r.update(pruning_events=[{"target": 0.5}]), "pruning event"),
    ],
)
def test_a_result_that_is_not_one_is_refused_with_what_is_wrong(change, fragment):
    raw = _old()[0]
    change(raw)
    with pytest.raises(ResultError) as info:
        RunResult.from_dict(raw)
    assert fragment in str(info.value)


def test_every_number_of_a_result_is_a_declared_column():
    row = RunResult.from_dict(_old()[0]).row()
    numbers = {
        k for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    } - {"threshold"}
    assert numbers - set(COLUMNS) == set()
    labels = [COLUMNS[k].label for k in numbers]
    assert len(labels) == len(set(labels))  # no two columns share a label
    assert {key for fmt in FORMATS for key in fmt.keys().values()} <= set(COLUMNS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_damage_to_a_stored_result_is_read_or_refused_with_a_result_error(draw):
    data = _old()[draw.draw(st.integers(0, 4))]
    numbers = sorted(
        k for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    for _ in range(draw.draw(st.integers(1, 4))):
        if draw.draw(st.booleans()):  # a number made non-finite, negative, huge or of another type
            data[draw.draw(st.sampled_from(numbers))] = draw.draw(st.floats() | JSON)
        else:
            data[draw.draw(st.sampled_from(sorted(data)) | st.text(max_size=12))] = draw.draw(JSON)
    try:
        result = RunResult.from_dict(data)
    except ResultError:
        return
    for name, value in result.to_dict().items():
        if isinstance(value, float):
            assert math.isfinite(value) or name == "theoretical_speedup", (name, value)
