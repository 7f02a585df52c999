"""Tests for prune_core.recipe.spec: RunSpec's checks, flat JSON, command line and sweeps."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prune_core.errors import SpecError
from prune_core.measured import BEST_DISTILL
from prune_core.recipe.spec import FIELDS, RunSpec, expand, parse_numbers
from tests.strategies import JSON

FIELD_NAMES = [f.name for f in FIELDS]


def test_defaults_are_valid_and_round_trip_through_json():
    spec = RunSpec()
    assert spec.baseline.model == "efficientnet-compact" and spec.baseline.dataset == "digits"
    assert RunSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["strategy"] == "magnitude"


@pytest.mark.parametrize(
    "changes, fragment",
    [
        (dict(sparsity=1.0), "sparsity must be in [0, 1)"),
        (dict(sparsity=-0.1), "sparsity must be in [0, 1)"),
        (dict(strategy="snip2"), "unknown strategy"),
        (dict(scope="blockwise"), "unknown scope"),
        (dict(schedule="cosine"), "unknown schedule"),
        (dict(model="resnet"), "unknown model"),
        (dict(dataset="mnist"), "unknown dataset"),
        (dict(sparsity=None, threshold=None), "exactly one"),
        (dict(threshold=0.1), "exactly one"),
        (dict(sparsity=None, threshold=-1.0), "threshold must be >= 0"),
        (
            dict(sparsity=None, threshold=0.1, schedule="polynomial", end_step=100),
            "threshold mode prunes once",
        ),
        (dict(strategy="tfmot", scope="global"), "tfmot's recipe ranks weights per layer"),
        (dict(strategy="tfmot", fine_tune_epochs=0), "prunes during fine-tuning"),
        (dict(fine_tune_epochs=-1), "fine tune epochs"),
        (dict(learning_rate=0.0), "learning rate"),
        (dict(schedule="polynomial", begin_step=10, end_step=5), "end step > begin step"),
        (dict(granularity="structured", strategy="tfmot"), "prunes single weights only"),
        (dict(granularity="structured", budget="energy"), "unknown budget"),
        (dict(granularity="structured", scope="global", rank="speed"), "unknown rank"),
        (
            dict(granularity="unstructured", scope="global", rank="latency"),
            "latency ranking applies",
        ),
        (
            dict(granularity="structured", scope="layerwise", rank="latency"),
            "latency ranking applies",
        ),
        (
            dict(
                granularity="structured",
                scope="global",
                sparsity=None,
                threshold=0.5,
                rank="latency",
            ),
            "latency ranking applies",
        ),
        (
            dict(granularity="structured", scope="global", budget="latency", rank="latency"),
            "already counts LiteRT time",
        ),
        (dict(granularity="structured", channel_multiple=3), "channel multiple"),
        (dict(distill=1.5), "distillation weight must be in 0…1"),
        (dict(distill=-0.1), "distillation weight must be in 0…1"),
        (dict(distill=0.5, temperature=0.0), "distillation temperature must be in (0, 100]"),
        (dict(temperature=1e6), "distillation temperature must be in (0, 100]"),
    ],
)
def test_bad_recipes_are_refused_with_a_clear_message(changes, fragment):
    with pytest.raises(SpecError, match=None) as info:
        RunSpec.of(**changes)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_fields_and_bad_json_are_refused():
    with pytest.raises(SpecError, match="unknown recipe field"):
        RunSpec.from_dict({"strategy": "magnitude", "sparsityy": 0.5})
    with pytest.raises(SpecError, match="not valid JSON"):
        RunSpec.from_json("{nope")


def test_baseline_key_follows_training_settings_not_pruning_settings():
    spec = RunSpec()
    assert spec.baseline_key() == spec.with_(strategy="fisher", sparsity=0.9).baseline_key()
    assert spec.baseline_key() == spec.with_(distill=0.5, temperature=2.0).baseline_key()
    assert spec.baseline_key() != spec.with_(seed=1).baseline_key()
    assert spec.baseline_key() != spec.with_(baseline_epochs=5).baseline_key()


def test_file_and_folder_names_are_accepted():
    spec = RunSpec.of(model="file:/tmp/m.keras", dataset="folder:/tmp/imgs")
    assert spec.baseline.model.startswith("file:")


def test_a_recipe_is_grouped_but_its_json_stays_flat():
    spec = RunSpec.of(
        strategy="taylor",
        sparsity=0.8,
        schedule="polynomial",
        initial_sparsity=0.2,
        begin_step=1,
        end_step=41,
        frequency=10,
        fine_tune_epochs=3,
        image_size=48,
    )
    assert spec.pruning.strategy == "taylor" and spec.training.fine_tune_epochs == 3
    assert spec.baseline.image_size == 48 and spec.schedule.kind == "polynomial"
    assert spec.schedule.final_sparsity == 0.8  # the schedule ends at the pruning target
    flat = json.loads(spec.to_json())
    assert flat["schedule"] == "polynomial" and flat["sparsity"] == 0.8 and "pruning" not in flat
    assert set(flat) == {f.name for f in FIELDS}


def test_recipes_stored_before_the_groups_existed_still_load():
    # a job's spec column as written by the flat RunSpec (c982413), and one from before rank/export
    # existed
    stored = (
        '{"baseline_epochs": 40, "batch_size": 32, "begin_step": 0, "budget": "flops", '
        '"calibration_examples": 256, "channel_multiple": 1, "dataset": "digits", "end_step": -1, '
        '"export": "none", "fine_tune_epochs": 8, "frequency": 100, "granularity": "structured", '
        '"image_size": 32, "initial_sparsity": 0.0, "learning_rate": 0.001, "model": '
        '"efficientnet-compact", '
        '"power": 3.0, "prune_depthwise": false, "prune_head": false, "rank": "latency", '
        '"schedule": "oneshot", '
        '"scope": "global", "seed": 0, "sparsity": 0.4, "strategy": "taylor", "threshold": null, '
        '"weights": "none"}'
    )
    spec = RunSpec.from_json(stored)
    assert (spec.pruning.granularity, spec.pruning.rank, spec.pruning.sparsity) == (
        "structured",
        "latency",
        0.4,
    )
    # the stored recipe, plus the fields added since, at their defaults
    again = json.loads(spec.to_json())
    assert {k: v for k, v in again.items() if k in json.loads(stored)} == json.loads(stored)
    assert RunSpec.from_json(spec.to_json()) == spec
    older = RunSpec.from_dict({"strategy": "fisher", "sparsity": 0.9, "schedule": "oneshot"})
    assert older.pruning.rank == "importance" and older.export == "none"


def test_command_line_reproduces_the_recipe():
    spec = RunSpec.of(
        strategy="taylor", sparsity=0.4, granularity="structured", scope="global", prune_head=True
    )
    command = spec.command()
    assert command == (
        "python -m prune_core run --strategy taylor --sparsity 0.4 --granularity structured "
        "--scope global --prune-head --distill 0.0"
    )
    from prune_core import cli

    args = cli.build_parser().parse_args(command.split()[3:])
    assert cli.specs_from_args(args) == [spec]


def test_sweeps_expand_strategies_by_amounts_and_read_numbers_clearly():
    specs = expand(
        {"fine_tune_epochs": 2}, ["magnitude", " fisher"], sparsities=parse_numbers("0.5, 0.9", "x")
    )
    assert [
        (s.pruning.strategy, s.pruning.sparsity, s.training.fine_tune_epochs) for s in specs
    ] == [("magnitude", 0.5, 2), ("magnitude", 0.9, 2), ("fisher", 0.5, 2), ("fisher", 0.9, 2)]
    assert [s.pruning.threshold for s in expand({}, ["magnitude"], thresholds=[1e-3])] == [1e-3]
    with pytest.raises(SpecError, match="target sparsities must be comma-separated numbers"):
        parse_numbers("0.5, abc", "target sparsities")
    with pytest.raises(SpecError, match="at least one strategy"):
        expand({}, [], sparsities=[0.5])
    with pytest.raises(SpecError, match="unknown strategy 'snip'"):
        expand({}, ["snip"], sparsities=[0.5])


@pytest.mark.parametrize(
    "field, value",
    [
        ("image_size", 5000),
        ("batch_size", 10**6),
        ("fine_tune_epochs", 10**6),
        ("baseline_epochs", 1001),
        ("calibration_examples", 10**7),
    ],
)
def test_a_recipe_of_unbounded_cost_is_refused(field, value):
    with pytest.raises(SpecError, match=f"{field.replace('_', ' ')} must be an integer in"):
        RunSpec.of(**{field: value})


def test_pattern_is_normalised_labelled_and_round_trips():
    spec = RunSpec.of(pattern=" Block:1X4 ", sparsity=0.8)
    assert spec.pruning.pattern == "block:1x4" and "block:1x4" in spec.label()
    assert RunSpec.from_json(spec.to_json()) == spec and "--pattern block:1x4" in spec.command()
    rigl = RunSpec.of(regrow="rigl", sparsity=0.9)
    assert rigl.label().endswith("+rigl") and RunSpec.from_json(rigl.to_json()) == rigl
    assert (
        RunSpec.of().pruning.pattern == "unstructured" and "pattern" not in RunSpec.of().command()
    )


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), JSON, max_size=6))
def test_any_recipe_is_read_or_refused_with_a_spec_error(data):
    try:
        spec = RunSpec.from_dict(data)
    except SpecError:
        return
    assert RunSpec.from_dict(spec.to_dict()) == spec  # what is read round-trips


def test_sparsities_may_be_given_in_percent_where_asked():
    assert parse_numbers("50%, 80 %,0.9", "target sparsities", percent=True) == [0.5, 0.8, 0.9]
    with pytest.raises(SpecError, match="target sparsities must be comma-separated numbers"):
        parse_numbers("50%", "target sparsities")  # thresholds have no percent


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("seed", 2**70, "seed must be an integer in 0…4,294,967,295"),
        ("seed", -1, "seed must be an integer"),
        ("begin_step", 2**40, "begin step must be an integer in 0…2,147,483,647"),
        ("frequency", 0, "frequency must be an integer in 1…"),
        ("end_step", -5, "end step must be an integer in -1…"),
    ],
)
def test_every_integer_is_within_what_its_consumer_accepts(field, value, words):
    with pytest.raises(SpecError, match=words):
        RunSpec.of(**{field: value})


def test_a_distilled_recipe_says_so_in_its_label_and_command():
    plain = RunSpec.of(strategy="taylor", sparsity=0.9)
    distilled = plain.with_(distill=0.5)
    assert "distill" not in plain.label() and plain.command().endswith("--distill 0.0")
    assert distilled.label() == plain.label() + " +distill 0.5"
    assert distilled.command().endswith("--distill 0.5")
    # the command line distills by default (the best measured): only a change is named
    assert "--distill" not in plain.with_(distill=BEST_DISTILL).command()
    assert RunSpec.from_json(distilled.to_json()) == distilled
    # a result stored before the field existed was fine-tuned on the labels alone
    stored = {k: v for k, v in plain.to_dict().items() if k not in ("distill", "temperature")}
    assert RunSpec.from_dict(stored).training.distill == 0.0
