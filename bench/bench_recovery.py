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
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402


def _numbers(text: str, kind=float) -> list:
    return [kind(v) for v in text.split(",") if v.strip()]


def cells(args, channels: str | None = None) -> list[tuple[str, dict]]:
    """(row name, recipe fields) of every pruning a table compares (`channels`: the FLOPs shares
    of its channel rows, default `--channels`)."""
    out = [
        (f"weights {s:.0%}", dict(strategy="taylor", scope="auto", sparsity=s))
        for s in _numbers(args.weights)
    ]
    out += [
        (
            f"channels −{s:.0%} FLOPs",
            dict(strategy="taylor", scope="global", granularity="structured", sparsity=s),
        )
        for s in _numbers(channels or args.channels)
    ]
    return out


def run_all(args, home: Path) -> dict:
    """{(row, distill, seed): (dense top-1, top-1 after, fine-tune seconds)}, printed as measured
    and kept in bench/out/recovery_distill.jsonl (`_log`)."""
    measured = {}
    with _log("recovery_distill") as log:
        for seed in _numbers(args.seeds, int):
            for name, fields in cells(args):
                for distill in _numbers(args.distill):
                    spec = _recipe(seed, args.fine_tune_epochs, distill=distill, **fields)
                    result = log.run(spec, root=home)
                    measured[(name, distill, seed)] = (
                        result.dense.top1,
                        result.top1,
                        result.finetune_seconds,
                    )
                    print(
                        f"  seed {seed} {name} distill {distill:g}: dense {result.dense.top1:.4f} "
                        f"→ {result.top1:.4f} ({result.finetune_seconds:.0f} s fine-tuning)",
                        flush=True,
                    )
    return measured


def stored_runs(args) -> dict:
    """The distill part's runs as an earlier run of it wrote them (`--table-from FILE`)."""
    from prune_core.results.run_result import RunResult

    names = {json.dumps(fields, sort_keys=True): name for name, fields in cells(args)}
    measured = {}
    for line in Path(args.table_from).read_text().splitlines():
        result = RunResult.from_dict(json.loads(line))
        p = result.spec.pruning
        fields = dict(strategy=p.strategy, scope=p.scope, sparsity=p.sparsity)
        if p.granularity == "structured":
            fields["granularity"] = "structured"
        name = names[json.dumps(fields, sort_keys=True)]
        measured[(name, result.spec.training.distill, result.spec.training.seed)] = (
            result.dense.top1,
            result.top1,
            result.finetune_seconds,
        )
    return measured


def _pp(value: float) -> str:
    return f"{value * 100:+.2f} pp"


def distill_section(report, args, measured: dict) -> None:
    distills = _numbers(args.distill)
    seeds = _numbers(args.seeds, int)
    report.section(_section("distill"))
    report.heading(
        f"{DATASET['name']}: fine-tuning on the labels alone vs with the dense model's soft "
        "targets (temperature 4): "
        f"top-1 after fine-tuning minus the dense top-1 of the same seed, one-shot, "
        f"{args.fine_tune_epochs} epochs; each cell lists every seed, then their mean"
    )
    header = ["pruning"] + [f"distill {d:g}" for d in distills] + ["best", "paired gain"]
    rows, checks, wins = [], [], 0
    for name, _ in cells(args):
        gaps = {
            d: [measured[(name, d, s)][1] - measured[(name, d, s)][0] for s in seeds]
            for d in distills
        }
        means = {d: statistics.mean(g) for d, g in gaps.items()}
        best = max(means, key=means.get)
        # paired by seed (the same baseline, split and cut): the gain each seed saw
        paired = [b - a for a, b in zip(gaps[0.0], gaps[best])]
        everywhere = best != 0.0 and all(g > 0 for g in paired)
        wins += everywhere
        rows.append(
            [name]
            + [" / ".join(_pp(v) for v in gaps[d]) + f" (mean {_pp(means[d])})" for d in distills]
            + [
                f"distill {best:g}",
                " / ".join(_pp(g) for g in paired)
                + (" (better in every seed)" if everywhere else " (not in every seed)"),
            ]
        )
    report.table(header, rows)
    dense = {s: measured[(cells(args)[0][0], distills[0], s)][0] for s in seeds}
    seconds = {d: statistics.mean(v[2] for k, v in measured.items() if k[1] == d) for d in distills}
    report.text(
        "Dense top-1 by seed: "
        + ", ".join(f"seed {s}: {v:.2%}" for s, v in dense.items())
        + ". Fine-tuning seconds per run (mean): "
        + ", ".join(f"distill {d:g}: {v:.0f} s" for d, v in seconds.items())
        + "."
    )
    checks.append(
        (
            f"distillation beats the labels alone in every seed in {wins} of {len(rows)} cells",
            wins * 2 > len(rows),
        )
    )
    report.checks(checks)


