"""Tests for ui/submission.py: a user's files are checked before anything is queued."""

import pytest

from prune_core.errors import DataError, PruneError, SpecError
from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY, tiny_with_file
from tests.data.helpers import _write_images
from ui.submission import check_inputs


def _spec(**changes):
    model = changes.get("model", "")
    base = tiny_with_file(model[len("file:") :]) if model.startswith("file:") else TINY
    return RunSpec.of(**{**base, "sparsity": 0.5, **changes})


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Only `tmp_path/allowed` may be read."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    monkeypatch.setenv("PRUNE_PATH_ROOTS", str(allowed))
    monkeypatch.delenv("PRUNE_SHARED", raising=False)
    return allowed


def test_built_in_models_and_datasets_need_no_check(roots):
    check_inputs([_spec(), _spec(dataset="digits", model="efficientnet-compact")])


def test_a_good_image_folder_inside_the_roots_passes(roots):
    for i, name in enumerate(("cats", "dogs")):
        _write_images(roots / "images" / name, 12, 60 * i)
    check_inputs([_spec(dataset=f"folder:{roots / 'images'}")])


def test_a_folder_outside_the_roots_is_refused_before_it_is_read(roots, tmp_path):
    outside = tmp_path / "elsewhere"  # need not even exist: the path alone is refused
    with pytest.raises(SpecError, match="outside the folders this dashboard reads from"):
        check_inputs([_spec(dataset=f"folder:{outside}")])


def test_a_folder_a_job_would_refuse_is_refused_with_the_jobs_reason(roots):
    _write_images(roots / "images" / "only", 12, 0)
    with pytest.raises(DataError, match="at least two"):
        check_inputs([_spec(dataset=f"folder:{roots / 'images'}")])


def test_a_model_file_outside_the_roots_is_refused(roots, tmp_path):
    outside = tmp_path / "mine.keras"
    outside.write_bytes(b"")
    with pytest.raises(SpecError, match="model file .* is outside the folders"):
        check_inputs([_spec(model=f"file:{outside}")])


def test_a_model_file_that_is_not_a_keras_model_is_refused(roots):
    bad = roots / "mine.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(PruneError):
        check_inputs([_spec(model=f"file:{bad}")])


def test_one_bad_recipe_among_many_refuses_the_submission(roots, tmp_path):
    specs = [_spec(), _spec(sparsity=0.8), _spec(dataset=f"folder:{tmp_path / 'nope'}")]
    with pytest.raises(SpecError):
        check_inputs(specs)
