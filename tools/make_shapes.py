"""Write the Shapes dataset (prune_core/data/shapes.py) as an image folder.

    .venv/bin/python tools/make_shapes.py data/shapes [--per-class 500] [--size 32] [--seed 0]
    python -m prune_core run --dataset folder:data/shapes ...

The same arguments write the same images, so a benchmark on it can be repeated anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from prune_core.data import shapes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="a new (or empty) folder")
    ap.add_argument("--per-class", type=int, default=shapes.PER_CLASS)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        shapes.write_folder(args.out, args.per_class, args.size, args.seed)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = args.per_class * len(shapes.CLASSES)
    print(f"wrote {total} images of {len(shapes.CLASSES)} shapes into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
