"""Tests for prune_core.results.result_files: JSON Lines of results, streamed and checked."""

import json

import pytest

from prune_core.errors import ResultError
from prune_core.results import result_files
from tests.conftest import SCHEMA_1


def test_every_line_becomes_a_result_without_paths(tmp_path):
    lines = SCHEMA_1.read_text().splitlines()
    stored = json.loads(lines[0])
    stored["model_path"] = "/home/someone/pruned.keras"
    path = tmp_path / "runs.jsonl"
    path.write_text("\n".join([json.dumps(stored), "", *lines[1:]]) + "\n")
    results = result_files.read(path)
    assert len(results) == len(lines)
    assert all(r.model_path is None for r in results)


def test_a_bad_line_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(SCHEMA_1.read_text().splitlines()[0] + "\n{not json}\n")
    with pytest.raises(ResultError, match=r"runs.jsonl:2: not a run result"):
        result_files.read(path)
    with pytest.raises(ResultError, match="no such file"):
        result_files.read(tmp_path / "missing.jsonl")


def test_room_caps_how_many_results_are_read(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text((SCHEMA_1.read_text().splitlines()[0] + "\n") * 3)
    assert len(result_files.read(path, room=3)) == 3
    with pytest.raises(ResultError, match="runs.jsonl:3: an import holds at most"):
        result_files.read(path, room=2)
