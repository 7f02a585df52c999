"""Tests for ui/demo.py: the demo sweep a page queues is the one the bundled results measured."""

from prune_core.results import demo
from ui.demo import demo_specs


def test_the_demo_sweep_is_fourteen_distinct_recipes():
    specs = demo_specs()
    assert len(specs) == 14 and len({s.to_json() for s in specs}) == 14
    assert sum(s.pruning.granularity == "structured" for s in specs) == 2


def test_the_demo_sweep_repeats_the_bundled_runs_but_their_export():
    bundled = sorted(r.spec.with_(export="none").to_json() for r in demo.runs())
    assert sorted(s.to_json() for s in demo_specs()) == bundled