def _log(name: str):
    """The runs of one part, kept in bench/out/ as each finishes (`--resume` reads them back)."""
    from contextlib import nullcontext

    from bench.run_log import RunLog

    path = ROOT / "bench" / "out" / f"{_section(name)}.jsonl"
    return nullcontext(RunLog(path, resume=DATASET.get("resume", False)))


def _run(spec, home: Path, log) -> object:
    result = log.run(spec, root=home)
    print(
        f"  seed {spec.training.seed} {spec.label()}: dense {result.dense.top1:.4f}, before "
        f"fine-tuning {result.top1_before_finetune:.4f} → {result.top1:.4f}",
        flush=True,
    )
    return result


#: The fine-tune budget of every table but the budget part's (`--fine-tune-epochs`).
FINE_TUNE_EPOCHS = 8

#: The dataset the recipes run on (`--dataset`): digits, or the Shapes image folder.
DATASET = {"name": "digits"}


def dataset_recipe() -> str:
    """The recipe's dataset field; the Shapes folder is written (once, reproducibly) when asked."""
    from bench.datasets import recipe_dataset

    return recipe_dataset(DATASET["name"])


def _section(name: str) -> str:
    return name if DATASET["name"] == "digits" else f"{name}-{DATASET['name']}"


def _each_seed(args, home: Path, log, **fields) -> list:
    """One recipe (the fine-tune budget of `args`) run at every seed, in order."""
    return [
        _run(_recipe(s, args.fine_tune_epochs, **fields), home, log)
        for s in _numbers(args.seeds, int)
    ]


def _recipe(seed: int, epochs: int, **fields):
    from prune_core.recipe.spec import RunSpec

    return RunSpec.of(
        model="efficientnet-compact",
        dataset=dataset_recipe(),
        seed=seed,
        fine_tune_epochs=epochs,
        **fields,
    )


def _cell(results: list, key) -> str:
    values = [key(r) for r in results]
    return " / ".join(f"{v:.2%}" for v in values) + (
        f" (mean {statistics.mean(values):.2%})" if len(values) > 1 else ""
    )


def reconstruct_section(report, args, home: Path) -> None:
    """BatchNorm re-estimation alone vs reconstruction after the same one-shot cut: top-1 right
    after the cut and after fine-tuning."""
    rows, checks = [], []
    with _log("recovery_reconstruct") as log:
        for name, fields in cells(args, channels=args.channels_oneshot):
            measured = {
                refit: _each_seed(args, home, log, reconstruct=refit, **fields)
                for refit in (False, True)
            }
            before = {
                k: statistics.mean(r.top1_before_finetune for r in v) for k, v in measured.items()
            }
            after = {k: statistics.mean(r.top1 for r in v) for k, v in measured.items()}
            rows.append(
                [
                    name,
                    _cell(measured[False], lambda r: r.top1_before_finetune),
                    _cell(measured[True], lambda r: r.top1_before_finetune),
                    _cell(measured[False], lambda r: r.top1),
                    _cell(measured[True], lambda r: r.top1),
                    f"{statistics.mean(r.finetune_seconds for r in measured[True]):.0f} s",
                ]
            )
            checks.append(
                (
                    f"{name}: reconstruction one-shot {before[True]:.2%} vs BatchNorm alone "
                    f"{before[False]:.2%}; after fine-tuning {after[True]:.2%} vs "
                    f"{after[False]:.2%}",
                    before[True] > before[False],
                )
            )
    report.section(_section("reconstruct"))
    report.heading(
        f"{DATASET['name']}: reconstruction (least squares, layer by layer, on 256 training "
        "images) vs BatchNorm "
        f"re-estimation alone after the same one-shot cut: top-1 on the test split right after "
        f"the cut and after {args.fine_tune_epochs} fine-tune epochs, each seed then the mean"
    )
    report.table(
        [
            "pruning",
            "one-shot, BatchNorm re-estimated",
            "one-shot, reconstructed",
            "fine-tuned (BatchNorm)",
            "fine-tuned (reconstructed)",
            "fine-tune s",
        ],
        rows,
    )
    report.checks(checks)


