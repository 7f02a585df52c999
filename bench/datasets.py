"""The datasets the recovery benchmarks run on: the bundled digits, and Shapes, an image folder
of drawn shapes (not derived from digits) written once, reproducibly, under bench/out/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Every benchmark's Shapes folder: one path, so their dense baselines are cached once.
SHAPES_FOLDER = ROOT / "bench" / "out" / "shapes"
NAMES = ("digits", "shapes")


def recipe_dataset(name: str) -> str:
    """The recipe's dataset field for `name`; the Shapes folder is written when it is missing."""
    if name == "digits":
        return "digits"
    if name != "shapes":
        raise ValueError(f"unknown benchmark dataset {name!r}; one of {', '.join(NAMES)}")
    from prune_core.data import shapes

    if not SHAPES_FOLDER.exists():
        shapes.write_folder(SHAPES_FOLDER)
    return f"folder:{SHAPES_FOLDER}"
