"""Recovery benchmark: how much of the dense model's top-1 a pruned model gets back, and what helps.

    .venv/bin/python bench/bench_recovery.py [--dataset digits|shapes]
        [--parts distill,reconstruct,channels]
        [--distill 0,0.5,0.9] [--seeds 0,1] [--weights 0.9,0.95,0.98] [--channels 0.5,0.667]
        [--channels-oneshot 0.5] [--channels-refit] [--channels-distill 0.5]
        [--gradual 0.95,0.98] [--gradual-distill 0.5] [--end-step 200] [--frequency 20]
        [--int8-weights 0.5,0.8,0.9,0.95] [--int8-channels 0.5,0.667]
        [--budgets 8,24] [--budget-weights 0.95,0.98] [--resume]
        [--fine-tune-epochs 8]

The compact EfficientNet on digits (or `--dataset shapes`: the Shapes image folder,
`prune_core/data/shapes.py`, written into bench/out/shapes; sections named `…-shapes`), the recipe's
fine-tune budget (one-shot, 8 epochs, Adam 1e-3):
- single weights: taylor with the automatic per-layer allocation (the best measured recipe at
  90–98 %, docs/benchmarks/explore.md) at each `--weights` sparsity;
- channels: taylor, one global ranking, `--channels` of the FLOPs removed (0.667: 3× fewer);
each fine-tuned on the labels alone (distill 0) and with the dense model's soft targets mixed in at
each `--distill` weight (temperature 4), every cell at each seed. A seed is a whole repeat: its own
data split, baseline, calibration and batch order, so the spread between seeds is the noise a
difference must beat. Baselines and profiles are cached in PRUNE_HOME (default .prune/) as the
tool caches them. Parts (each a section of docs/benchmarks/recovery.md; `--no-write`: print only):
- distill: the table above;
- reconstruct: BatchNorm re-estimation alone vs reconstruction after the same one-shot cut (the
  weight rows, and channels at `--channels-oneshot`), top-1 right after the cut and fine-tuned;
- channels: one global ranking vs the automatic allocation at each `--channels` share of FLOPs
  (optionally reconstructed and distilled: section `channels-refit-distill0.9`, …; another
  `--fine-tune-epochs` adds `-24ep`, …), against the
  goal of 3× fewer FLOPs at ≥ dense − 2 pp;
- gradual: single weights (automatic allocation) pruned once vs along the polynomial schedule;
- int8: each pruned model exported, int8 top-1 against its own float32 top-1 (the goal: within
  1 pp up to 95 %), the quantization-aware int8 where it was needed, and the zeros each file kept;
- budget: the best single-weight recipe (distilled) at each `--budgets` fine-tune epochs, against
  the goals (95 %: ≥ dense − 1 pp; 98 %: ≥ dense − 3 pp): what budget each needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recovery.channels import channels_section, reconstruct_section  # noqa: E402
from bench.recovery.common import DATASET, FINE_TUNE_EPOCHS, numbers  # noqa: E402
from bench.recovery.weights import (  # noqa: E402
    budget_section,
    distill_section,
    gradual_section,
    int8_section,
    run_all,
    stored_runs,
)
from bench.report import Report  # noqa: E402

PARTS = ("distill", "reconstruct", "channels", "gradual", "int8", "budget")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default=",".join(PARTS), help="which tables to measure")
    ap.add_argument("--channels-oneshot", default="0.5", help="reconstruct: channel cuts")
    ap.add_argument("--channels-refit", action="store_true", help="channels: reconstruct too")
    ap.add_argument("--channels-distill", type=float, default=0.0)
    ap.add_argument("--dataset", default="digits", choices=("digits", "shapes"))
    ap.add_argument("--gradual", default="0.95,0.98", help="gradual: sparsities")
    ap.add_argument("--int8-weights", default="0.5,0.8,0.9,0.95", help="int8: weight sparsities")
    ap.add_argument("--int8-channels", default="0.5,0.667", help="int8: FLOPs shares removed")
    ap.add_argument("--gradual-distill", type=float, default=0.0)
    ap.add_argument("--resume", action="store_true", help="reuse the runs bench/out/ already holds")
    ap.add_argument("--budgets", default="8,24", help="budget: fine-tune epochs")
    ap.add_argument("--budget-weights", default="0.95,0.98", help="budget: weight sparsities")
    ap.add_argument("--end-step", type=int, default=200, help="gradual: last pruning step")
    ap.add_argument("--frequency", type=int, default=20, help="gradual: steps between events")
    ap.add_argument("--distill", default="0,0.5,0.9")
    ap.add_argument(
        "--table-from", default="", help="distill: the table from a runs file an earlier run wrote"
    )
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--weights", default="0.9,0.95,0.98")
    ap.add_argument("--channels", default="0.667")
    ap.add_argument("--fine-tune-epochs", type=int, default=FINE_TUNE_EPOCHS)
    args, report = Report.parse_args(
        ap, "recovery", "Recovery: how much of the dense top-1 a pruned model gets back"
    )
    if 0.0 not in numbers(args.distill):
        ap.error("--distill must include 0 (the labels alone), the reference")
    DATASET["name"] = args.dataset
    DATASET["resume"] = args.resume
    home = Path(os.environ.get("PRUNE_HOME", ROOT / ".prune"))
    os.environ["PRUNE_AUTOSTART"] = "0"
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        ap.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if "distill" in parts:
        measured = stored_runs(args) if args.table_from else run_all(args, home)
        distill_section(report, args, measured)
    if "reconstruct" in parts:
        reconstruct_section(report, args, home)
    if "channels" in parts:
        channels_section(report, args, home)
    if "gradual" in parts:
        gradual_section(report, args, home)
    if "int8" in parts:
        int8_section(report, args, home)
    if "budget" in parts:
        budget_section(report, args, home)
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