def channels_section(report, args, home: Path) -> None:
    """Channels: one global ranking vs the automatic allocation, the same FLOPs removed."""
    rows, checks = [], []
    extra = {"reconstruct": True} if args.channels_refit else {}
    with _log("recovery_channels") as log:
        for removed in _numbers(args.channels):
            measured = {
                scope: _each_seed(
                    args,
                    home,
                    log,
                    strategy="taylor",
                    granularity="structured",
                    scope=scope,
                    sparsity=removed,
                    distill=args.channels_distill,
                    **extra,
                )
                for scope in ("global", "auto")
            }
            dense = statistics.mean(r.dense.top1 for r in measured["global"])
            best = {k: statistics.mean(r.top1 for r in v) for k, v in measured.items()}
            rows.append(
                [
                    f"−{removed:.0%} FLOPs ({1 / (1 - removed):.1f}× fewer)",
                    _cell(measured["global"], lambda r: r.top1_before_finetune),
                    _cell(measured["auto"], lambda r: r.top1_before_finetune),
                    _cell(measured["global"], lambda r: r.top1),
                    _cell(measured["auto"], lambda r: r.top1),
                    f"{dense:.2%}",
                ]
            )
            top = max(best.values())
            checks.append(
                (
                    f"−{removed:.0%} FLOPs: best {top:.2%} vs dense {dense:.2%} "
                    f"({(top - dense) * 100:+.2f} pp; goal at 3× fewer FLOPs: ≥ dense − 2 pp)",
                    top >= dense - 0.02,
                )
            )
    variant = (
        ("-refit" if args.channels_refit else "")
        + (f"-distill{args.channels_distill:g}" if args.channels_distill else "")
        # another fine-tune budget is its own table (the default's keeps its name)
        + (f"-{args.fine_tune_epochs}ep" if args.fine_tune_epochs != FINE_TUNE_EPOCHS else "")
    )
    report.section(_section(f"channels{variant}"))
    how = " + ".join(
        ["taylor"]
        + (["reconstructed"] if args.channels_refit else [])
        + ([f"distilled {args.channels_distill:g}"] if args.channels_distill else [])
    )
    report.heading(
        f"{DATASET['name']}: channels ({how}), one global ranking vs the automatic allocation "
        "from each group's "
        f"measured sensitivity, top-1 on the test split one-shot → after {args.fine_tune_epochs} "
        "fine-tune epochs, each seed then the mean"
    )
    report.table(
        [
            "FLOPs removed",
            "one-shot, global",
            "one-shot, auto",
            "fine-tuned, global",
            "fine-tuned, auto",
            "dense",
        ],
        rows,
    )
    report.checks(checks)


def gradual_section(report, args, home: Path) -> None:
    """Single weights with the automatic allocation: pruned once before fine-tuning vs along
    tfmot's polynomial schedule (each layer following its own share of the target over time)."""
    schedules = {
        "one-shot": {},
        "polynomial": dict(
            schedule="polynomial", begin_step=0, end_step=args.end_step, frequency=args.frequency
        ),
    }
    rows, checks = [], []
    with _log("recovery_gradual") as log:
        for sparsity in _numbers(args.gradual):
            measured = {
                name: _each_seed(
                    args,
                    home,
                    log,
                    strategy="taylor",
                    scope="auto",
                    sparsity=sparsity,
                    distill=args.gradual_distill,
                    **fields,
                )
                for name, fields in schedules.items()
            }
            means = {k: statistics.mean(r.top1 for r in v) for k, v in measured.items()}
            dense = statistics.mean(r.dense.top1 for r in measured["one-shot"])
            rows.append(
                [f"{sparsity:.0%}"]
                + [_cell(measured[k], lambda r: r.top1) for k in schedules]
                + [f"{dense:.2%}"]
            )
            checks.append(
                (
                    f"{sparsity:.0%}: polynomial {means['polynomial']:.2%} vs one-shot "
                    f"{means['one-shot']:.2%}",
                    means["polynomial"] > means["one-shot"],
                )
            )
    report.section(_section("gradual"))
    report.heading(
        f"{DATASET['name']}: single weights (taylor, automatic per-layer allocation"
        + (f", distilled {args.gradual_distill:g}" if args.gradual_distill else "")
        + f"), pruned once before fine-tuning vs along the polynomial schedule (steps 0 → "
        f"{args.end_step}, every {args.frequency}); top-1 after {args.fine_tune_epochs} epochs, "
        "each seed then the mean"
    )
    report.table(["sparsity", *schedules, "dense"], rows)
    report.checks(checks)


#: Each goal as (sparsity, the most top-1 it may lose against the dense model).
WEIGHT_GOALS = {0.95: 0.01, 0.98: 0.03}


