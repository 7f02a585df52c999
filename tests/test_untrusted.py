"""Property-based checks of what reads untrusted JSON: a recipe or a stored / imported result is either
read or refused with the project's own error — never another exception, never a NaN let through."""
import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prune_core.errors import ResultError, SpecError
from prune_core.results.run_result import RunResult
from prune_core.recipe.spec import FIELDS, RunSpec

SCHEMA_1 = Path(__file__).parent / "data" / "results_v1.jsonl"
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
                    | st.text(max_size=20), lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)
FIELD_NAMES = [f.name for f in FIELDS]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), JSON, max_size=6))
def test_any_recipe_is_read_or_refused_with_a_spec_error(data):
    try:
        spec = RunSpec.from_dict(data)
    except SpecError:
        return
    assert RunSpec.from_dict(spec.to_dict()) == spec  # what is read round-trips


def _stored():
    return [json.loads(line) for line in SCHEMA_1.read_text().splitlines()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_damage_to_a_stored_result_is_read_or_refused_with_a_result_error(draw):
    data = _stored()[draw.draw(st.integers(0, 4))]
    numbers = sorted(k for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
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
