"""Tests for prune_core.engine.pipeline: whole runs on the tiny model, for each kind of recipe."""

import json

import numpy as np
import pytest

from prune_core.data import datasets as data
from prune_core.engine import criteria, latency_table, metrics, models, pipeline
from prune_core.errors import ModelError, ResultError, SpecError
from prune_core.recipe import patterns
from prune_core.recipe.patterns import Pattern
from prune_core.recipe.spec import RunSpec
from prune_core.results.run_result import RunResult
from prune_core.results.tables import stage_table
from tests.conftest import TINY, tiny_with_file


def test_run_reports_every_measured_field_and_meets_its_target(tmp_path):
    events = []
    spec = RunSpec.of(**TINY, strategy="taylor", sparsity=0.6, scope="global")
    result = pipeline.run(
        spec, root=tmp_path, on_progress=events.append, model_path=tmp_path / "pruned.keras"
    )
    assert (
        result.weight_sparsity == pytest.approx(0.6, abs=0.005)
        and result.achieved == result.weight_sparsity
    )
    assert result.budget_removed is None and result.unit == "weights"
    assert result.nonzero_params < result.params and result.nonzero_flops < result.flops
    assert 0 <= result.top1_before_finetune <= 1 and 0 <= result.top1 <= result.top5 <= 1
    assert (
        result.latency_ms_b1_p50 > 0 and result.throughput_ips > 0 and result.finetune_seconds > 0
    )
    # latency is timed in alternation with the dense baseline, in the same job, with its band
    assert result.speedup_b1_lo <= result.speedup_b1 <= result.speedup_b1_hi
    assert (
        result.dense.latency_ms_b1_lo
        <= result.dense.latency_ms_b1_p50
        <= result.dense.latency_ms_b1_hi
    )
    assert result.spec == spec and result.model_path == str(tmp_path / "pruned.keras")
    assert {"baseline training", "scoring", "fine-tuning", "measuring"} <= {e.phase for e in events}
    # the first event's scores, one per weight scored, summarised for the histograms
    scores = result.distributions["scores"]
    assert scores["count"] == result.distributions["weights_before"]["count"] > 0
    assert len(scores["quantiles"]) > 2 and scores["hist_counts"]
    saved = models.load_user_model(str(tmp_path / "pruned.keras"))
    zeros = (
        1
        - np.count_nonzero(saved.get_layer("fc1").kernel.numpy())
        / saved.get_layer("fc1").kernel.numpy().size
    )
    assert zeros == pytest.approx(result.layer_sparsity["fc1"])
    # results are plain data
    assert RunResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_threshold_mode_reports_the_sparsity_it_produced(tmp_path):
    spec = RunSpec.of(**TINY, strategy="magnitude", sparsity=None, threshold=0.1)
    result = pipeline.run(spec, root=tmp_path)
    assert result.spec.mode == "threshold" and result.target is None
    assert 0 < result.weight_sparsity < 1
    assert all(0 <= s <= 1 for s in result.layer_sparsity.values())


def _accuracy_spy(monkeypatch):
    """Records the weight sparsity of every model whose accuracy is measured."""
    seen = []
    measure = metrics.accuracy

    def spy(model, x, y, *args, **kwargs):
        seen.append(
            metrics.weight_sparsity(criteria.find_targets(model))
            if not any("prune_low_magnitude" in layer.name for layer in model.layers)
            else "wrapped"
        )
        return measure(model, x, y, *args, **kwargs)

    monkeypatch.setattr(metrics, "accuracy", spy)
    return seen


