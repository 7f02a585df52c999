"""Where baselines, runs and the job database live: $PRUNE_HOME, default `.prune/` in the project."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    path = Path(os.environ.get("PRUNE_HOME", PROJECT_ROOT / ".prune")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


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
