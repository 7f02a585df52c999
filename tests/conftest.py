"""Fixtures and constants shared by every test: PRUNE_HOME, the tiny recipe, its data and model."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

#: Five results written by the code before RunResult existed (commit c982413, schema 1): taylor 0.6
#: global with a TFLite export, magnitude threshold 0.1, structured taylor −40 % FLOPs, structured
#: latency-aware −30 % FLOPs (with the table's prediction), tfmot 0.5.
SCHEMA_1 = Path(__file__).resolve().parent / "fixtures" / "results_v1.jsonl"


@pytest.fixture(scope="session", autouse=True)
def prune_home(tmp_path_factory):
    """Every test writes baselines and runs under a throw-away PRUNE_HOME."""
    home = tmp_path_factory.mktemp("prune_home")
    os.environ["PRUNE_HOME"] = str(home)
    return home


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh PRUNE_HOME of this test's own, for what reads or writes the default store."""
    monkeypatch.setenv("PRUNE_HOME", str(tmp_path))
    return tmp_path


#: Recipe settings small enough for a test: tiny CNN on the synthetic set at 16×16.
TINY = dict(
    model="tiny-cnn",
    dataset="synthetic",
    image_size=16,
    baseline_epochs=4,
    fine_tune_epochs=2,
    calibration_examples=32,
    batch_size=16,
)


def tiny_with_file(path) -> dict:
    """TINY's recipe on a user's model file (used as trained, at its own input size)."""
    own = {k: v for k, v in TINY.items() if k not in ("image_size", "baseline_epochs")}
    return {**own, "model": f"file:{path}"}


@pytest.fixture(scope="session")
def tiny_data():
    from prune_core.data import datasets as data

    return data.load("synthetic", 16, 0)


@pytest.fixture
def tiny_model(tiny_data):
    from prune_core.engine import models

    return models.build("tiny-cnn", tiny_data.num_classes, 16, seed=0)
