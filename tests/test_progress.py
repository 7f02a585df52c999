"""Tests for prune_core.progress: a progress report's fraction."""

from prune_core.progress import Progress


def test_progress_fraction_without_steps_is_zero():
    assert Progress("scoring").fraction == 0.0
