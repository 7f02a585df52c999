"""Explore benchmark: what a profile costs, how good one-shot gets, how fast the page answers, and
whether the automatic per-layer allocation beats uniform and global ranking after fine-tuning.

    .venv/bin/python bench/bench_explore.py [--criteria magnitude,gradient,taylor,fisher,wanda]
        [--compare taylor,magnitude] [--sparsities 0.8,0.9,0.95,0.98] [--fine-tune-epochs 8]
        [--seeds 0,1] [--distill 0.9] [--finetune-only] [--resume]
    .venv/bin/python bench/bench_explore.py --finetune-only --dataset shapes   # part 4 on Shapes

Runs in a throw-away PRUNE_HOME that starts with a copy of the cached baselines (so nothing is
retrained), on the compact EfficientNet and digits:
1. a profile of every criterion, timed by part. The bound for a one-shot curve of k levels is 1.2 ×
   (one scoring pass + k validation evaluations); the curve's own work (masks + evaluation) is
   checked against it, and the measured extras (the .h5 gzipped, BatchNorm re-estimated and
   evaluated again) are reported beside it;
2. one-shot quality from the profile (validation split) at 70 and 80 %;
3. the Explore page's script time per slider move with the profiles stored (AppTest);
4. automatic vs layerwise vs global for the `--compare` criteria at each sparsity, the same
   fine-tune budget (one-shot, 8 epochs, distilled as the recipe's best: `--distill`), at each of
   `--seeds` (each its own baseline and profile): top-1 on the test split before and after
   fine-tuning, beside the profile's one-shot prediction (validation split); the goal compares the
   means (`--finetune-only`: this part alone, the profiles measured by the runs; `--resume`: runs
   already in bench/out/explore_runs.jsonl are read back, so a run cut short goes on). Writes
   bench/out/explore_profile.json and bench/out/explore_runs.jsonl, and the tables into
   docs/benchmarks/explore.md (sections profile, oneshot, page, finetune; `--no-write`: print only).
   `--dataset shapes`: part 4 on the Shapes image folder (`bench/datasets.py`), its own log
   (explore_runs-shapes.jsonl) and section (finetune-shapes), so the goal is not tuned to digits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402

PAGE_BUDGET_MS = 150.0

SCOPES = ("layerwise", "global", "auto")


def profile_part(spec, names, home: Path):
    from prune_core.engine import baselines, run_inputs
    from prune_core.engine.profiler import Profiler

    dataset = run_inputs.resolve_dataset(spec)
    baseline, _ = baselines.get(spec, dataset, root=home)
    start = time.perf_counter()
    profiler = Profiler(spec, baseline, dataset, root=home)
    setup = time.perf_counter() - start
    evaluations = []
    for _ in range(10):
        t = time.perf_counter()
        profiler.evaluate()
        evaluations.append(time.perf_counter() - t)
    evaluation = statistics.median(evaluations)
    measured = {}
    for name in names:
        t = time.perf_counter()
        measured[name] = (profiler.profile([name]), time.perf_counter() - t)
    return profiler, measured, evaluation, setup


def page_part(home: Path, names) -> list[float]:
    """Script time of Explore per slider move (ms), the profiles stored as profile jobs — measured
    in a child process that, like the dashboard's, has never imported TensorFlow (in this process,
    after the profiles ran, the same page took 20× longer)."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--page-only", ",".join(names)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PRUNE_HOME": str(home)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _page_times(names) -> list[float]:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.multiselect(key="explore_criteria").set_value(list(names)).run()
    times = []
    for value in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.3):
        start = time.perf_counter()
        app.slider(key="explore_sparsity").set_value(value).run()
        times.append((time.perf_counter() - start) * 1000)
        assert not app.exception, app.exception
    return times[1:]  # the first move warms caches


def store_profiles(profile_by_name: dict, spec) -> None:
    from prune_core.jobs.store import JobStore

    store = JobStore()
    for name, measured in profile_by_name.items():
        job_id = store.submit(spec.with_(strategy=name), kind="profile")
        store.claim_next()
        store.finish(job_id, "completed", result=measured.to_dict())