def test_gradual_run_reaches_the_final_sparsity_and_measures_before_fine_tuning_on_that_model(
    tmp_path, monkeypatch
):
    steps = data.load("synthetic", 16, 0).steps_per_epoch(16)
    spec = RunSpec.of(
        **{**TINY, "fine_tune_epochs": 3},
        strategy="gradient",
        sparsity=0.7,
        schedule="polynomial",
        initial_sparsity=0.3,
        begin_step=1,
        end_step=1 + 2 * steps,
        frequency=2,
    )
    seen = _accuracy_spy(monkeypatch)
    result = pipeline.run(spec, root=tmp_path)
    assert result.weight_sparsity == pytest.approx(0.7, abs=0.01)
    assert [e.step for e in result.events] == spec.schedule.pruning_steps(3 * steps)
    # "before fine-tuning" is the trained model right after its first event (0.3), then the final
    # one is measured
    assert seen[-2] == pytest.approx(0.3, abs=0.01) and seen[-1] == pytest.approx(0.7, abs=0.01)


def test_tfmot_recipe_measures_before_fine_tuning_on_its_own_wrapped_model(tmp_path, monkeypatch):
    seen = _accuracy_spy(monkeypatch)
    result = pipeline.run(RunSpec.of(**TINY, strategy="tfmot", sparsity=0.5), root=tmp_path)
    assert seen[-2] == "wrapped" and result.events[0].achieved == pytest.approx(0.5, abs=0.01)
    assert result.weight_sparsity == pytest.approx(0.5, abs=0.01)
    # tfmot ranks by magnitude: its scores are the dense weights' magnitudes
    assert result.distributions["scores"] == result.distributions["weights_before"]


def test_impossible_schedule_is_refused_before_any_training(tmp_path):
    spec = RunSpec.of(
        **TINY,
        schedule="polynomial",
        initial_sparsity=0.5,
        sparsity=0.8,
        begin_step=1000,
        end_step=2000,
    )
    with pytest.raises(SpecError, match="--fine-tune-epochs"):
        pipeline.run(spec, root=tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "baselines").exists() or not list(
        (tmp_path / "fresh" / "baselines").glob("*.keras")
    )


def test_users_model_file_is_its_own_baseline(tmp_path, tiny_model):
    path = models.save(tiny_model, tmp_path / "mine.keras")
    result = pipeline.run(RunSpec.of(**tiny_with_file(path), sparsity=0.5), root=tmp_path)
    assert result.weight_sparsity == pytest.approx(0.5, abs=0.005)
    ten = models.save(models.build("tiny-cnn", 10, 16), tmp_path / "ten.keras")
    with pytest.raises(ModelError, match="predicts 10 classes"):
        pipeline.run(RunSpec.of(**tiny_with_file(ten), sparsity=0.5), root=tmp_path)


@pytest.mark.parametrize(
    "changes",
    [
        dict(scope="global"),
        dict(scope="global", budget="params"),
        dict(scope="global", budget="latency"),
        dict(scope="global", rank="latency"),
        dict(scope="layerwise", channel_multiple=8, sparsity=0.5),  # 16 channels → 8; 8 stay 8
        dict(
            scope="global",
            schedule="polynomial",
            initial_sparsity=0.1,
            begin_step=1,
            end_step=5,
            frequency=2,
        ),
    ],
)
def test_structured_runs_really_shrink_the_model(tmp_path, changes, monkeypatch):
    # A 16×16 tiny CNN is all per-op overhead in LiteRT; time layers by a deterministic stand-in
    # (overhead + work) so that the latency budget is reachable and the test is not a timing test.
    monkeypatch.setattr(
        latency_table,
        "_time",
        lambda model, threads, repeats: (
            1e-3 + 1e-6 * (model.count_params() + int(np.prod(model.output_shape[1:])))
        ),
    )
    spec = RunSpec.of(
        **TINY, granularity="structured", strategy="taylor", **{"sparsity": 0.4, **changes}
    )
    events = []
    result = pipeline.run(
        spec, root=tmp_path, model_path=tmp_path / "small.keras", on_progress=events.append
    )
    assert result.params < result.dense.params and result.flops < result.dense.flops
    assert result.nonzero_params >= 0.95 * result.params  # smaller and dense, not zeros
    assert (
        result.weight_sparsity < 0.05
        and result.unit == spec.pruning.budget
        and result.achieved == result.budget_removed
    )
    assert set(result.layer_channels_removed) and max(result.layer_channels_removed.values()) > 0
    saved = models.load_user_model(str(tmp_path / "small.keras"))
    assert saved.count_params() == result.params  # plain Keras, loads in safe mode
    if changes.get("scope") == "global":
        quantity = {"flops": "flops", "params": "params", "latency": "litert_ms_predicted"}[
            changes.get("budget", "flops")
        ]
        removed = 1 - getattr(result, quantity) / getattr(result.dense, quantity)
        assert removed >= 0.4 - 1e-9 and result.budget_removed == pytest.approx(removed)
    timing = [e for e in events if e.phase == "timing layers"]
    # the per-layer table's prediction
    if "latency" in (changes.get("budget"), changes.get("rank")):
        assert 0 < result.litert_ms_predicted < result.dense.litert_ms_predicted
        assert timing and timing[-1].fraction == 1.0  # reported while the table is timed
    else:
        assert not timing and result.litert_ms_predicted is None
    if changes.get("channel_multiple") == 8:
        assert all(
            layer.filters % 8 == 0 for layer in saved.layers if type(layer).__name__ == "Conv2D"
        )
    if changes.get("schedule") == "polynomial":
        assert [e.step for e in result.events] == [1, 3, 5]
        achieved = [e.achieved for e in result.events]
        assert achieved == sorted(achieved)


