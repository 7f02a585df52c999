"""Selection memory: one sorted copy of the scores against the full stable index sort.

    .venv/bin/python bench/bench_selection.py [--sizes 10,40,160] [--rounds 1]

Choosing which weights go reads the cut off the ranked scores. Until 2026-12-07 the engine
ranked them with a stable index sort of every score in float64 (`stable_sort_masks` below, kept
as the reference the engine's masks are tested against): a float64 copy of the scores, its
concatenation and an int64 order, ~8× the float32 scores before the masks; ConvNeXtXLarge's
weight run, 350 M weights ranked globally, peaked at 21 GB on a 23 GB machine. The engine
(`selection.Ranking`) keeps one sorted copy at the scores' own precision. For each size (million
weights, float32, split into 50 kernels of a CNN's uneven sizes), per round one child process
per way (the order alternating) makes the scores and the previous masks (half the kernels
already 20 % pruned), then selects 50 % globally and each kernel 50 %; it reports the highest
resident memory above the scores and the seconds, and a digest of the masks, which must be the
same both ways. Writes docs/benchmarks/selection.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.children import answer  # noqa: E402
from bench.report import Report  # noqa: E402

WAYS = ("index sort", "sorted values")
SCOPES = ("global", "layerwise")
KERNELS = 50


def stable_sort_masks(scores: list, sparsity: float, scope: str, previous=None) -> list:
    """What selection computed before 2026-12-07: a full stable index sort in float64, the
    lowest `remove` of the order removed (removed weights at −inf first; in `global`, no kernel
    emptied). The reference the engine's masks are tested against (tests/engine)."""
    from prune_core.engine.selection import keep_count

    previous = previous or [None] * len(scores)
    flats = []
    for s, p in zip(scores, previous):
        flat = np.asarray(s, np.float64).ravel().copy()
        if p is not None:
            flat[np.asarray(p).ravel() == 0] = -np.inf
        flats.append(flat)

    def removing(order, size, keep):
        mask = np.ones(size, np.float32)
        mask[order[: size - keep]] = 0.0
        return mask

    if scope == "layerwise":
        orders = [np.argsort(f, kind="stable") for f in flats]  # all at once, as it was
        masks = [removing(o, f.size, keep_count(f.size, sparsity)) for o, f in zip(orders, flats)]
    else:
        sizes = [f.size for f in flats]
        order = np.argsort(np.concatenate(flats), kind="stable")
        mask = removing(order, sum(sizes), keep_count(sum(sizes), sparsity))
        masks = np.split(mask, np.cumsum(sizes)[:-1])
        for m, f in zip(masks, flats):
            if not m.any():
                m[int(np.argmax(f))] = 1.0
    return [m.reshape(np.shape(s)) for m, s in zip(masks, scores)]


def _memory(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) // 1024


def _kernel_sizes(total: int) -> list[int]:
    """`KERNELS` sizes adding up to `total`, uneven as a CNN's (growing with depth)."""
    shares = np.geomspace(1, 64, KERNELS)
    sizes = np.floor(shares / shares.sum() * total).astype(int)
    sizes[-1] += total - sizes.sum()
    return sizes.tolist()


def child(way: str, scope: str, millions: str) -> None:
    """Scores and previous masks made, then one selection; one JSON line."""
    from prune_core.engine import selection

    rng = np.random.default_rng(0)
    sizes = _kernel_sizes(int(float(millions) * 1e6))
    scores = [rng.random(n, dtype=np.float32) for n in sizes]
    previous = [
        (rng.random(n, dtype=np.float32) > 0.2).astype(np.float32) if i % 2 else None
        for i, n in enumerate(sizes)
    ]
    before = _memory("VmRSS")
    start = time.perf_counter()
    if way == WAYS[0]:
        masks = stable_sort_masks(scores, 0.5, scope, previous)
    else:
        masks = selection.select(scores, sparsity=0.5, scope=scope, previous=previous)
    seconds = time.perf_counter() - start
    peak = _memory("VmHWM") - before
    digest = hashlib.sha256()
    for m in masks:
        digest.update(np.packbits(m.astype(bool)).tobytes())
    print(json.dumps({"peak": peak, "seconds": seconds, "digest": digest.hexdigest()}))


def measure(way: str, scope: str, millions: float) -> dict:
    return answer(__file__, way, scope, str(millions), label=f"{millions} M, {way}, {scope}")


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,40,160", help="million weights, comma-separated")
    ap.add_argument("--rounds", type=int, default=1)
    args, report = Report.parse_args(
        ap, "selection", "Selection: one sorted copy of the scores against a full index sort"
    )
    rows = []
    for millions in [float(s) for s in args.sizes.split(",") if s]:
        for scope in SCOPES:
            runs = {way: [] for way in WAYS}
            for round_ in range(args.rounds):
                for way in WAYS if round_ % 2 == 0 else WAYS[::-1]:
                    runs[way].append(measure(way, scope, millions))

            def median(way, key, runs=runs):
                return statistics.median(r[key] for r in runs[way])

            old_peak, new_peak = median(WAYS[0], "peak"), median(WAYS[1], "peak")
            old_s, new_s = median(WAYS[0], "seconds"), median(WAYS[1], "seconds")
            same = len({r["digest"] for way in WAYS for r in runs[way]}) == 1
            rows.append(
                [f"{millions:g} M", scope, f"{millions * 4:.0f}"]
                + [f"{old_peak:.0f}", f"{new_peak:.0f}", f"{old_peak / max(new_peak, 1):.1f}×"]
                + [f"{old_s:.1f}", f"{new_s:.1f}", f"{old_s / new_s:.1f}×"]
                + ["yes" if same else "NO"]
            )
            print(" | ".join(rows[-1]), flush=True)
    report.section("selection")
    report.text(
        f"Float32 scores in {KERNELS} kernels of uneven sizes, every other kernel with 20 % "
        "already removed; 50 % selected, globally or per kernel. One child process per way and "
        "scope; *peak*: the highest resident memory above the scores and masks made before, "
        "the returned masks included (float32: as many bytes as the scores, either way); "
        f"medians over {args.rounds} round(s), the order "
        "alternating. *Same*: the masks are bit-identical both ways."
    )
    report.table(
        ["weights", "scope", "scores MB", "index sort peak MB", "sorted peak MB", "less"]
        + ["index sort s", "sorted s", "faster", "same"],
        rows,
    )
    report.save()
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
