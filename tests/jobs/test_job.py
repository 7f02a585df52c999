"""Tests for prune_core.jobs.job: a stored job's states, timing and lazily parsed results."""

import json

import pytest

from prune_core.errors import ResultError
from prune_core.jobs import job as jobs
from prune_core.jobs.job import ACTIVE, FINISHED, STATES, Job
from prune_core.results.profile import Profile
from prune_core.results.run_result import RunResult
from tests.jobs.helpers import QUICK
from tests.results.helpers import _old
from tests.results.test_profile import _stored


def _job(**fields):
    base = dict(
        id=1,
        spec=QUICK,
        label=QUICK.label(),
        sweep=None,
        status="queued",
        created_at=100.0,
        started_at=None,
        finished_at=None,
        pid=None,
        cancel_requested=False,
        progress={},
        error=None,
        result_json=None,
    )
    return Job(**{**base, **fields})


def test_states_are_the_active_then_the_finished_ones_without_overlap():
    assert STATES == ("queued", "running", "completed", "failed", "canceled", "interrupted")
    assert not set(ACTIVE) & set(FINISHED)


@pytest.mark.parametrize("status", STATES)
def test_only_queued_and_running_jobs_are_active(status):
    assert _job(status=status).active is (status in ("queued", "running"))


def test_a_job_is_a_run_of_the_local_user_unless_told_otherwise():
    job = _job()
    assert (job.kind, job.parent, job.retried_as, job.owner, job.demo) == (
        "run",
        None,
        None,
        None,
        False,
    )


def test_a_job_not_yet_started_has_taken_no_time():
    assert _job().elapsed == 0.0


def test_a_finished_job_took_from_its_start_to_its_end():
    assert _job(started_at=110.0, finished_at=145.5).elapsed == pytest.approx(35.5)


def test_a_running_job_has_taken_until_now(monkeypatch):
    monkeypatch.setattr(jobs.time, "time", lambda: 130.0)
    assert _job(status="running", started_at=110.0).elapsed == pytest.approx(20.0)


def test_no_result_is_none_and_a_stored_one_is_parsed_once():
    assert _job().result is None
    assert _job(result_json="").result is None
    job = _job(status="completed", result_json=json.dumps({"top1": 0.5, "model_path": "m.h5"}))
    assert job.result == {"top1": 0.5, "model_path": "m.h5"}
    assert job.result is job.result  # cached: pages listing many jobs parse each once


def test_a_stored_run_result_reads_as_a_typed_run_result():
    stored = _old()[0]
    job = _job(status="completed", result_json=json.dumps(stored))
    result = job.run_result
    assert isinstance(result, RunResult)
    assert result.top1 == stored["top1"] and result.spec.pruning.strategy == "taylor"
    assert job.run_result is result


@pytest.mark.parametrize(
    "result_json, words",
    [
        (None, "JSON object"),  # a job with no result yet
        ("[1, 2]", "JSON object"),
        ('{"top1": 0.5}', "recipe"),
        (json.dumps(_stored()), "recipe"),  # a profile job's result
    ],
)
def test_what_is_not_a_run_result_raises_a_result_error(result_json, words):
    with pytest.raises(ResultError, match=words):
        _ = _job(status="completed", result_json=result_json).run_result


def test_a_profile_jobs_result_reads_as_a_profile():
    stored = _stored()
    job = _job(kind="profile", status="completed", result_json=json.dumps(stored))
    assert isinstance(job.profile, Profile)
    assert job.profile.to_dict() == stored


@pytest.mark.parametrize("result_json", [None, json.dumps(_old()[0])])
def test_what_is_not_a_profile_raises_a_result_error(result_json):
    with pytest.raises(ResultError, match="not a pruning profile"):
        _ = _job(status="completed", result_json=result_json).profile


def test_a_job_is_immutable():
    with pytest.raises(AttributeError):
        _job().status = "running"


def test_the_store_labels_runs_by_their_recipe_and_profiles_by_their_criterion(store):
    run = store.get(store.submit(QUICK))
    profile = store.get(store.submit(QUICK.with_(strategy="taylor"), kind="profile"))
    assert run.label == "magnitude s=0.5 layerwise oneshot" and run.kind == "run"
    assert profile.label == "profile taylor" and profile.kind == "profile"