def test_pattern_runs_hold_their_pattern_after_fine_tuning(tmp_path):
    """2:4 and block:1x4 through the whole pipeline: the saved model's pruned kernels still hold the
    pattern after fine-tuning (every group of 4 has 2 zeros; every 1×4 block is all zero or all
    kept)."""
    import tensorflow as tf
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils as pu

    nm = pipeline.run(
        RunSpec.of(**TINY, strategy="taylor", pattern="2:4"),
        root=tmp_path,
        model_path=tmp_path / "nm.keras",
    )
    assert nm.pattern_violations == 0 and nm.row()["pattern"] == "2:4"
    kernels = [
        t.variable.numpy()
        for t in criteria.find_targets(models.load_user_model(str(tmp_path / "nm.keras")))
    ]
    assert all(pu.is_pruned_m_by_n(tf.constant(k), (2, 4)) for k in kernels)
    block = Pattern.parse("block:1x4")
    blocked = pipeline.run(
        RunSpec.of(
            **TINY, strategy="magnitude", pattern="block:1x4", sparsity=0.75, scope="global"
        ),
        root=tmp_path,
        model_path=tmp_path / "block.keras",
    )
    assert (
        blocked.weight_sparsity == pytest.approx(0.75, abs=0.05)
        and blocked.pattern_violations is None
    )
    for t in criteria.find_targets(models.load_user_model(str(tmp_path / "block.keras"))):
        zeros = patterns.block_scores((t.variable.numpy() == 0).astype(float), block)[0]
        assert set(np.unique(zeros)) <= {0.0, 1.0}, t.name


def test_a_combined_recipe_cuts_channels_then_weights_and_reports_every_stage(tmp_path):
    spec = RunSpec.of(
        **TINY,
        strategy="taylor",
        granularity="structured",
        scope="global",
        sparsity=0.3,
        then_sparsity=0.5,
        pattern="2:4",
    )
    result = pipeline.run(spec, root=tmp_path)
    names = [s["stage"] for s in result.stages]
    assert names == ["channels cut", "weights pruned 2:4", "fine-tuned"]
    cut, pruned, tuned = result.stages
    assert cut["params"] < result.dense.params and cut["nonzero_params"] > pruned["nonzero_params"]
    # the weight stage zeroes, it does not cut
    assert cut["params"] == pruned["params"] == tuned["params"]
    assert result.budget_removed >= 0.3 and result.pattern_violations == 0
    # one event: the cut
    assert [e.achieved for e in result.events] == [pytest.approx(result.budget_removed)]
    assert tuned["top1"] == pytest.approx(result.top1)
    table = stage_table(result)
    assert (
        list(table["stage"]) == ["dense", *names]
        and table["gzip bytes"].iloc[-1] == result.gzip_bytes
    )
    stored = result.to_dict()
    assert RunResult.from_dict(stored).stages == result.stages
    with pytest.raises(ResultError, match="stages"):
        RunResult.from_dict({**stored, "stages": [{"stage": 1}]})


