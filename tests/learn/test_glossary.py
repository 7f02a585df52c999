"""Tests for prune_core.learn.glossary: every word and help text the pages use is defined."""

import re

import pytest

from prune_core.learn.glossary import GLOSSARY, HELP
from prune_core.recipe.pruning import CRITERIA
from tests.conftest import ROOT

SOURCES = {
    path.relative_to(ROOT).as_posix(): path.read_text()
    for path in [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
}


def _used(pattern):
    """{key: first file using it} for every literal key a page looks up with `pattern`."""
    used = {}
    for name, text in SOURCES.items():
        for key in re.findall(pattern, text):
            used.setdefault(key, name)
    return used


HELP_USED = _used(r'(?<![A-Za-z_])HELP\["([^"]+)"\]')  # not the experiment page's PAGE_HELP
GLOSSARY_USED = _used(r'GLOSSARY\["([^"]+)"\]')


def test_the_pages_look_up_help_texts_and_glossary_terms():
    assert len(HELP_USED) >= 20 and GLOSSARY_USED  # the patterns still find the look-ups


def test_every_help_text_a_page_uses_exists():
    missing = {key: where for key, where in HELP_USED.items() if key not in HELP}
    assert not missing


def test_every_glossary_term_a_page_uses_exists():
    missing = {key: where for key, where in GLOSSARY_USED.items() if key not in GLOSSARY}
    assert not missing


def test_every_help_text_is_used_by_some_page():
    assert sorted(set(HELP) - set(HELP_USED)) == []


@pytest.mark.parametrize("text", list(HELP.values()) + list(GLOSSARY.values()))
def test_no_text_is_empty_or_badly_joined(text):
    assert text.strip() == text and len(text) > 15
    assert text.endswith((".", ")")), text
    assert "  " not in text and "\n" not in text
    assert not re.search(r" [.,;:](\s|$)", text), text  # a space before punctuation


def test_help_texts_are_sentences_and_meanings_follow_their_term():
    # a tooltip starts a sentence; a meaning follows "**term** —" on the Learn page
    lower_names = ("tfmot",)  # names written in lower case start a sentence as they are
    assert [k for k, v in HELP.items() if not (v[0].isupper() or v.startswith(lower_names))] == []
    assert [k for k, v in GLOSSARY.items() if not (v[0].islower() or v[0] in "½|")] == []


def test_the_glossary_explains_every_criterion_a_recipe_can_use():
    assert set(CRITERIA) <= set(GLOSSARY)


def test_the_glossary_defines_the_words_the_metrics_are_named_by():
    for term in ("sparsity", "top-1 / top-5", "FLOPs", "gzip bytes", "latency", "int8"):
        assert term in GLOSSARY
