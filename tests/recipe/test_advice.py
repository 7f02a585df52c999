"""Tests for prune_core.recipe.advice: said before queueing, only where it applies."""

from prune_core.measured import HIGH_SPARSITY_EPOCHS
from prune_core.recipe.advice import advice
from prune_core.recipe.spec import RunSpec


def test_high_weight_sparsity_on_a_short_budget_is_told_the_budget_it_needs():
    short = RunSpec.of(strategy="taylor", scope="auto", sparsity=0.98, fine_tune_epochs=8)
    [line] = advice([short, short.with_(sparsity=0.95)])  # said once for the sweep
    assert "8 fine-tune epochs" in line and f"consider {HIGH_SPARSITY_EPOCHS} epochs" in line
    assert "on Shapes, 24 epochs left 1.8 and 3.5 pp, 48 epochs 0.1 and 1.5 pp" in line


def test_high_weight_sparsity_ranked_globally_is_told_to_rank_automatically():
    spec = RunSpec.of(strategy="taylor", scope="global", sparsity=0.95, fine_tune_epochs=24)
    [line] = advice([spec])
    assert "rank automatically (auto)" in line and "chance" in line
    assert advice([spec.with_(scope="auto")]) == []


def test_no_advice_where_the_budget_or_the_cut_is_fine():
    assert advice([RunSpec.of(strategy="taylor", sparsity=0.9, fine_tune_epochs=8)]) == []
    assert (
        advice([RunSpec.of(strategy="taylor", scope="auto", sparsity=0.98, fine_tune_epochs=24)])
        == []
    )
    channels = RunSpec.of(strategy="taylor", sparsity=0.5, granularity="structured")
    assert advice([channels]) == []
    assert advice([RunSpec.of(strategy="taylor", sparsity=None, threshold=0.1)]) == []
