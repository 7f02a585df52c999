"""Deployment benchmark: bytes per format and LiteRT latency, dense vs 50 / 80 / 90 % pruned.

    .venv/bin/python bench/bench_deploy.py [--strategy taylor --scope global] [--dense-depthwise]

Default model and data (compact EfficientNet, digits), the default fine-tune budget; a file that
ships is squeezed everywhere, so depthwise kernels are pruned too (`--prune-depthwise`) unless told
not to. Every model is exported as .h5, TFLite float32, TFLite with sparse weight storage and TFLite
int8 (post-training quantization, 100 representative training images); accuracy is measured on the
test split for each format. Target: 80 % unstructured + int8 ≥ 8× smaller than the dense float32 .h5
gzipped, with accuracy within 2 pp. Writes docs/benchmarks/deploy.md (a section per recipe;
`--no-write`: print only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Report  # noqa: E402
from prune_core import paths  # noqa: E402
from prune_core.engine import baselines, deploy, pipeline, run_inputs  # noqa: E402
from prune_core.recipe.spec import RunSpec  # noqa: E402

COLUMNS = [
    "model",
    "sparsity",
    ".h5",
    ".h5 gzip",
    "TFLite f32",
    "TFLite sparse",
    "TFLite int8",
    "int8 gzip (×)",
    "top-1 Keras / f32 / int8",
    "LiteRT f32 ms",
    "LiteRT sparse ms",
    "LiteRT int8 ms",
]


def cells(name: str, r: dict, ref: int) -> list:
    """One model's row; `ref` the dense .h5 gzip bytes the '×' divides."""
    return [
        name,
        f"{r['weight_sparsity']:.3f}",
        f"{r['h5_bytes']:,}",
        f"{r['h5_gzip_bytes']:,}",
        f"{r['tflite_float_bytes']:,}",
        f"{r['tflite_sparse_bytes']:,}",
        f"{r['tflite_int8_bytes']:,}",
        f"{r['tflite_int8_gzip_bytes']:,} ({ref / r['tflite_int8_gzip_bytes']:.1f}×)",
        f"{r['top1']:.4f} / {r['tflite_float_top1']:.4f} / {r['tflite_int8_top1']:.4f}",
        f"{r['litert_1t_ms_b1_p50']:.3f} / {r['litert_ms_b1_p50']:.3f}",
        f"{r['litert_sparse_1t_ms_b1_p50']:.3f} / {r['litert_sparse_ms_b1_p50']:.3f}",
        f"{r['litert_int8_1t_ms_b1_p50']:.3f} / {r['litert_int8_ms_b1_p50']:.3f}",
    ]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategy", default="taylor")
    ap.add_argument("--scope", default="global")
    ap.add_argument("--sparsities", default="0.5,0.8,0.9")
    ap.add_argument(
        "--dense-depthwise",
        action="store_true",
        help="leave depthwise kernels unpruned (by default they are pruned too)",
    )
    args, report = Report.parse_args(
        ap, "deploy", "Deployment: bytes per format and LiteRT latency"
    )
    base = RunSpec.of(
        strategy=args.strategy,
        scope=args.scope,
        export="tflite",
        prune_depthwise=not args.dense_depthwise,
    )
    dataset = run_inputs.resolve_dataset(base)
    baseline, info = baselines.get(base, dataset)

    def flat(deployment, top1, sparsity, target=None) -> dict:
        return {**deployment.to_dict(), "top1": top1, "weight_sparsity": sparsity, "target": target}

    dense = flat(deploy.export_all(baseline, dataset, paths.home()), info["dense"]["top1"], 0.0)
    rows = [("dense", dense)]
    for sparsity in [float(s) for s in args.sparsities.split(",")]:
        result = pipeline.run(base.with_(sparsity=sparsity))
        r = flat(result.deployment, result.top1, result.weight_sparsity, result.target)
        rows.append(
            (
                f"{args.strategy} {args.scope}{'' if args.dense_depthwise else ' +dw'} "
                f"{sparsity:.0%}",
                r,
            )
        )
        print(f"  {sparsity}: top-1 {r['top1']:.4f}, int8 {r['tflite_int8_top1']:.4f}", flush=True)

    ref = dense["h5_gzip_bytes"]
    # one per recipe
    report.section(f"{args.strategy}-{args.scope}{'' if args.dense_depthwise else '-dw'}")
    report.text(
        f"bytes; top-1 on the test split (360 images); LiteRT p50 ms at batch 1, 1 thread / "
        f"{dense['litert_threads']} threads; '×' = dense .h5 gzip ÷ this format's gzip"
    )
    report.table(COLUMNS, [cells(name, r, ref) for name, r in rows])
    at80 = next((r for _, r in rows if r.get("target") == 0.8), None)
    if at80:
        shrink = ref / at80["tflite_int8_gzip_bytes"]
        gap = 100 * (dense["top1"] - at80["tflite_int8_top1"])
        report.checks(
            [
                (f"80 % + int8 ≥ 8× smaller than dense .h5 gzip ({shrink:.1f}×)", shrink >= 8),
                (f"80 % + int8 accuracy within 2 pp of dense (gap {gap:.2f} pp)", gap <= 2),
            ]
        )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
