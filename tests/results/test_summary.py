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


def test_a_channel_run_far_past_its_target_says_why():
    import dataclasses

    channel = runs()[-1]  # a structured run of the demo
    at = dataclasses.replace(channel, budget_removed=channel.target + 0.01)
    assert at.amount_text() == f"flops removed {at.budget_removed:.1%}"  # on target: no word
    past = dataclasses.replace(channel, budget_removed=channel.target + 0.2)
    assert past.amount_text() == (
        f"flops removed {past.budget_removed:.1%} (target {channel.target:.1%}: whole channels "
        "come in steps)"
    )
    eights = dataclasses.replace(past, spec=past.spec.with_(channel_multiple=8))
    assert "(target " in run_summary(eights).splitlines()[2]
    assert eights.amount_text().endswith("channel counts kept to multiples of 8)")
