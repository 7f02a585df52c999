"""Tests for prune_core.results.diagnosis: plain warnings read off a run's own numbers."""

import dataclasses

import pytest

from prune_core.results import demo, diagnosis


@pytest.fixture(scope="module")
def run():
    """A healthy bundled run (compact EfficientNet on digits: 10 classes)."""
    return next(r for r in demo.runs() if r.top1 > 0.9 and r.top1 >= r.top1_before_finetune)


def test_a_healthy_run_gets_no_warning(run):
    assert diagnosis.warnings(run, 10) == []


def test_a_baseline_at_chance_is_named_and_points_at_the_pixel_range(run):
    at_chance = dataclasses.replace(run, dense=dataclasses.replace(run.dense, top1=0.11))
    (warning,) = diagnosis.warnings(
        dataclasses.replace(at_chance, top1=0.1, top1_before_finetune=0.1), 10
    )
    assert "dense baseline itself is at chance (top-1 0.110 with 10 classes)" in warning
    assert "pixels" not in warning  # a built-in model scales its own input
    own = dataclasses.replace(
        at_chance,
        spec=run.spec.with_(model="file:/models/mine.keras", pixels="-1-1"),
        top1=0.1,
        top1_before_finetune=0.1,
    )
    (warning,) = diagnosis.warnings(own, 10)
    assert "Your model was given pixels −1–1: check that it was trained on that range" in warning


def test_a_collapsed_run_is_told_apart_from_a_bad_baseline(run):
    collapsed = dataclasses.replace(run, top1=0.1, top1_before_finetune=0.1)
    (warning,) = diagnosis.warnings(collapsed, 10)
    assert warning.startswith("This run collapsed to chance (top-1 0.100 with 10 classes)")
    assert diagnosis.warnings(collapsed, None) == []  # without the class count, chance is unknown
    assert diagnosis.warnings(collapsed, 3)  # 0.1 is below a third too


def test_fine_tuning_that_made_a_run_worse_is_said_but_noise_is_not(run):
    worse = dataclasses.replace(run, top1_before_finetune=run.top1 + 0.05)
    (warning,) = diagnosis.warnings(worse, 10)
    assert "Fine-tuning made this run worse" in warning
    within_noise = dataclasses.replace(run, top1_before_finetune=run.top1 + 0.005)
    assert diagnosis.warnings(within_noise, 10) == []
