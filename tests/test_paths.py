"""Tests for prune_core.paths: the data folders, file-name slugs, atomic writes, served files."""

import os
import stat

import pytest

from prune_core import paths


def test_home_is_prune_home_expanded_and_created(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PRUNE_HOME", "~/data/prune")
    assert paths.home() == tmp_path / "data" / "prune"
    assert (tmp_path / "data" / "prune").is_dir()


def test_without_prune_home_the_data_lives_in_the_project(monkeypatch, tmp_path):
    monkeypatch.delenv("PRUNE_HOME")
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    assert paths.home() == tmp_path / ".prune" and (tmp_path / ".prune").is_dir()


@pytest.mark.parametrize(
    "folder, name",
    [
        (paths.baselines_dir, "baselines"),
        (paths.runs_dir, "runs"),
        (paths.profiles_dir, "profiles"),
        (paths.uploads_dir, "uploads"),
    ],
)
def test_each_folder_is_made_under_the_given_root_or_home(home, tmp_path_factory, folder, name):
    other = tmp_path_factory.mktemp("other")
    assert folder(other) == other / name and (other / name).is_dir()
    assert folder() == home / name and (home / name).is_dir()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tiny-cnn", "tiny-cnn"),
        ("efficientnet_b0.v2", "efficientnet_b0.v2"),
        ("file:/home/me/my model.keras", "file_home_me_my_model.keras"),
        ("folder:C:\\images\\*", "folder_C_images_"),
        ("ünïcode", "_n_code"),
    ],
)
def test_a_slug_keeps_only_safe_file_name_characters(text, expected):
    assert paths.slug(text) == expected


def test_a_slug_is_at_most_sixty_characters_and_never_a_path():
    assert len(paths.slug("x" * 200)) == 60
    assert "/" not in paths.slug("../../etc/passwd") and paths.slug("../..") == ".._.."


def test_write_atomically_writes_the_whole_file_with_its_mode_and_no_temporary(tmp_path):
    target = tmp_path / "model.json"
    target.write_bytes(b"old")
    paths.write_atomically(target, b"new content", mode=0o600)
    assert target.read_bytes() == b"new content"
    assert list(tmp_path.iterdir()) == [target]
    paths.write_atomically(tmp_path / "fresh.bin", b"", mode=0o600)
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.bin").st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "users.json"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(paths.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        paths.write_atomically(target, b"half")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_write_atomically_into_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        paths.write_atomically(tmp_path / "nowhere" / "x", b"data")


def _file(path, content=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_files_in_runs_and_exports_are_servable(tmp_path):
    run = _file(tmp_path / "runs" / "3" / "model.keras")
    export = _file(tmp_path / "exports" / "model.tflite")
    assert paths.servable(str(run), tmp_path) == run.resolve()
    assert paths.servable(str(export), tmp_path) == export.resolve()


def test_nothing_else_in_or_outside_the_data_folder_is_servable(tmp_path):
    root = tmp_path / "home"
    for path in (
        _file(root / "users.json"),
        _file(root / "baselines" / "b.keras"),
        _file(root / "uploads" / "u.keras"),
        _file(root / "runs-old" / "m.keras"),  # a name that only starts like a served folder
        _file(tmp_path / "runs" / "m.keras"),  # another home's runs
    ):
        assert paths.servable(str(path), root) is None, path
    (root / "runs" / "4").mkdir(parents=True)
    assert paths.servable(str(root / "runs" / "4"), root) is None  # a folder is not a file
    assert paths.servable(str(root / "runs" / "missing.keras"), root) is None


def test_a_link_inside_runs_to_a_file_outside_is_not_servable(tmp_path):
    secret = _file(tmp_path / "secret.txt")
    link = tmp_path / "home" / "runs" / "5" / "model.keras"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    assert paths.servable(str(link), tmp_path / "home") is None


@pytest.mark.parametrize("text", [None, "", "runs/\0/model.keras"])
def test_no_path_or_an_impossible_one_is_not_servable(text, tmp_path):
    assert paths.servable(text, tmp_path) is None


def test_the_data_directory_and_what_is_written_in_it_are_private(tmp_path, monkeypatch):
    """Uploads, models and the job store of every visitor: readable by the server's user only."""
    import stat

    from prune_core.jobs.store import JobStore
    from prune_core.recipe.spec import RunSpec

    home = tmp_path / "data"
    monkeypatch.setenv("PRUNE_HOME", str(home))
    store = JobStore()
    store.submit(RunSpec.of(model="tiny-cnn", dataset="synthetic"))
    upload = paths.uploads_dir() / "alice" / "model.keras"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"a model")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(upload.stat().st_mode) == 0o600
    assert stat.S_IMODE(upload.parent.stat().st_mode) == 0o700