def profile_section(report, profiler, measured, evaluation, setup):
    """The profile's cost by part, each curve's own work against its bound; returns the merged
    profile."""
    k = len(profiler.levels)
    report.section("profile")
    report.heading(
        f"Profile: compact EfficientNet, digits ({len(profiler.targets)} layers, {k} levels, "
        f"{len(profiler.layer_levels)} layer levels; one validation evaluation "
        f"{1000 * evaluation:.0f} ms; "
        f"setup {setup:.1f} s)"
    )
    ratios, merged, rows = [], None, []
    for name, (single, total) in measured.items():
        seconds = single.criteria[name].seconds
        bound = 1.2 * (seconds["scoring"] + k * evaluation)
        for scope in ("layerwise", "global", "auto"):
            own = seconds["scoring"] + seconds[f"{scope}_masks"] + seconds[f"{scope}_evaluate"]
            ratios.append((name, scope, own / bound))
        worst = max(r for n, _, r in ratios if n == name)
        curves = [
            seconds[f"{s}_masks"] + seconds[f"{s}_evaluate"]
            for s in ("layerwise", "global", "auto")
        ]
        rows.append(
            [
                name,
                f"{total:.1f}",
                f"{seconds['scoring']:.1f}",
                f"{seconds['sensitivity']:.1f}",
                f"{statistics.mean(curves):.1f} ({bound:.1f})",
                f"{worst:.2f}",
                f"{statistics.mean(seconds[f'{s}_size'] for s in SCOPES):.1f}",
                f"{statistics.mean(seconds[f'{s}_batchnorm'] for s in SCOPES):.1f}",
            ]
        )
        merged = single if merged is None else merged.merged(single)
    report.table(
        [
            "criterion",
            "total s",
            "scoring s",
            "sensitivity s",
            "curve: masks + evaluation s (bound)",
            "ratio",
            "+ gzip of the .h5 s",
            "+ BatchNorm re-estimated s",
        ],
        rows,
    )
    slowest = max(ratios, key=lambda r: r[2])
    report.checks(
        [
            (
                f"each one-shot curve's own work ≤ 1.2 × (scoring + {k} evaluations): worst "
                f"{slowest[2]:.2f} ({'/'.join(slowest[:2])})",
                slowest[2] <= 1.0,
            )
        ]
    )
    return merged


