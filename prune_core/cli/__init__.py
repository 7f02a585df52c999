"""`python -m prune_core run|sweep|profile|worker|inspect|import|users`: the same recipes as the
dashboard, headless.

Progress goes to stderr; results go to stdout (or --out FILE) as JSON Lines, one object per run,
each written and flushed as soon as its run finishes. Bad input: one line on stderr, exit code 2;
any other failure: one line too (exit code 1), its traceback kept in PRUNE_HOME/logs/.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from prune_core import paths
from prune_core.cli import commands
from prune_core.cli.arguments import PUBLIC_COMMANDS, build_parser, specs_from_args
from prune_core.data import preflight
from prune_core.errors import Canceled, PruneError, SpecError, failure_reason
from prune_core.progress import ProgressPrinter
from prune_core.recipe.advice import advice
from prune_core.results import diagnosis
from prune_core.results.summary import run_summary
from prune_core.units import duration_text

__all__ = ["PUBLIC_COMMANDS", "build_parser", "main", "specs_from_args"]

EXIT_BAD_INPUT = 2
#: A run that failed for a reason other than its input (a defect, a full disk).
EXIT_FAILED = 1


def _keep_traceback() -> str:
    """Write the current exception's traceback to PRUNE_HOME/logs/; " (traceback: PATH)", or ""
    when it cannot be written (the one-line error is still printed)."""
    import datetime
    import traceback

    try:
        folder = paths.home() / "logs"
        folder.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"cli-{stamp}-{os.getpid()}.traceback.txt"
        path.write_text(traceback.format_exc())
    except OSError:
        return ""
    return f" (traceback: {path}; PRUNE_DEBUG=1 prints it)"


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command in ("worker", "job"):
            return commands.background(args)
        if args.command == "import":
            return commands.import_results(args)
        if args.command == "inspect":
            return commands.inspect(args)
        if args.command == "users":
            return commands.users(args)
        if args.command == "profile":
            return commands.profile(args)
        specs = specs_from_args(args)
        if args.save_model and len(specs) > 1:
            raise SpecError("--save-model saves one run's model; use it with `run`, not `sweep`")
        if args.save_model and not args.save_model.endswith((".keras", ".h5")):
            raise SpecError("--save-model must end in .keras or .h5")
        if args.save_model:
            commands.check_writable(
                Path(args.save_model).expanduser().resolve().parent, "--save-model"
            )
        for line in advice(specs):
            print(f"note: {line}", file=sys.stderr, flush=True)
        # TensorFlow: only once the arguments are good
        from prune_core.engine import pipeline, run_inputs

        for spec in specs:
            run_inputs.check(spec)
        try:
            out = open(args.out, "w") if args.out else None
        except OSError as exc:
            raise SpecError(f"--out {args.out}: {exc.strerror or exc}") from None
        try:
            for i, spec in enumerate(specs, 1):
                printer = ProgressPrinter(f"{i}/{len(specs)} {spec.label()}", quiet=args.quiet)
                started = time.monotonic()
                result = pipeline.run(spec, on_progress=printer, model_path=args.save_model)
                if out is not None:  # written before it is reported
                    commands.write_line(out, result.to_dict())
                printer.done(f"done in {duration_text(time.monotonic() - started)}")
                for warning in diagnosis.warnings(
                    result, preflight.class_count(spec.baseline.dataset)
                ):
                    print(f"warning: {warning}", file=sys.stderr, flush=True)
                if args.json:
                    commands.write_line(sys.stdout, result.to_dict())
                else:
                    print(run_summary(result), flush=True)
        finally:
            if out is not None:
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
    except Exception as exc:  # noqa: BLE001 - a defect: still one line, the traceback kept aside
        if os.environ.get("PRUNE_DEBUG"):
            raise
        print(f"error: {failure_reason(exc)}{_keep_traceback()}", file=sys.stderr)
        return EXIT_FAILED
