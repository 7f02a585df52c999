"""Tests for prune_core.results.summary: a run in a few lines for the terminal."""

from prune_core.results.demo import runs
from prune_core.results.summary import run_summary


def test_a_summary_says_recipe_accuracy_size_and_speed_in_a_few_lines():
    result = runs()[-1]  # the demo's exported channel run
    text = run_summary(result)
    lines = text.splitlines()
    assert len(lines) == 4 and len(text) < 500
    assert lines[0].startswith(result.spec.label()) and "efficientnet-compact on digits" in lines[0]
    assert f"top-1 {result.top1:.2%} (dense {result.dense.top1:.2%}" in lines[1]
    assert "× smaller" in lines[2] and " MB" in lines[2] or " kB" in lines[2]
    assert lines[3] == "  speed on LiteRT (float32, 1 thread): 1.49× faster (rounds 1.48–1.80×)"