def budget_section(report, args, home: Path) -> None:
    """The best measured single-weight recipe (taylor, automatic allocation, distilled) at each
    fine-tune budget: how many epochs each sparsity needs to meet its goal."""
    from prune_core.measured import BEST_DISTILL

    rows, checks = [], []
    budgets = _numbers(args.budgets, int)
    # other budgets than the default's are their own table (and log), beside the default's
    variant = "" if budgets == [8, 24] else "-" + "-".join(map(str, budgets)) + "ep"
    with _log(f"recovery_budget{variant}") as log:
        for sparsity in _numbers(args.budget_weights):
            for epochs in budgets:
                results = [
                    _run(
                        _recipe(
                            s,
                            epochs,
                            strategy="taylor",
                            scope="auto",
                            sparsity=sparsity,
                            distill=BEST_DISTILL,
                        ),
                        home,
                        log,
                    )
                    for s in _numbers(args.seeds, int)
                ]
                gaps = [r.top1 - r.dense.top1 for r in results]
                seconds = statistics.mean(r.finetune_seconds for r in results)
                rows.append(
                    [
                        f"{sparsity:.0%}",
                        str(epochs),
                        _cell(results, lambda r: r.top1),
                        " / ".join(_pp(g) for g in gaps) + f" (mean {_pp(statistics.mean(gaps))})",
                        f"{seconds:.0f}",
                    ]
                )
                if sparsity in WEIGHT_GOALS:
                    allowed = WEIGHT_GOALS[sparsity]
                    checks.append(
                        (
                            f"{sparsity:.0%} at {epochs} epochs: within {allowed:.0%} of dense in "
                            "every seed",
                            all(g >= -allowed for g in gaps),
                        )
                    )
    report.section(_section(f"budget{variant}"))
    report.heading(
        f"{DATASET['name']}: single weights (taylor, automatic per-layer allocation, distilled "
        f"{BEST_DISTILL:g}), one-shot, at each fine-tune budget; top-1 (each seed, then the mean) "
        "and top-1 minus the dense top-1 of the same seed"
    )
    report.table(["sparsity", "epochs", "top-1", "vs dense", "fine-tune s"], rows)
    report.checks(checks)


def int8_section(report, args, home: Path) -> None:
    """Each pruned model exported: int8 top-1 against its own float32 top-1, the quantization-aware
    int8 where post-training int8 lost more than the margin, and the zeros each int8 file kept."""
    from prune_core.engine.deploy import QAT_MARGIN

    recipes = [
        (f"weights {s:.0%}", dict(strategy="taylor", scope="auto", sparsity=s))
        for s in _numbers(args.int8_weights)
    ] + [
        (
            f"channels −{s:.0%} FLOPs",
            dict(strategy="taylor", scope="global", granularity="structured", sparsity=s),
        )
        for s in _numbers(args.int8_channels)
    ]
    rows, worst = [], 0.0
    seed = _numbers(args.seeds, int)[0]
    with _log("recovery_int8") as log:
        for name, fields in recipes:
            r = _run(
                _recipe(seed, args.fine_tune_epochs, export="tflite", distill=0.9, **fields),
                home,
                log,
            )
            d = r.deployment
            float_top1, int8_top1 = d.get("float", "top1"), d.get("int8", "top1")
            qat_top1 = d.get("int8_qat", "top1")
            final = qat_top1 if qat_top1 is not None else int8_top1
            worst = max(worst, float_top1 - final)
            rows.append(
                [
                    name,
                    f"{float_top1:.2%}",
                    f"{int8_top1:.2%} ({(int8_top1 - float_top1) * 100:+.2f} pp)",
                    "–"
                    if qat_top1 is None
                    else f"{qat_top1:.2%} ({(qat_top1 - float_top1) * 100:+.2f} pp)",
                    f"{d.get('int8', 'zeros_kept'):.2%}" if d.get("int8", "zeros_kept") else "–",
                    "–"
                    if d.get("int8_qat", "zeros_kept") is None
                    else f"{d.get('int8_qat', 'zeros_kept'):.2%}",
                    f"{r.weight_sparsity:.1%}",
                ]
            )
    report.section(_section("int8"))
    report.heading(
        f"{DATASET['name']}: int8 against its own float32 top-1 (taylor, distilled 0.9, "
        f"{args.fine_tune_epochs} epochs, seed {seed}); a quantization-aware int8 that keeps the "
        f"zeros is exported when post-training int8 loses more than {QAT_MARGIN:.0%}"
    )
    report.table(
        [
            "pruning",
            "float32 TFLite",
            "int8 (post-training)",
            "int8 (quantization-aware)",
            "zeros kept (int8)",
            "zeros kept (QAT)",
            "weight sparsity",
        ],
        rows,
    )
    report.checks(
        [
            (
                f"every int8 model within 1 pp of its own float32 top-1 (worst "
                f"{worst * 100:.2f} pp)",
                worst <= 0.01 + 1e-9,
            )
        ]
    )


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
    if 0.0 not in _numbers(args.distill):
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
