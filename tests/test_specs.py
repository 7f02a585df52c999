import json

import pytest

from prune_core.errors import SpecError
from prune_core.specs import RunSpec


def test_defaults_are_valid_and_round_trip_through_json():
    spec = RunSpec()
    assert spec.model == "efficientnet-compact" and spec.dataset == "digits"
    assert RunSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["strategy"] == "magnitude"


@pytest.mark.parametrize("changes, fragment", [
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
    (dict(sparsity=None, threshold=0.1, schedule="polynomial", end_step=100), "threshold mode prunes once"),
    (dict(strategy="tfmot", scope="global"), "tfmot's recipe ranks weights per layer"),
    (dict(strategy="tfmot", fine_tune_epochs=0), "prunes during fine-tuning"),
    (dict(fine_tune_epochs=-1), "fine tune epochs"),
    (dict(learning_rate=0.0), "learning rate"),
    (dict(schedule="polynomial", begin_step=10, end_step=5), "end step > begin step"),
    (dict(granularity="structured", strategy="tfmot"), "prunes single weights only"),
    (dict(granularity="structured", budget="energy"), "unknown budget"),
    (dict(granularity="structured", scope="global", rank="speed"), "unknown rank"),
    (dict(granularity="unstructured", scope="global", rank="latency"), "latency ranking applies"),
    (dict(granularity="structured", scope="layerwise", rank="latency"), "latency ranking applies"),
    (dict(granularity="structured", scope="global", sparsity=None, threshold=0.5, rank="latency"),
     "latency ranking applies"),
    (dict(granularity="structured", scope="global", budget="latency", rank="latency"),
     "already counts LiteRT time"),
    (dict(granularity="structured", channel_multiple=3), "channel multiple"),
])
def test_bad_recipes_are_refused_with_a_clear_message(changes, fragment):
    with pytest.raises(SpecError, match=None) as info:
        RunSpec(**changes)
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
    assert spec.baseline_key() != spec.with_(seed=1).baseline_key()
    assert spec.baseline_key() != spec.with_(baseline_epochs=5).baseline_key()


def test_file_and_folder_names_are_accepted():
    spec = RunSpec(model="file:/tmp/m.keras", dataset="folder:/tmp/imgs")
    assert spec.model.startswith("file:")
