"""Tests for prune_core.results.headline: the best measured speed verdict a run has."""

from dataclasses import replace

from prune_core.results.demo import runs
from prune_core.results.headline import speed_headline


def test_an_exported_run_is_headlined_by_its_litert_speedup():
    structured = runs()[-1]  # the demo's exported channel run: LiteRT 1.49×, Keras within noise
    headline = speed_headline(structured)
    assert headline.label == "speed on LiteRT (float32, 1 thread)"
    assert headline.value == "1.49×" and headline.verdict == "1.49× faster" and headline.moved
    assert headline.band == "rounds 1.48–1.80×"
    assert "int8 it runs 2.25×" in headline.note


def test_without_export_keras_speaks_and_noise_is_not_a_speedup():
    unstructured = runs()[0]  # Keras 1.05× with a band 0.89–1.23: noise
    headline = speed_headline(unstructured)
    assert headline.label == "speed on this CPU (Keras, batch 1)"
    assert headline.value == "≈ 1×" and headline.verdict == "as fast as dense"
    assert not headline.moved
    slower = replace(unstructured, speedup_b1=0.8, speedup_b1_lo=0.75, speedup_b1_hi=0.85)
    assert speed_headline(slower).verdict == "1.25× slower"
    assert speed_headline(slower).value == "0.80×"


def test_a_run_never_timed_against_dense_has_no_headline():
    old = replace(runs()[0], speedup_b1=None, speedup_b1_lo=None, speedup_b1_hi=None)
    assert speed_headline(old) is None
