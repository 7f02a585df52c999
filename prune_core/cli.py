"""`python -m prune_core run|sweep|worker`: the same recipes as the dashboard, headless.

Progress goes to stderr; results go to stdout (or --out FILE) as JSON Lines, one object per run,
each written and flushed as soon as its run finishes. Bad input: one line on stderr, exit code 2.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

from prune_core.errors import Canceled, PruneError, SpecError
from prune_core.schedules import SCHEDULE_KINDS
from prune_core.specs import BUDGETS, EXPORTS, GRANULARITIES, RANKINGS, SCOPES, STRATEGIES, RunSpec

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message):
        raise SpecError(message)


def _add_recipe_options(p: argparse.ArgumentParser, sweep: bool) -> None:
    d = RunSpec()
    p.add_argument("--model", default=d.model, help="efficientnet-compact | efficientnet-b0 | tiny-cnn | file:PATH")
    p.add_argument("--dataset", default=d.dataset, help="digits | cifar10 | synthetic | folder:PATH")
    p.add_argument("--weights", default=d.weights, help="none | imagenet | file:PATH (efficientnet-b0)")
    p.add_argument("--image-size", type=int, default=d.image_size)
    if sweep:
        p.add_argument("--strategies", default="magnitude,gradient,fisher,random",
                       help=f"comma-separated, from {','.join(STRATEGIES)}")
        group = p.add_mutually_exclusive_group()
        group.add_argument("--sparsities", default=None, help="comma-separated target sparsities, e.g. 0.5,0.8,0.9")
        group.add_argument("--thresholds", default=None, help="comma-separated score thresholds")
    else:
        p.add_argument("--strategy", default=d.strategy, choices=STRATEGIES)
        group = p.add_mutually_exclusive_group()
        group.add_argument("--sparsity", type=float, default=None, help="target sparsity in [0, 1) (default 0.5)")
        group.add_argument("--threshold", type=float, default=None, help="remove weights scoring below this")
    p.add_argument("--granularity", default=d.granularity, choices=GRANULARITIES)
    p.add_argument("--scope", default=d.scope, choices=SCOPES,
                   help="unstructured: per-kernel or one global ranking; structured: the same fraction of "
                        "every channel group, or a global target fraction of --budget")
    p.add_argument("--budget", default=d.budget, choices=BUDGETS,
                   help="structured + global: remove this fraction of FLOPs, of parameters, or of LiteRT "
                        "latency (predicted from a per-layer table timed once per architecture)")
    p.add_argument("--rank", default=d.rank, choices=RANKINGS,
                   help="structured + global: rank channels by importance, or by importance x budget per "
                        "LiteRT ms (at equal importance, cut the work that runs slowest on the device first)")
    p.add_argument("--channel-multiple", type=int, default=d.channel_multiple,
                   help="structured: keep channel counts multiples of this (1, 2, 4, 8, 16, 32)")
    p.add_argument("--schedule", default=d.schedule, choices=SCHEDULE_KINDS)
    p.add_argument("--initial-sparsity", type=float, default=d.initial_sparsity)
    p.add_argument("--begin-step", type=int, default=d.begin_step)
    p.add_argument("--end-step", type=int, default=d.end_step)
    p.add_argument("--frequency", type=int, default=d.frequency)
    p.add_argument("--power", type=float, default=d.power)
    p.add_argument("--fine-tune-epochs", type=int, default=d.fine_tune_epochs)
    p.add_argument("--learning-rate", type=float, default=d.learning_rate)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--baseline-epochs", type=int, default=d.baseline_epochs)
    p.add_argument("--calibration-examples", type=int, default=d.calibration_examples)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--prune-head", action="store_true", help="also prune the classifier head")
    p.add_argument("--prune-depthwise", action="store_true", help="also prune depthwise kernels")
    p.add_argument("--export", default=d.export, choices=EXPORTS,
                   help="tflite: also export float / sparse / int8 TFLite and measure sizes, accuracy and "
                        "LiteRT latency (about a minute more per run on the compact model)")
    p.add_argument("--out", default=None, help="write JSON Lines here instead of stdout")
    p.add_argument("--save-model", default=None, help="save the pruned model (.keras or .h5; run only)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m prune_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    _add_recipe_options(sub.add_parser("run", help="run one recipe"), sweep=False)
    _add_recipe_options(sub.add_parser("sweep", help="run strategies × sparsities"), sweep=True)
    worker = sub.add_parser("worker", help="drain the dashboard's job queue (one process per job)")
    worker.add_argument("--max-jobs", type=int, default=None, help="jobs at once (default $PRUNE_MAX_JOBS or 1)")
    worker.add_argument("--forever", action="store_true", help="keep waiting for new jobs instead of exiting")
    imp = sub.add_parser("import", help="add JSON Lines results from run/sweep to the dashboard's runs")
    imp.add_argument("files", nargs="+", help="JSON Lines files written by run/sweep --out")
    imp.add_argument("--sweep", default=None, help="group name shown on the charts (default: the file name)")
    job = sub.add_parser("job", help=argparse.SUPPRESS)
    job.add_argument("job_id", type=int)
    return parser


def _common(args) -> dict:
    return dict(model=args.model, dataset=args.dataset, weights=args.weights, image_size=args.image_size,
                granularity=args.granularity, scope=args.scope, schedule=args.schedule,
                initial_sparsity=args.initial_sparsity, begin_step=args.begin_step, end_step=args.end_step,
                frequency=args.frequency, power=args.power, fine_tune_epochs=args.fine_tune_epochs,
                learning_rate=args.learning_rate, batch_size=args.batch_size,
                baseline_epochs=args.baseline_epochs, calibration_examples=args.calibration_examples,
                seed=args.seed, prune_head=args.prune_head, prune_depthwise=args.prune_depthwise,
                budget=args.budget, channel_multiple=args.channel_multiple, rank=args.rank, export=args.export)


def _floats(text: str, what: str) -> list:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError(f"--{what} must be comma-separated numbers, got {text!r}") from None


def specs_from_args(args) -> list[RunSpec]:
    """Every recipe the command asks for, all validated before anything runs."""
    common = _common(args)
    if args.command == "run":
        amount = {"threshold": args.threshold, "sparsity": None} if args.threshold is not None else \
            {"sparsity": 0.5 if args.sparsity is None else args.sparsity}
        return [RunSpec(strategy=args.strategy, **amount, **common)]
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if args.thresholds:
        amounts = [{"threshold": t, "sparsity": None} for t in _floats(args.thresholds, "thresholds")]
    else:
        amounts = [{"sparsity": s} for s in _floats(args.sparsities or "0.5,0.8,0.9", "sparsities")]
    if not strategies or not amounts:
        raise SpecError("a sweep needs at least one strategy and one sparsity or threshold")
    return [RunSpec(strategy=s, **a, **common) for s, a in itertools.product(strategies, amounts)]


def command_for(spec: RunSpec) -> str:
    """The `python -m prune_core run ...` line that reproduces a recipe (non-default options only)."""
    default = RunSpec()
    parts = ["python -m prune_core run"]
    for name, value in spec.to_dict().items():
        if value == getattr(default, name) and name not in ("strategy", "sparsity"):
            continue
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag) if value else None
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


class ProgressPrinter:
    """Human progress on stderr: one line per phase change and per epoch (overwritten on a tty)."""

    def __init__(self, label: str, stream=sys.stderr, quiet: bool = False):
        self.label, self.stream, self.quiet = label, stream, quiet
        self.tty = stream.isatty()
        self.last_key, self.last_time = None, 0.0

    def __call__(self, p) -> None:
        if self.quiet:
            return
        key = (p.phase, p.epoch)
        now = time.monotonic()
        if key == self.last_key and not (self.tty and now - self.last_time > 0.5):
            return
        self.last_key, self.last_time = key, now
        parts = [f"[{self.label}] {p.phase}"]
        if p.epochs:
            parts.append(f"epoch {p.epoch}/{p.epochs} step {p.step}/{p.steps}")
        if p.loss is not None:
            parts.append(f"loss {p.loss:.3f} acc {p.accuracy:.3f}")
        if p.sparsity is not None:
            parts.append(f"sparsity {p.sparsity:.3f}")
        if p.message:
            parts.append(p.message)
        line = " · ".join(parts)
        self.stream.write(("\r\033[K" + line) if self.tty else line + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if not self.quiet:
            self.stream.write(("\r\033[K" if self.tty else "") + f"[{self.label}] {text}\n")
            self.stream.flush()


def _write_line(stream, result: dict) -> None:
    stream.write(json.dumps(result, sort_keys=False, default=float) + "\n")
    stream.flush()
    try:
        os.fsync(stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout pipes and StringIO cannot fsync


def _background(args) -> int:
    from prune_core import worker

    if args.command == "job":
        return 0 if worker.run_job(args.job_id) == "completed" else 1
    if args.max_jobs is not None and args.max_jobs < 1:
        raise SpecError("--max-jobs must be >= 1")
    started = worker.dispatch(parallel=args.max_jobs, forever=args.forever)
    print(f"worker: started {started} job(s); queue empty", file=sys.stderr)
    return 0


#: Numbers every imported line must carry (the dashboard's pages plot and format them).
IMPORT_NUMBERS = ("top1", "top5", "top1_dense", "top1_before_finetune", "achieved_sparsity", "params",
                  "nonzero_params", "flops", "nonzero_flops", "theoretical_speedup", "file_bytes", "gzip_bytes",
                  "latency_ms_b1_p50", "latency_ms_b32_p50", "throughput_ips")


def _import(args) -> int:
    """Every line is checked before anything is written: a bad file changes nothing."""
    from prune_core.jobs import JobStore

    rows = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise SpecError(f"{name}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{name}: cannot be read as JSON Lines ({type(exc).__name__})") from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                result = json.loads(line)
                spec = RunSpec.from_dict(result["config"])
                wrong = [k for k in IMPORT_NUMBERS if not isinstance(result.get(k), (int, float))
                         or isinstance(result.get(k), bool)]
                if wrong:
                    raise SpecError(f"missing or not a number: {', '.join(wrong)}")
            except (json.JSONDecodeError, KeyError, TypeError, SpecError) as exc:
                raise SpecError(f"{name}:{number}: not a run result ({exc})") from None
            rows.append((spec, result, args.sweep or path.stem))
    store = JobStore()
    ids = [store.add_completed(spec, result, sweep) for spec, result, sweep in rows]
    print(f"imported {len(ids)} run(s) into {store.path}", file=sys.stderr)
    return 0


def _check_writable(folder: Path, option: str) -> None:
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise SpecError(f"{option}: cannot write into {folder}")


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command in ("worker", "job"):
            return _background(args)
        if args.command == "import":
            return _import(args)
        specs = specs_from_args(args)
        if args.save_model and len(specs) > 1:
            raise SpecError("--save-model saves one run's model; use it with `run`, not `sweep`")
        if args.save_model and not args.save_model.endswith((".keras", ".h5")):
            raise SpecError("--save-model must end in .keras or .h5")
        if args.save_model:
            _check_writable(Path(args.save_model).expanduser().resolve().parent, "--save-model")
        from prune_core import pipeline  # imports TensorFlow: only after the arguments are known good

        for spec in specs:
            pipeline.check(spec)
        try:
            out = open(args.out, "w") if args.out else sys.stdout
        except OSError as exc:
            raise SpecError(f"--out {args.out}: {exc.strerror or exc}") from None
        try:
            for i, spec in enumerate(specs, 1):
                printer = ProgressPrinter(f"{i}/{len(specs)} {spec.label()}", quiet=args.quiet)
                result = pipeline.run(spec, on_progress=printer, model_path=args.save_model)
                _write_line(out, result)
                printer.done(f"top-1 {result['top1']:.4f} (dense {result['top1_dense']:.4f}) · "
                             f"sparsity {result['achieved_sparsity']:.3f} · gzip {result['gzip_bytes']:,} B")
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    except Canceled:
        print("error: canceled", file=sys.stderr)
        return 130
    except PruneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
