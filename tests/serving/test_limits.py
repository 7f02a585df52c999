"""Tests for prune_core.serving.limits: per-visitor queue caps, the paths a dashboard reads."""

import pytest

from prune_core import paths
from prune_core.errors import SpecError
from prune_core.serving import limits


def test_each_visitor_may_keep_only_so_many_jobs_waiting(monkeypatch):
    monkeypatch.setenv("PRUNE_MAX_QUEUED_PER_USER", "5")
    limits.check_submission(2, queued=100, mine=3)
    with pytest.raises(SpecError, match="you already have 4 jobs waiting; at most 5 each"):
        limits.check_submission(2, queued=100, mine=4)
    limits.check_submission(50, queued=0, mine=None)  # local mode: no per-user cap


def test_a_shared_dashboard_reads_only_uploaded_files(home, monkeypatch, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.setenv("PRUNE_PATH_ROOTS", str(outside))
    limits.check_path(str(outside / "model.keras"), "model file")
    monkeypatch.setenv("PRUNE_SHARED", "1")
    assert limits.path_roots() == [paths.uploads_dir().resolve()]
    with pytest.raises(SpecError, match="was not uploaded here"):
        limits.check_path(str(outside / "model.keras"), "model file")
    limits.check_path(str(paths.uploads_dir() / "abc" / "model.keras"), "model file")
