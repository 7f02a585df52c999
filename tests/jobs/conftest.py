"""Fixtures for the tests of prune_core.jobs: a job store that shares the session's baselines."""

from pathlib import Path

import pytest

from prune_core.jobs.store import JobStore


@pytest.fixture
def store(tmp_path, prune_home):
    # share the session's baseline cache so jobs don't retrain the tiny baseline each time
    home = tmp_path / "home"
    home.mkdir()
    (home / "baselines").symlink_to(_baselines(prune_home), target_is_directory=True)
    return JobStore(home / "jobs.sqlite3")


def _baselines(prune_home):
    path = Path(prune_home) / "baselines"
    path.mkdir(exist_ok=True)
    return path
