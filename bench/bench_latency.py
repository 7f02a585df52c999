"""Latency benchmark: how much does one model's measured latency move between measurements?

    .venv/bin/python bench/bench_latency.py [--times 10] [--model efficientnet-compact]

The same dense model (the cached baseline) is measured `--times` times by each job path, the old and
the new in alternation so that both see the same machine:
- before: one p50 of 30 calls after 5 warm-ups (Keras batch 1), and of 30 LiteRT invocations
  (1 thread) — what a job reported until results carried a band;
- after: the median of 12 rounds × 10 calls (`metrics.latency_against`, timed in alternation with a
  dense reference, here a copy of the same model), and 8 rounds × 10 LiteRT invocations timed in
  alternation with the dense float32 model (here the same file), as an export does. The fastest
  round of each measurement is reported too: LiteRT's latency axis plots it, because fixed 1-thread
  work is only ever slowed by interference. Each measurement compiles its own `tf.function` /
  interpreter, as a new job does. Spread = (max − min) ÷ median of the `--times` p50s. For the new
  Keras path the speedup against the dense reference is reported too: it is what comparisons use,
  and it should be 1.0 for the same model. Goals: p50 spread ≤ 10 % in Keras and ≤ 5 % in LiteRT
  (compact model). Writes docs/benchmarks/latency.md (a section per model; `--no-write`: print
  only)."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Report  # noqa: E402
from prune_core.engine import baselines, deploy, metrics, models, run_inputs  # noqa: E402
from prune_core.recipe.spec import RunSpec  # noqa: E402
from prune_core.timing import time_alternating  # noqa: E402


def spread(values) -> float:
    return (max(values) - min(values)) / statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--times", type=int, default=10)
    ap.add_argument("--model", default="efficientnet-compact")
    args, report = Report.parse_args(ap, "latency", "Latency: how much one measurement moves")
    spec = RunSpec.of(model=args.model)
    dataset = run_inputs.resolve_dataset(spec)
    model, _ = baselines.get(spec, dataset)
    reference = models.clone(model)
    content, shape = deploy.to_tflite(model), tuple(model.input_shape[1:])
    keras_old, keras_new, speedups, litert_old, litert_new, litert_speedups, bands = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    keras_floor, litert_floor = [], []
    for i in range(args.times):
        keras_old.append(metrics.latency(model, 1, repeats=30).p50)
        compared = metrics.latency_against(model, reference, 1)
        keras_new.append(compared.candidate.p50)
        keras_floor.append(compared.candidate.band[0])
        speedups.append(compared.speedup)
        bands.append(compared.speedup_band)
        litert_old.append(deploy.latency(content, shape, 1, threads=1, repeats=30).p50)
        on_device = time_alternating(
            deploy._invoker(content, shape, 1), deploy._invoker(content, shape, 1)
        )
        litert_new.append(on_device.candidate.p50)
        litert_floor.append(on_device.candidate.band[0])
        litert_speedups.append(on_device.speedup)
        print(
            f"  {i + 1}/{args.times}: Keras {keras_old[-1]:.2f} / {keras_new[-1]:.2f} ms (speedup "
            f"{speedups[-1]:.3f}, band {bands[-1][0]:.3f}–{bands[-1][1]:.3f}) · LiteRT "
            f"{litert_old[-1]:.4f} / "
            f"{litert_new[-1]:.4f} ms (speedup {litert_speedups[-1]:.3f})",
            flush=True,
        )

    rows = [
        ("Keras batch 1, before: p50 of 30 calls", keras_old, "ms"),
        ("Keras batch 1, after: median of 12 rounds × 10 calls", keras_new, "ms"),
        ("Keras batch 1, after: fastest of the 12 rounds", keras_floor, "ms"),
        ("Keras batch 1, after: speedup vs dense, timed in alternation", speedups, "×"),
        ("LiteRT batch 1, 1 thread, before: p50 of 30 invocations", litert_old, "ms"),
        (
            "LiteRT batch 1, 1 thread, after: median of 8 rounds (≥ 10 calls, ≥ 25 ms each)",
            litert_new,
            "ms",
        ),
        (
            "LiteRT batch 1, 1 thread, after: fastest of the 8 rounds (what the dashboard plots)",
            litert_floor,
            "ms",
        ),
        (
            "LiteRT batch 1, 1 thread, after: speedup vs dense float32, in alternation",
            litert_speedups,
            "×",
        ),
    ]
    report.section(args.model)
    report.text(
        f"{args.model}, the same dense model measured {args.times} times per path (old and new "
        f"in alternation)"
    )

    def cells(name, values, unit):
        digits = 4 if statistics.median(values) < 1 else 2
        return [
            name,
            *(
                f"{v:.{digits}f} {unit}"
                for v in (min(values), statistics.median(values), max(values))
            ),
            f"{100 * spread(values):.1f} %",
        ]

    report.table(
        ["measurement", "min", "median", "max", "spread (max − min) ÷ median"],
        [cells(*r) for r in rows],
    )
    within = sum(low <= 1.0 <= high for low, high in bands)
    report.text(
        f"The same model against itself: 1.0 inside the speedup band in {within}/{args.times} "
        f"measurements "
        f"(a pruned model's difference is called a result only outside its band)."
    )
    report.checks(
        [
            (
                f"Keras p50 spread ≤ 10 % ({100 * spread(keras_new):.1f} %; before "
                f"{100 * spread(keras_old):.1f} %)",
                spread(keras_new) <= 0.10,
            ),
            (
                f"Keras speedup vs dense spread ≤ 10 % ({100 * spread(speedups):.1f} %)",
                spread(speedups) <= 0.10,
            ),
            (
                f"LiteRT p50 spread ≤ 5 % ({100 * spread(litert_new):.1f} %; before "
                f"{100 * spread(litert_old):.1f} %)",
                spread(litert_new) <= 0.05,
            ),
            (
                f"LiteRT fastest round spread ≤ 5 % ({100 * spread(litert_floor):.1f} %)",
                spread(litert_floor) <= 0.05,
            ),
            (
                f"LiteRT speedup vs dense spread ≤ 5 % ({100 * spread(litert_speedups):.1f} %)",
                spread(litert_speedups) <= 0.05,
            ),
        ]
    )
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
