"""Tests for prune_core.recipe.pruning: which pattern and regrowth recipes are accepted."""

import pytest

from prune_core.errors import SpecError
from prune_core.recipe.spec import RunSpec


@pytest.mark.parametrize(
    "flat,fragment",
    [
        (
            dict(pattern="2:4", granularity="structured"),
            "structured pruning removes whole channels",
        ),
        (dict(pattern="1:4", sparsity=0.5), "set the sparsity to 0.25"),
        (dict(pattern="2:4", threshold=0.1, sparsity=None), "instead of a threshold"),
        (dict(pattern="2:4", scope="global"), "layerwise scope"),
        (dict(pattern="2:4", schedule="constant", begin_step=0, end_step=10, frequency=5), None),
        (dict(pattern="2:4", strategy="tfmot"), "tfmot's recipe here prunes without a pattern"),
        (dict(pattern="2:4", schedule="polynomial", end_step=100), "one-shot or constant"),
        (dict(regrow="rigl", schedule="polynomial", end_step=100), "one-shot schedule"),
        (dict(regrow="rigl", threshold=0.1, sparsity=None), "not a threshold"),
        (dict(regrow="rigl", pattern="2:4"), "no pattern"),
        (dict(regrow="rigl", regrow_fraction=1.0), "regrow fraction must be in (0, 1)"),
        (dict(regrow="rigl", regrow_every=0), "regrow every must be an integer"),
    ],
)
def test_pattern_and_regrowth_recipes_are_checked(flat, fragment):
    if fragment is None:
        assert RunSpec.of(**flat).pruning.pattern == "2:4"
        return
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        RunSpec.of(**flat)
