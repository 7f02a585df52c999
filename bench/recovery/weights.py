"""The single-weight tables: distillation, the gradual schedule, the fine-tune budget each goal
needs, and int8 against its own float32."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.recovery.common import (
    DATASET,
    cell,
    cells,
    each_seed,
    numbers,
    pp,
    recipe,
    run_log,
    run_printed,
    section_name,
)


def run_all(args, home: Path) -> dict:
    """{(row, distill, seed): (dense top-1, top-1 after, fine-tune seconds)}, printed as measured
    and kept in bench/out/recovery_distill.jsonl (`run_log`)."""
    measured = {}
    with run_log("recovery_distill") as log:
        for seed in numbers(args.seeds, int):
            for name, fields in cells(args):
                for distill in numbers(args.distill):
                    spec = recipe(seed, args.fine_tune_epochs, distill=distill, **fields)
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


def distill_section(report, args, measured: dict) -> None:
    distills = numbers(args.distill)
    seeds = numbers(args.seeds, int)
    report.section(section_name("distill"))
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
            + [" / ".join(pp(v) for v in gaps[d]) + f" (mean {pp(means[d])})" for d in distills]
            + [
                f"distill {best:g}",
                " / ".join(pp(g) for g in paired)
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
    with run_log("recovery_gradual") as log:
        for sparsity in numbers(args.gradual):
            measured = {
                name: each_seed(
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
                + [cell(measured[k], lambda r: r.top1) for k in schedules]
                + [f"{dense:.2%}"]
            )
            checks.append(
                (
                    f"{sparsity:.0%}: polynomial {means['polynomial']:.2%} vs one-shot "
                    f"{means['one-shot']:.2%}",
                    means["polynomial"] > means["one-shot"],
                )
            )
    report.section(section_name("gradual"))
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
    budgets = numbers(args.budgets, int)
    # other budgets than the default's are their own table (and log), beside the default's
    variant = "" if budgets == [8, 24] else "-" + "-".join(map(str, budgets)) + "ep"
    with run_log(f"recovery_budget{variant}") as log:
        for sparsity in numbers(args.budget_weights):
            for epochs in budgets:
                results = [
                    run_printed(
                        recipe(
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
                    for s in numbers(args.seeds, int)
                ]
                gaps = [r.top1 - r.dense.top1 for r in results]
                seconds = statistics.mean(r.finetune_seconds for r in results)
                rows.append(
                    [
                        f"{sparsity:.0%}",
                        str(epochs),
                        cell(results, lambda r: r.top1),
                        " / ".join(pp(g) for g in gaps) + f" (mean {pp(statistics.mean(gaps))})",
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
    report.section(section_name(f"budget{variant}"))
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
        for s in numbers(args.int8_weights)
    ] + [
        (
            f"channels −{s:.0%} FLOPs",
            dict(strategy="taylor", scope="global", granularity="structured", sparsity=s),
        )
        for s in numbers(args.int8_channels)
    ]
    rows, worst = [], 0.0
    seed = numbers(args.seeds, int)[0]
    with run_log("recovery_int8") as log:
        for name, fields in recipes:
            r = run_printed(
                recipe(seed, args.fine_tune_epochs, export="tflite", distill=0.9, **fields),
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
    report.section(section_name("int8"))
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
