"""A benchmark's steps in child processes of their own: each measures from a fresh interpreter
(nothing another step loaded or left behind counts) and answers with one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def answer(script: str, *args: str, label: str) -> dict:
    """`python SCRIPT --child ARGS…` run from the repository root: its last stdout line, as JSON.
    A child that fails ends the benchmark with `label` and the child's last error line."""
    done = subprocess.run(
        [sys.executable, script, "--child", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise SystemExit(f"{label}: {lines[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
