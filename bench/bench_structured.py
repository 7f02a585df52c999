"""Structured-pruning benchmark: does removing channels buy real speed, in both runtimes?

    .venv/bin/python bench/bench_structured.py [--skip-b0] [--skip-compact]

Part 1, compact EfficientNet + digits (the CPU default): dense vs structured (global FLOPs targets
0.4 and 0.5, magnitude and taylor criteria, the default fine-tune budget) — top-1 after fine-tuning,
FLOPs, params, Keras latency (batch 1 and 32) and LiteRT/XNNPACK latency (batch 1).
Part 2, EfficientNetB0 at 224×224 (weights none, latency only): dense vs 2× fewer FLOPs (global
magnitude ranking), same latencies.
"ratio" = measured speedup ÷ FLOPs reduction (1.0: latency fell exactly as FLOPs did).
Targets: at 2× fewer FLOPs, LiteRT batch-1 ratio ≥ 1.0 on B0@224 and Keras batch-32 ratio ≥ 0.6;
at 40 % fewer FLOPs, top-1 within 2 pp of dense on digits.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prune_core import baselines, channels, criteria, data, deploy, metrics, models, pipeline, structure, surgery  # noqa: E402,E501
from bench.checks import print_checks  # noqa: E402
from prune_core.specs import RunSpec  # noqa: E402


def latencies(model, b32_repeats: int = 10) -> dict:
    content = deploy.to_tflite(model)
    shape = tuple(model.input_shape[1:])
    return {"keras_b1": metrics.latency(model, 1)["p50"],
            "keras_b32": metrics.latency(model, 32, warmup=2, repeats=b32_repeats)["p50"],
            "litert_b1": deploy.latency(content, shape, 1)["p50"],
            "flops": metrics.flops(model)["flops"], "params": model.count_params(), "tflite_bytes": len(content)}


def row(name, m, dense, top1=None):
    f = dense["flops"] / m["flops"]
    cells = [name, f"{m['flops'] / 1e6:,.1f}", f"{m['params']:,}", f"{f:.2f}×"]
    for key in ("keras_b1", "keras_b32", "litert_b1"):
        speed = dense[key] / m[key]
        cells.append(f"{m[key]:.2f} ({speed:.2f}×, ratio {speed / f:.2f})")
    cells.append("–" if top1 is None else f"{top1:.4f}")
    return "| " + " | ".join(cells) + " |"


HEADER = ("| model | MFLOPs | params | FLOPs ↓ | Keras b1 ms (speedup, ratio) | Keras b32 ms (speedup, ratio) | "
          "LiteRT b1 ms (speedup, ratio) | top-1 |\n|---|---|---|---|---|---|---|---|")


def compact_part(checks):
    base = RunSpec(granularity="structured", scope="global")
    dataset = data.load(base.dataset, base.image_size, base.seed)
    baseline, info = baselines.get(base, dataset)
    dense = latencies(baseline)
    dense_top1 = info["dense"]["top1"]
    lines = [row("compact dense", dense, dense, dense_top1)]
    best40 = None
    with tempfile.TemporaryDirectory() as tmp:
        for target in (0.4, 0.5):
            for strategy in ("magnitude", "taylor"):
                spec = base.with_(strategy=strategy, sparsity=target)
                path = Path(tmp) / f"{strategy}-{target}.keras"
                result = pipeline.run(spec, model_path=path)
                m = latencies(models.load_user_model(str(path)))
                lines.append(row(f"compact {strategy} −{target:.0%} FLOPs", m, dense, result["top1"]))
                if target == 0.4:
                    best40 = max(best40 or 0.0, result["top1"])
                print(f"  {strategy} {target}: top-1 {result['top1']:.4f}", flush=True)
    gap = 100 * (dense_top1 - best40)
    checks.append((f"compact: at 40 % fewer FLOPs, best top-1 within 2 pp of dense (gap {gap:.2f} pp)", gap <= 2.0))
    return lines


def b0_part(checks):
    model = models.build("efficientnet-b0", 1000, 224)
    groups = structure.trace(model)
    targets = criteria.find_targets(model, prune_head=True, prune_depthwise=True)
    scores = dict(zip([t.name for t in targets], criteria.score("magnitude", model, targets)))
    plan = channels.select(groups, channels.importance(groups, scores), target=0.5,
                           cost=channels.CostModel(model, groups))
    smaller = surgery.apply(model, plan)
    dense, half = latencies(model, b32_repeats=5), latencies(smaller, b32_repeats=5)
    f = dense["flops"] / half["flops"]
    litert = dense["litert_b1"] / half["litert_b1"] / f
    keras32 = dense["keras_b32"] / half["keras_b32"] / f
    checks.append((f"B0@224, {f:.2f}× fewer FLOPs: LiteRT batch-1 ratio ≥ 1.0 ({litert:.2f})", litert >= 1.0))
    checks.append((f"B0@224, {f:.2f}× fewer FLOPs: Keras batch-32 ratio ≥ 0.6 ({keras32:.2f})", keras32 >= 0.6))
    return [row("B0@224 dense", dense, dense), row("B0@224 global magnitude −50 % FLOPs", half, dense)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-b0", action="store_true")
    ap.add_argument("--skip-compact", action="store_true")
    args = ap.parse_args()
    checks, lines = [], []
    if not args.skip_compact:
        lines += compact_part(checks)
    if not args.skip_b0:
        lines += b0_part(checks)
    print(f"\nthreads: {metrics.threads()}; latency p50 in ms; LiteRT = ai-edge-litert interpreter (XNNPACK)\n")
    print(HEADER)
    print("\n".join(lines))
    print_checks(checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
