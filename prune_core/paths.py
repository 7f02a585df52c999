"""Where baselines, runs and the job database live: $PRUNE_HOME, default `.prune/` in the
project."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def slug(text: str) -> str:
    """A model or dataset name as part of a file name (baseline cache files)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60]


def home() -> Path:
    """The data directory, private to the server's user: the job store, uploads, models and logs
    of every visitor live here (0700; files this process writes from now on are 0600)."""
    path = Path(os.environ.get("PRUNE_HOME", PROJECT_ROOT / ".prune")).expanduser()
    _make_private(str(path))
    return path


@functools.lru_cache(maxsize=8)
def _make_private(path_text: str) -> None:
    os.umask(0o077)  # what this process creates is its user's alone (the job processes inherit it)
    path = Path(path_text)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def baselines_dir(root: Path | None = None) -> Path:
    path = (root or home()) / "baselines"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir(root: Path | None = None) -> Path:
    path = (root or home()) / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def profiles_dir(root: Path | None = None) -> Path:
    path = (root or home()) / "profiles"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploads_dir(root: Path | None = None) -> Path:
    """Where visitors' uploaded model files and image folders are kept (shared mode)."""
    path = (root or home()) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write a file whole or not at all (a temporary file beside it, renamed over it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def servable(path_text: str | None, root: Path | None = None) -> Path | None:
    """`path_text` resolved, when it is a file inside this data directory's runs or exports folders
    — the only files the dashboard serves, whatever a stored (or imported) result says; else
    None."""
    if not path_text:
        return None
    base = (root or home()).resolve()
    try:
        path = Path(path_text).resolve()
        inside = any(path.is_relative_to(base / folder) for folder in ("runs", "exports"))
        return path if inside and path.is_file() else None
    except (OSError, ValueError, RuntimeError):
        return None
