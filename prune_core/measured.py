"""Measured facts the dashboard quotes, in one place, each beside the benchmark that measures it
(docs/benchmarks/). A re-measurement changes this file and that benchmark's page, never the pages'
own text: they read these names."""

#: The best measured recipe, the Experiment form's default (docs/benchmarks/engine.md: taylor
#: scores,
#: one global ranking, best top-1 after fine-tuning at every sparsity measured).
BEST_STRATEGY, BEST_SCOPE = "taylor", "global"
#: The distillation weight fine-tuning starts with (docs/benchmarks/recovery.md, section distill:
#: soft targets from the dense model against the labels alone, paired by seed; 0.9 was never
#: worse and gained 0.8 pp at 95 %, 1.4–7.2 pp at 98 %, 0.3–1.1 pp at −67 % FLOPs).
BEST_DISTILL = 0.9
#: Fine-tune epochs the highest weight sparsities need (docs/benchmarks/recovery.md, section budget:
#: taylor, automatic allocation, distilled 0.9, two seeds on digits): top-1 below dense, as a
#: fraction, at each budget — 95 % and 98 % of the weights.
HIGH_SPARSITY, HIGH_SPARSITY_EPOCHS = 0.95, 24
HIGH_SPARSITY_GAPS = {8: (0.028, 0.115), 24: (0.004, 0.019)}
#: The same on Shapes, the harder second dataset (sections budget-24ep-shapes, budget-48ep-shapes):
#: it needs twice digits' budget.
HIGH_SPARSITY_GAPS_SHAPES = {24: (0.0175, 0.0355), 48: (0.0005, 0.015)}
#: Top-1 after fine-tuning at 95 and 98 % of the weights by ranking, taylor and magnitude, 8 epochs
#: (docs/benchmarks/explore.md, section finetune): global fell to chance, per layer reached at most
#: 81 %, the automatic allocation 85–97.5 %.
HIGH_SPARSITY_TOP1 = {"global": 0.10, "layerwise": 0.81, "auto": (0.85, 0.975)}
#: The sparsities a new sweep tries unless told otherwise (the Experiment form's and the CLI's).
DEFAULT_SPARSITIES = (0.5, 0.8)

#: Minutes the compact EfficientNet's dense baseline takes to train once on digits (40 epochs,
#: 2 cores; docs/benchmarks/engine.md: 99–159 s).
BASELINE_MINUTES = "2–3"

#: Minutes the demo sweep (the 14 runs the Home page offers) takes on 2 cores; packing the whole
#: demo with its profile and export, `tools/build_demo.py --measure`, takes about 40.
DEMO_SWEEP_MINUTES = 15

#: Seconds to time every layer of EfficientNetB0@224 in LiteRT once, for latency-aware plans
#: (docs/benchmarks/structured.md).
LATENCY_TABLE_B0_SECONDS = 35

#: Minutes a TFLite export and its measurements add per run on the compact model
#: (docs/benchmarks/deploy.md).
EXPORT_MINUTES = 1

#: How far one p50 of 30 calls, not timed against the dense model, moves between measurements on
#: this machine (docs/benchmarks/latency.md).
SINGLE_TIMING_NOISE = 0.30

#: How far the fastest of 8 rounds' medians repeats, against how far one median moves
#: (docs/benchmarks/latency.md).
FASTEST_ROUND_REPEATS, MEDIAN_MOVES = 0.01, 0.17

#: Seconds Python's teardown of TensorFlow takes at the end of a job process
#: (docs/benchmarks/ray.md, bench/bench_job_exit.py), which `exit_now` skips.
TF_TEARDOWN_SECONDS = 1.2
