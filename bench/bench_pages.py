"""Dashboard benchmark: script run time of each page with 200 stored runs (AppTest), and the
bundled demo loaded for Explore's profile.

    .venv/bin/python bench/bench_pages.py [--runs 200] [--repeats 5]

The 200 runs are copies of one real tiny run's result with strategy, sparsity and accuracy varied
(the page cost depends on how many rows and points there are, not on their values). Target: every
page ≤ 300 ms per script run. Prints a markdown table and writes it to docs/benchmarks/pages.md
(`--no-write`: print only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402

PAGES = [
    "app_pages/experiment.py",
    "app_pages/runs.py",
    "app_pages/compare.py",
    "app_pages/explore.py",
    "app_pages/run_detail.py",
]
BUDGET_MS = 300.0


def template_result() -> dict:
    """One real run's result (tiny CNN on the synthetic set), computed in a child process so this
    process — like the dashboard's — never imports TensorFlow."""
    import json
    import subprocess

    code = (
        "import json; from prune_core.engine import pipeline; from prune_core.recipe.spec import "
        "RunSpec; "
        "print(json.dumps(pipeline.run(RunSpec.of(model='tiny-cnn', dataset='synthetic', "
        "image_size=16, "
        "baseline_epochs=4, fine_tune_epochs=1, batch_size=16, calibration_examples=16, "
        "sparsity=0.5)).to_dict()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args, report = Report.parse_args(
        ap, "pages", "Dashboard: page script time with 200 stored runs"
    )
    home = Path(tempfile.mkdtemp(prefix="prune-bench-pages-"))
    os.environ.update(PRUNE_HOME=str(home), PRUNE_AUTOSTART="0")

    from streamlit.testing.v1 import AppTest

    from prune_core.jobs.store import JobStore
    from prune_core.recipe.spec import CRITERIA, RunSpec
    from prune_core.results import demo
    from prune_core.results.run_result import RunResult

    base = template_result()
    store = JobStore()
    entries = []
    for i in range(args.runs):
        strategy, sparsity = CRITERIA[i % len(CRITERIA)], round(0.05 + 0.9 * ((i * 7) % 19) / 18, 3)
        spec = RunSpec.of(strategy=strategy, sparsity=sparsity, seed=i // 19)
        result = {
            **base,
            "weight_sparsity": sparsity,
            "top1": 0.99 - 0.3 * sparsity**3,
            "gzip_bytes": int(base["gzip_bytes"] * (1 - 0.8 * sparsity)),
            "config": spec.to_dict(),
        }
        entries.append((RunResult.from_dict(result), f"sweep {i % 10}"))
    store.add_completed(entries)
    demo.load(store)  # its profile, so Explore draws curves (and 14 more runs)

    rows = []
    for page in PAGES:
        times = []
        for _ in range(args.repeats + 1):
            app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            app.run()
            start = time.perf_counter()
            app.switch_page(page).run()
            times.append((time.perf_counter() - start) * 1000)
            assert not app.exception, app.exception
        steady = times[1:]  # the first run pays for imports
        rows.append((page, statistics.median(steady), max(steady)))

    report.section("pages")
    report.text(
        f"{args.runs} stored runs, median of {args.repeats} script runs per page (AppTest, after "
        f"one warm-up)"
    )
    report.table(
        ["page", "median ms", "worst ms", "budget ms", "median / budget"],
        [
            [page, f"{median:.0f}", f"{worst:.0f}", f"{BUDGET_MS:.0f}", f"{median / BUDGET_MS:.2f}"]
            for page, median, worst in rows
        ],
    )
    report.checks(
        [
            (f"{page} ≤ {BUDGET_MS:.0f} ms ({median:.0f} ms)", median <= BUDGET_MS)
            for page, median, _ in rows
        ]
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
