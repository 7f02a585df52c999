"""Sparsity patterns, dynamic sparse training and combined recipes, measured in one run.

    .venv/bin/python bench/bench_patterns.py [--sections nm,sparse,block,combined] [--quick]

Compact EfficientNet on digits, the default fine-tune budget (8 epochs), every recipe from the same
cached baseline, one process:
- nm: 2:4 against unstructured 50 % with the same criterion (magnitude per layer, tfmot's rule;
  taylor): top-1 after fine-tuning, and the 2:4 check (groups with fewer than 2 zeros after
  fine-tuning).
- sparse: at 90 % and 95 %, RigL (magnitude per layer, drop/regrow every 20 steps) against gradual
  polynomial magnitude (0 → target over the first 75 % of the steps, every 20) and one-shot taylor
  (global): the same fine-tune steps; top-1 after fine-tuning.
- block: taylor, global, depthwise kernels too, 80 %: unstructured against 1×4 and 4×1 blocks,
  exported: int8 TFLite gzip bytes and top-1.
- combined (`--combined FLOPS/WEIGHTS/EPOCHS,...`, default 0.5/0.87/16, the best of the README's
  search): channels cut to −50 % FLOPs (taylor, global), then 87 % of the remaining weights
  (depthwise too), 16 fine-tune epochs, then int8: bytes against the dense float32 .h5 gzipped and
  LiteRT batch-1 latency (1 thread, in alternation with the dense float32 model) against dense.
  Goal: ≥ 20× smaller and ≥ 1.5× faster at int8 top-1 within 2 pp of dense. `--quick`: the tiny CNN
  on synthetic data, to check the script runs (numbers mean nothing). Writes the sections it ran
  into docs/benchmarks/patterns.md, except with `--quick` or `--no-write`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Report  # noqa: E402
from prune_core.engine import pipeline, run_inputs  # noqa: E402
from prune_core.recipe.spec import RunSpec  # noqa: E402

QUICK = dict(
    model="tiny-cnn",
    dataset="synthetic",
    image_size=16,
    baseline_epochs=2,
    fine_tune_epochs=2,
    calibration_examples=32,
    batch_size=16,
)


def _run(base: RunSpec, **changes):
    spec = base.with_(**changes)
    started = time.perf_counter()
    result = pipeline.run(spec)
    print(
        f"  {spec.label()}: top-1 {result.top1:.4f} ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
        flush=True,
    )
    return result


def nm(report: Report, base: RunSpec) -> None:
    rows, checks = [], []
    for strategy, scope in (("magnitude", "layerwise"), ("taylor", "global")):
        plain = _run(base, strategy=strategy, scope=scope, sparsity=0.5)
        nm24 = _run(base, strategy=strategy, scope="layerwise", sparsity=0.5, pattern="2:4")
        for name, r in ((f"unstructured ({scope})", plain), ("2:4", nm24)):
            rows.append(
                [
                    strategy,
                    name,
                    f"{r.weight_sparsity:.3f}",
                    f"{r.top1_before_finetune:.4f}",
                    f"{r.top1:.4f}",
                    "" if r.pattern_violations is None else r.pattern_violations,
                ]
            )
        checks.append(
            (
                f"{strategy} 2:4 is valid after fine-tuning (0 groups with fewer than 2 zeros)",
                nm24.pattern_violations == 0,
            )
        )
    report.section("nm")
    report.heading("2:4 against unstructured 50 % (same criterion, same budget)")
    report.table(
        [
            "criterion",
            "pattern",
            "weight sparsity",
            "top-1 before FT",
            "top-1 after FT",
            "groups with < 2 zeros",
        ],
        rows,
    )
    report.checks(checks)


def sparse(report: Report, base: RunSpec, steps: int) -> None:
    rows = []
    every = min(20, max(1, steps // 8))  # 20 on the real budget; --quick's few steps need less
    end = int(0.75 * steps) // every * every
    for target in (0.9, 0.95):
        recipes = {
            f"RigL (magnitude per layer, every {every} steps, fraction 0.3)": dict(
                strategy="magnitude", scope="layerwise", regrow="rigl", regrow_every=every
            ),
            f"polynomial magnitude per layer (0 → {target:g}, steps 0–{end}, every {every})": dict(
                strategy="magnitude",
                scope="layerwise",
                schedule="polynomial",
                initial_sparsity=0.0,
                begin_step=0,
                end_step=end,
                frequency=every,
            ),
            "one-shot taylor (global)": dict(strategy="taylor", scope="global"),
        }
        for name, changes in recipes.items():
            r = _run(base, sparsity=target, **changes)
            rows.append(
                [
                    f"{target:.0%}",
                    name,
                    f"{r.weight_sparsity:.3f}",
                    f"{r.top1_before_finetune:.4f}",
                    f"{r.top1:.4f}",
                    "" if r.regrown_weights is None else f"{r.regrown_weights:,}",
                ]
            )
    report.section("sparse")
    report.heading(
        f"RigL against gradual magnitude and one-shot taylor ({steps} fine-tune steps each)"
    )
    report.table(
        [
            "sparsity",
            "recipe",
            "weight sparsity",
            "top-1 before FT",
            "top-1 after FT",
            "weights regrown",
        ],
        rows,
    )


def block(report: Report, base: RunSpec) -> None:
    runs = [
        (
            p,
            _run(
                base,
                strategy="taylor",
                scope="global",
                sparsity=0.8,
                prune_depthwise=True,
                pattern=p,
                export="tflite",
            ),
        )
        for p in ("unstructured", "block:1x4", "block:4x1")
    ]
    reference = runs[0][1].deployment.get("int8", "gzip_bytes")
    rows = []
    for pattern, r in runs:
        gz = r.deployment.get("int8", "gzip_bytes")
        rows.append(
            [
                pattern,
                f"{r.weight_sparsity:.3f}",
                f"{r.top1:.4f}",
                f"{r.deployment.get('int8', 'top1'):.4f}",
                f"{r.deployment.get('int8', 'bytes'):,}",
                f"{gz:,}",
                f"{reference / gz:.2f}× smaller",
            ]
        )
    report.section("block")
    report.heading(
        "Blocks against unstructured at 80 % (taylor, global, depthwise too), int8 TFLite"
    )
    report.table(
        [
            "pattern",
            "weight sparsity",
            "top-1 after FT",
            "int8 top-1",
            "int8 bytes",
            "int8 gzip bytes",
            "vs unstructured",
        ],
        rows,
    )


def combined(report: Report, base: RunSpec, variants: str) -> None:
    for variant in variants.split(","):
        flops, weights, epochs = variant.split("/")
        combined_one(report, base, float(flops), float(weights), int(epochs))


def combined_one(report: Report, base: RunSpec, flops: float, weights: float, epochs: int) -> None:
    r = _run(
        base,
        strategy="taylor",
        granularity="structured",
        scope="global",
        sparsity=flops,
        then_sparsity=weights,
        prune_depthwise=True,
        export="tflite",
        fine_tune_epochs=epochs,
    )
    dense_gz, dense_top1 = r.dense.gzip_bytes, r.dense.top1
    rows = [
        [
            "dense (float32 .h5)",
            f"{dense_top1:.4f}",
            f"{r.dense.params:,}",
            f"{r.dense.flops:,}",
            f"{dense_gz:,}",
            "1.0×",
        ]
    ]
    for stage in r.stages:
        gz = r.gzip_bytes if stage["stage"] == "fine-tuned" else None
        rows.append(
            [
                stage["stage"],
                f"{stage['top1']:.4f}",
                f"{stage['nonzero_params']:,}",
                f"{stage['nonzero_flops']:,}",
                "" if gz is None else f"{gz:,}",
                "" if gz is None else f"{dense_gz / gz:.1f}×",
            ]
        )
    d = r.deployment
    int8_gz, int8_top1 = d.get("int8", "gzip_bytes"), d.get("int8", "top1")
    rows.append(
        ["int8 TFLite", f"{int8_top1:.4f}", "", "", f"{int8_gz:,}", f"{dense_gz / int8_gz:.1f}×"]
    )
    speedup, lo, hi = (d.get("int8", k) for k in ("speedup_1t", "speedup_1t_lo", "speedup_1t_hi"))
    float_speedup = d.get("float", "speedup_1t")
    report.section(f"combined-{flops:g}-{weights:g}-{epochs}")  # one section per recipe tried
    report.heading(
        f"Combined: channels (−{flops:.0%} FLOPs), then {weights:.0%} of the remaining weights, "
        f"then int8 "
        f"({epochs} fine-tune epochs)"
    )
    report.table(
        [
            "stage",
            "top-1",
            "nonzero parameters",
            "nonzero FLOPs",
            "gzip bytes",
            "× smaller than dense .h5 gzip",
        ],
        rows,
    )
    report.text(
        f"LiteRT batch 1, 1 thread, in alternation with the dense float32 model: int8 "
        f"{d.get('int8', 'ms_1t_b1_lo'):.3f} ms, **{speedup:.2f}× faster** (band "
        f"{lo:.2f}–{hi:.2f}); the "
        f"pruned float32 model {float_speedup:.2f}× (dense float32 "
        f"{d.get('float', 'ms_1t_b1_lo') * float_speedup:.3f} ms)."
    )
    smaller = dense_gz / int8_gz
    report.checks(
        [
            (
                f"combined recipe {smaller:.1f}× smaller than the dense .h5 gzipped (goal ≥ 20×)",
                smaller >= 20,
            ),
            (
                f"int8 LiteRT batch 1 {speedup:.2f}× faster than dense float32 (goal ≥ 1.5×; "
                f"band {lo:.2f}–{hi:.2f})",
                lo >= 1.5,
            ),
            (
                f"int8 top-1 {int8_top1:.4f} within 2 pp of dense {dense_top1:.4f}",
                dense_top1 - int8_top1 <= 0.02,
            ),
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", default="nm,sparse,block,combined")
    ap.add_argument(
        "--combined",
        default="0.5/0.87/16",
        help="combined recipes as FLOPS_SHARE/WEIGHT_SHARE/EPOCHS, comma-separated",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="the tiny CNN on synthetic data (checks the script only; never written to the docs)",
    )
    args, report = Report.parse_args(
        ap, "patterns", "Patterns, RigL and combined recipes", smoke="quick"
    )
    base = RunSpec.of(**(QUICK if args.quick else {}))
    dataset = run_inputs.resolve_dataset(base)
    epochs = base.training.fine_tune_epochs
    steps = epochs * dataset.steps_per_epoch(base.training.batch_size)
    print(
        f"## {base.baseline.model} on {base.baseline.dataset}, {epochs} fine-tune epochs "
        f"({steps} steps)"
    )
    for section in args.sections.split(","):
        {
            "nm": lambda: nm(report, base),
            "sparse": lambda: sparse(report, base, steps),
            "block": lambda: block(report, base),
            "combined": lambda: combined(report, base, args.combined),
        }[section.strip()]()
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
