"""Tests for prune_core.results.demo: the bundled results load checked, once, and leave whole."""

import json

import pytest

from prune_core.jobs.store import JobStore
from prune_core.results import demo


@pytest.fixture
def no_cache():
    """Forget the loaded demo before and after a test that moves its files."""
    demo.runs.cache_clear()
    demo.profile.cache_clear()
    yield
    demo.runs.cache_clear()
    demo.profile.cache_clear()


def _point_at(monkeypatch, runs, profile):
    monkeypatch.setattr(demo, "RUNS", runs)
    monkeypatch.setattr(demo, "PROFILE", profile)


def test_the_bundled_runs_are_checked_results_without_files():
    runs = demo.runs()
    assert len(runs) == 14 and demo.available()
    assert all(r.model_path is None for r in runs)
    assert {r.spec.pruning.strategy for r in runs} == {"magnitude", "taylor", "fisher", "random"}
    assert len({r.spec.baseline for r in runs}) == 1  # one baseline: comparable numbers


def test_the_bundled_profile_is_of_the_runs_baseline():
    measured, run = demo.profile(), demo.runs()[0]
    assert set(measured.criteria) == {"magnitude", "gradient", "taylor", "fisher", "wanda"}
    assert (measured.baseline["model"], measured.baseline["dataset"]) == (
        run.spec.baseline.model,
        run.spec.baseline.dataset,
    )


def test_missing_demo_files_mean_no_demo(tmp_path, monkeypatch, no_cache):
    _point_at(monkeypatch, tmp_path / "runs.jsonl", tmp_path / "profile.json")
    assert demo.runs() == () and demo.profile() is None and not demo.available()
    assert demo.rows() == []


def test_a_broken_profile_file_is_left_out_not_raised(tmp_path, monkeypatch, no_cache):
    broken = tmp_path / "profile.json"
    for text in ("{not json", json.dumps({"schema": 1}), json.dumps({"schema": 99})):
        broken.write_text(text)
        demo.profile.cache_clear()
        _point_at(monkeypatch, demo.RUNS, broken)
        assert demo.profile() is None, text


def test_blank_lines_in_the_runs_file_are_skipped(tmp_path, monkeypatch, no_cache):
    lines = demo.RUNS.read_text().splitlines()[:2]
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n" + lines[0] + "\n\n  \n" + lines[1] + "\n")
    _point_at(monkeypatch, runs, tmp_path / "none.json")
    assert len(demo.runs()) == 2


def test_a_profile_becomes_one_profile_job_per_criterion():
    measured = demo.profile()
    rows = demo.profile_rows(measured, "a sweep")
    assert [label for _, _, label, _, _, _ in rows] == [f"profile {c}" for c in measured.criteria]
    for (spec, kind, _, sweep, result, seconds), name in zip(rows, measured.criteria):
        assert kind == "profile" and sweep == "a sweep"
        assert spec.pruning.strategy == name
        assert spec.baseline.model == measured.baseline["model"]
        assert spec.baseline.image_size == measured.baseline["image_size"]
        assert list(result["criteria"]) == [name] and result["levels"] == list(measured.levels)
        assert seconds == pytest.approx(sum(measured.criteria[name].seconds.values()))


def test_loading_the_demo_twice_adds_it_once_and_removing_takes_only_it(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    ids = demo.load(store)
    assert len(ids) == len(demo.runs()) + len(demo.profile().criteria)
    assert demo.load(store) == [] and store.demo_count() == len(ids)
    runs = [j for j in store.list() if j.kind == "run"]
    assert {j.label for j in runs} == {r.spec.label() for r in demo.runs()}
    assert all(j.sweep == demo.SWEEP and j.demo for j in store.list())
    assert demo.remove(store) == len(ids) and store.list() == []
