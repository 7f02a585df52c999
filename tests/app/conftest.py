"""Fixtures for the dashboard's AppTests: a store per test, a real run and profile, two visitors."""

import pytest

from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY


@pytest.fixture
def home(home, monkeypatch):
    """The root conftest's fresh PRUNE_HOME; the pages start no dispatcher."""
    monkeypatch.setenv("PRUNE_AUTOSTART", "0")
    return home


@pytest.fixture(scope="session")
def real_result(prune_home):
    """One real completed tiny run, to put behind the pages."""
    from prune_core.engine import pipeline

    return pipeline.run(RunSpec.of(**TINY, strategy="magnitude", sparsity=0.6))


@pytest.fixture(scope="session")
def tiny_profile(prune_home):
    """A real profile of the tiny model (two criteria), measured once for these tests."""
    from prune_core.engine import profiler

    return profiler.run(
        RunSpec.of(**TINY),
        ["magnitude", "taylor"],
        levels=(0.0, 0.3, 0.6, 0.9),
        layer_levels=(0.25, 0.5, 0.9),
    )


@pytest.fixture
def shared(home, monkeypatch):
    """A shared dashboard with two visitors' accounts."""
    from prune_core.serving import access

    monkeypatch.setenv("PRUNE_SHARED", "1")
    access.add_user("alice", "alice-password")
    access.add_user("bob", "bob-password")
    return home