def oneshot_section(report, merged, names) -> None:
    """One-shot top-1 from the profile at 50–90 %, as pruned and with BatchNorm re-estimated."""
    from prune_core.results.profile import at_level

    dense = merged.dense["top1"]
    report.section("oneshot")
    report.heading(
        f"One-shot top-1 (validation split, dense {dense:.4f}): as pruned / BatchNorm re-estimated"
    )
    best, rows = {0.7: ("", 0.0), 0.8: ("", 0.0)}, []
    for name in names:
        for scope in ("layerwise", "global", "auto"):
            curve = merged.criteria[name].curve(scope)
            cells = []
            for level in (0.5, 0.7, 0.8, 0.9):
                raw, bn = at_level(curve, "top1", level), at_level(curve, "top1_bn", level)
                cells.append(f"{raw:.3f} / {bn:.3f}")
                if level in best and max(raw, bn) > best[level][1]:
                    best[level] = (
                        f"{name} {scope}{' + BatchNorm' if bn >= raw else ''}",
                        max(raw, bn),
                    )
            rows.append([name, scope, *cells])
    report.table(["criterion", "ranking", "50 %", "70 %", "80 %", "90 %"], rows)
    report.checks(
        [
            (
                f"best one-shot at 70 % within 1 pp of dense: {best[0.7][0]} {best[0.7][1]:.4f} "
                f"(dense {dense:.4f})",
                best[0.7][1] >= dense - 0.01,
            ),
            (
                f"best one-shot at 80 % within 5 pp of dense: {best[0.8][0]} {best[0.8][1]:.4f}",
                best[0.8][1] >= dense - 0.05,
            ),
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--criteria", default="magnitude,gradient,taylor,fisher,wanda")
    ap.add_argument("--compare", default="taylor,magnitude")
    ap.add_argument("--sparsities", default="0.8,0.9,0.95,0.98")
    ap.add_argument("--fine-tune-epochs", type=int, default=8)
    ap.add_argument("--skip-finetune", action="store_true")
    ap.add_argument("--seeds", default="0,1", help="finetune: every cell at each seed")
    ap.add_argument(
        "--distill", type=float, default=None, help="finetune: default the best measured"
    )
    ap.add_argument(
        "--finetune-only", action="store_true", help="only the finetune part (no profiles, page)"
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="finetune: reuse the runs bench/out/explore_runs.jsonl already holds",
    )
    ap.add_argument(
        "--dataset",
        choices=("digits", "shapes"),
        default="digits",
        help="finetune: the bundled digits, or the Shapes image folder (with --finetune-only)",
    )
    ap.add_argument("--page-only", default=None, help=argparse.SUPPRESS)
    args, report = Report.parse_args(
        ap, "explore", "Explore: profiles, one-shot quality and automatic per-layer sparsity"
    )
    if args.page_only:
        print(json.dumps(_page_times(args.page_only.split(","))))
        return 0
    if args.dataset != "digits" and not args.finetune_only:
        ap.error("--dataset shapes measures the finetune part only: add --finetune-only")
    if args.distill is None:
        from prune_core.measured import BEST_DISTILL

        args.distill = BEST_DISTILL
    names = args.criteria.split(",")
    home = Path(tempfile.mkdtemp(prefix="prune-bench-explore-"))
    source = Path(os.environ.get("PRUNE_HOME", ROOT / ".prune")) / "baselines"
    if source.is_dir():
        shutil.copytree(source, home / "baselines")
    os.environ["PRUNE_HOME"], os.environ["PRUNE_AUTOSTART"] = str(home), "0"

    from bench.datasets import recipe_dataset
    from prune_core.recipe.spec import RunSpec

    spec = RunSpec.of(model="efficientnet-compact", dataset=recipe_dataset(args.dataset))
    if args.finetune_only:  # the runs measure (and cache) the profiles auto needs
        finetune_part(spec, args, None, report)
        report.save()
        return 0
    profiler, measured, evaluation, setup = profile_part(spec, names, home)
    merged = profile_section(report, profiler, measured, evaluation, setup)
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "out" / "explore_profile.json").write_text(json.dumps(merged.to_dict()))
    oneshot_section(report, merged, names)

    store_profiles({n: measured[n][0] for n in names}, spec)
    page = page_part(home, names[:4])
    report.section("page")
    report.heading(
        f"Explore page, {len(names[:4])} criteria profiled: script time per slider move, median "
        f"{statistics.median(page):.0f} ms (worst {max(page):.0f} ms, budget "
        f"{PAGE_BUDGET_MS:.0f} ms)"
    )
    report.checks(
        [
            (
                f"Explore slider move ≤ {PAGE_BUDGET_MS:.0f} ms (median "
                f"{statistics.median(page):.0f} ms)",
                statistics.median(page) <= PAGE_BUDGET_MS,
            )
        ]
    )
    if not args.skip_finetune:
        finetune_part(spec, args, merged, report)
    report.save()
    return 0


def finetune_part(spec, args, profile, report) -> None:
    """Each ranking at each sparsity, fine-tuned at every `--seeds` (a seed is a whole repeat: its
    own split, baseline, profile and batch order): the spread between seeds is the noise a
    difference must beat, so the goal compares the means."""
    from bench.run_log import RunLog
    from prune_core.results.profile import at_level

    sparsities = [float(s) for s in args.sparsities.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = {}
    suffix = "" if args.dataset == "digits" else f"-{args.dataset}"  # its own log and table
    log = RunLog(ROOT / "bench" / "out" / f"explore_runs{suffix}.jsonl", resume=args.resume)
    for seed in seeds:
        for name in args.compare.split(","):
            for sparsity in sparsities:
                for scope in SCOPES:
                    run_spec = spec.with_(
                        strategy=name,
                        sparsity=sparsity,
                        scope=scope,
                        fine_tune_epochs=args.fine_tune_epochs,
                        distill=args.distill,
                        seed=seed,
                    )
                    result = log.run(run_spec)
                    predicted = (
                        at_level(profile.criteria[name].curve(scope), "top1_bn", sparsity)
                        if profile is not None and seed == spec.training.seed
                        else None
                    )
                    rows.setdefault((name, sparsity, scope), []).append(
                        (result.top1_before_finetune, result.top1, predicted)
                    )
                    print(
                        f"  seed {seed} {name} {sparsity:.2f} {scope}: before "
                        f"{result.top1_before_finetune:.4f} after {result.top1:.4f}",
                        flush=True,
                    )
    report.section(f"finetune{suffix}")
    report.heading(
        f"{args.dataset}: automatic vs uniform vs global: top-1 on the test split before → after "
        f"fine-tuning ({args.fine_tune_epochs} epochs, one-shot"
        + (f", distilled {args.distill:g}" if args.distill else ", labels only")
        + f"), seed {' / seed '.join(map(str, seeds))}, then the mean after; in brackets the "
        "profile's one-shot prediction (validation, BatchNorm re-estimated) where it was measured"
    )

    def cell(runs) -> str:
        each = " / ".join(
            f"{b:.4f} → {a:.4f}" + (f" ({p:.3f})" if p is not None else "") for b, a, p in runs
        )
        mean = statistics.mean(a for _, a, _ in runs)
        return each + (f" (mean {mean:.4f})" if len(runs) > 1 else "")

    checks, table, wins, contested = [], [], 0, 0
    for name in args.compare.split(","):
        for sparsity in sparsities:
            runs = [rows[(name, sparsity, s)] for s in SCOPES]
            after = [statistics.mean(a for _, a, _ in r) for r in runs]
            before = [statistics.mean(b for b, _, _ in r) for r in runs]
            after_ok = after[2] >= max(after[0], after[1])
            before_ok = before[2] > max(before[0], before[1])
            table.append(
                [
                    name,
                    f"{sparsity:.0%}",
                    *(cell(r) for r in runs),
                    "yes" if after_ok else f"no ({(after[2] - max(after[:2])) * 100:+.2f} pp)",
                    "yes" if before_ok else "no",
                ]
            )
            if sparsity >= 0.9:
                contested += 1
                wins += after_ok
    report.table(
        [
            "criterion",
            "sparsity",
            "layerwise",
            "global",
            "auto",
            "auto ≥ best after (means)?",
            "auto better before?",
        ],
        table,
    )
    checks.append(
        (
            f"at ≥ 90 %, auto's mean after fine-tuning ≥ the better of layerwise and global in "
            f"{wins} of {contested} cells (goal: all but one)",
            contested > 0 and wins >= contested - 1,
        )
    )
    report.checks(checks)


if __name__ == "__main__":
    sys.exit(main())
