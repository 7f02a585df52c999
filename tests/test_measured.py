"""Tests for prune_core.measured: the quoted numbers are sane and their benchmarks exist."""

import inspect
import re

import pytest

from prune_core import measured
from prune_core.recipe.pruning import SCOPES, STRATEGIES
from prune_core.recipe.spec import RunSpec
from tests.conftest import ROOT

SOURCE = inspect.getsource(measured)
NUMBERS = {
    name: value
    for name, value in vars(measured).items()
    if name.isupper() and isinstance(value, int | float)
}


def test_the_module_quotes_the_numbers_the_pages_read():
    assert {
        "DEMO_SWEEP_MINUTES",
        "LATENCY_TABLE_B0_SECONDS",
        "EXPORT_MINUTES",
        "SINGLE_TIMING_NOISE",
        "FASTEST_ROUND_REPEATS",
        "MEDIAN_MOVES",
        "TF_TEARDOWN_SECONDS",
    } <= set(NUMBERS)


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_every_measured_number_is_positive(name):
    assert NUMBERS[name] > 0


def test_shares_are_fractions_and_the_fastest_round_repeats_better_than_one_median():
    for share in (
        measured.SINGLE_TIMING_NOISE,
        measured.FASTEST_ROUND_REPEATS,
        measured.MEDIAN_MOVES,
    ):
        assert 0 < share < 1
    assert measured.FASTEST_ROUND_REPEATS < measured.MEDIAN_MOVES


def test_the_best_recipe_is_one_a_form_can_queue():
    assert measured.BEST_STRATEGY in STRATEGIES and measured.BEST_SCOPE in SCOPES
    spec = RunSpec.of(strategy=measured.BEST_STRATEGY, scope=measured.BEST_SCOPE, sparsity=0.5)
    assert (spec.pruning.strategy, spec.pruning.scope) == (
        measured.BEST_STRATEGY,
        measured.BEST_SCOPE,
    )


def test_every_benchmark_the_comments_name_exists():
    named = set(re.findall(r"((?:docs/benchmarks|bench|tools)/[\w./-]+\.(?:md|py))", SOURCE))
    assert len(named) >= 6, named
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert not missing, f"measured.py cites files that do not exist: {missing}"


def test_every_number_is_documented_beside_its_benchmark():
    # each assignment is preceded by a comment naming where it was measured
    blocks = re.split(r"\n\n+", SOURCE.split('"""', 2)[2].strip())
    for block in blocks:
        comment = "\n".join(line for line in block.splitlines() if line.startswith("#"))
        assert re.search(r"docs/benchmarks/|bench/|tools/", comment), block
