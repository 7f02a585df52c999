"""Helpers shared by the tests of prune_core.jobs: quick and slow recipes, waiting for a state."""

import time

from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY

QUICK = RunSpec.of(**{**TINY, "fine_tune_epochs": 1}, sparsity=0.5)
SLOW = RunSpec.of(**{**TINY, "fine_tune_epochs": 400}, sparsity=0.5)


def _wait(predicate, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
