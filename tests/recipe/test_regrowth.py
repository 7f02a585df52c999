"""Tests for prune_core.recipe.regrowth: RigL drops small weights, grows large gradients."""

import numpy as np
import pytest

from prune_core.errors import SpecError
from prune_core.recipe.regrowth import RigL, move


def test_move_drops_smallest_and_grows_largest_gradient_keeping_the_count():
    mask = np.array([1, 1, 1, 0, 0, 0], dtype=np.float32)
    weights = np.array([0.9, 0.1, 0.5, 0.0, 0.0, 0.0])
    gradients = np.array([0.0, 0.0, 0.0, 0.2, 3.0, 0.1])
    new, grown = move(mask, weights, gradients, 1)
    np.testing.assert_array_equal(new, [1, 0, 1, 0, 1, 0])  # 0.1 dropped, the 3.0 gradient grown
    np.testing.assert_array_equal(grown, [0, 0, 0, 0, 1, 0])
    assert new.sum() == mask.sum()
    new2, grown2 = move(mask, weights, gradients, 10)  # never more than there is to move
    assert new2.sum() == mask.sum() and grown2.sum() == 3


def test_fraction_decays_as_a_cosine_and_updates_stop_at_three_quarters():
    rigl = RigL(fraction=0.4, every=10)
    assert rigl.fraction_at(0, 100) == pytest.approx(0.4)
    assert rigl.fraction_at(37.5, 100) == pytest.approx(0.2)
    assert rigl.fraction_at(75, 100) == pytest.approx(0.0)
    assert rigl.updates(100) == [10, 20, 30, 40, 50, 60, 70]


def test_rigl_that_would_never_move_is_refused():
    with pytest.raises(SpecError, match="no update would happen"):
        RigL(every=100).validate_for(120)  # last update step 90 < 100
    RigL(every=50).validate_for(120)