@pytest.mark.parametrize(
    "changes",
    [
        dict(strategy="taylor", sparsity=0.3, granularity="structured", scope="global"),
        dict(strategy="tfmot", sparsity=0.5, schedule="polynomial", end_step=4, frequency=2),
        dict(strategy="magnitude", sparsity=0.3, granularity="structured", then_sparsity=0.5),
        # gradual channels: the steps before the first cut train a copy, not the teacher
        dict(
            strategy="taylor",
            sparsity=0.3,
            granularity="structured",
            scope="global",
            schedule="polynomial",
            begin_step=3,
            end_step=5,
            frequency=2,
            fine_tune_epochs=1,
        ),
    ],
)
def test_a_distilled_recipe_fine_tunes_against_the_unchanged_dense_baseline(
    tmp_path, monkeypatch, changes
):
    from prune_core.engine import training

    teachers = []
    own_init = training.Trainer.__init__

    def recording(self, model, **kwargs):
        teachers.append((kwargs.get("teacher"), kwargs.get("distill"), kwargs.get("temperature")))
        own_init(self, model, **kwargs)

    monkeypatch.setattr(training.Trainer, "__init__", recording)
    spec = RunSpec.of(**{**TINY, **changes}, distill=0.7, temperature=3.0)
    result = pipeline.run(spec, root=tmp_path)
    fine_tunes = [t for t in teachers if t[1] == 0.7]
    assert fine_tunes and all(t[2] == 3.0 for t in fine_tunes)
    teacher = fine_tunes[0][0]
    # the teacher is the dense baseline, untouched by pruning and fine-tuning
    dense = models.load_user_model(str(next(tmp_path.glob("baselines/*.keras"))))
    for ours, theirs in zip(teacher.get_weights(), dense.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert result.spec.training.distill == 0.7 and "+distill 0.7" in result.spec.label()


@pytest.mark.parametrize(
    "changes",
    [
        dict(strategy="magnitude", sparsity=0.8, scope="global"),
        dict(strategy="taylor", sparsity=0.4, granularity="structured", scope="global"),
    ],
)
def test_reconstruction_brings_the_cut_model_closer_to_the_dense_one(tmp_path, changes):
    """With no fine-tuning, the refitted model's logits lie closer to the dense model's than the
    same cut's without refitting; removed weights stay removed."""
    from prune_core.engine.run_inputs import cached_baseline

    spec = RunSpec.of(**{**TINY, **changes, "fine_tune_epochs": 0})
    events = []
    plain, cut = pipeline.run_keeping_model(spec, root=tmp_path)
    refitted_result, refitted = pipeline.run_keeping_model(
        spec.with_(reconstruct=True), root=tmp_path, on_progress=events.append
    )
    assert "reconstructing" in {e.phase for e in events}
    dense = cached_baseline(spec, tmp_path)
    x = data.load("synthetic", 16, 0).x_test.astype(np.float32)

    def distance(model):
        return float(np.mean((model(x, training=False).numpy() - dense(x).numpy()) ** 2))

    assert distance(refitted) < distance(cut)
    # removed weights stay removed (a weight that reads an input the cut silenced refits to 0)
    assert refitted_result.achieved >= plain.achieved - 1e-9
    for name, zeros in plain.layer_sparsity.items():
        assert refitted_result.layer_sparsity[name] >= zeros
    assert "+refit" in refitted_result.spec.label()
