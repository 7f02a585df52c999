"""`python -m prune_core run|sweep|profile|worker|import|users`: the same recipes as the dashboard,
headless.

Progress goes to stderr; results go to stdout (or --out FILE) as JSON Lines, one object per run,
each written and flushed as soon as its run finishes. Bad input: one line on stderr, exit code 2;
any other failure: one line too (exit code 1), its traceback kept in PRUNE_HOME/logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from prune_core import paths
from prune_core.data import preflight
from prune_core.errors import Canceled, PruneError, SpecError, failure_reason
from prune_core.jobs import body, dispatcher, process
from prune_core.jobs.store import JobStore
from prune_core.measured import BEST_STRATEGY, DEFAULT_SPARSITIES
from prune_core.progress import ProgressPrinter
from prune_core.recipe.advice import advice
from prune_core.recipe.options import BEST_DEFAULTS, completed, options
from prune_core.recipe.spec import CRITERIA, FIELDS, STRATEGIES, RunSpec, expand, parse_numbers
from prune_core.results import diagnosis, result_files
from prune_core.results import profile as profiles
from prune_core.results.summary import run_summary
from prune_core.serving import access
from prune_core.units import duration_text

EXIT_BAD_INPUT = 2
#: A run that failed for a reason other than its input (a defect, a full disk).
EXIT_FAILED = 1


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message):
        raise SpecError(message)


#: Where the command line's defaults are the best measured recipe (the dashboard's), not the
#: library's.
CLI_DEFAULTS = {k: v for k, v in BEST_DEFAULTS.items() if k != "strategy"}
#: Recipe fields a command line names in its own way (a sweep takes lists of them).
_AMOUNT_FIELDS = ("strategy", "sparsity", "threshold")


def _add_recipe_options(p: argparse.ArgumentParser, sweep: bool) -> None:
    """One option per recipe field (`specs.FIELDS`: name, default, help, choices), plus output
    options."""
    if sweep:
        p.add_argument(
            "--strategies",
            default=BEST_STRATEGY,
            help=f"comma-separated, from {','.join(STRATEGIES)} (default: {BEST_STRATEGY}, the "
            "best measured)",
        )
        group = p.add_mutually_exclusive_group()
        group.add_argument(
            "--sparsities",
            default=None,
            help="comma-separated target sparsities, e.g. 0.5,0.8,0.9 (default "
            + ",".join(f"{s:g}" for s in DEFAULT_SPARSITIES)
            + ")",
        )
        group.add_argument("--thresholds", default=None, help="comma-separated score thresholds")
    else:
        field = {f.name: f for f in FIELDS}
        p.add_argument(
            "--strategy",
            default=BEST_STRATEGY,
            choices=STRATEGIES,
            help=field["strategy"].help + f" (default: {BEST_STRATEGY}, the best measured)",
        )
        group = p.add_mutually_exclusive_group()
        group.add_argument(
            "--sparsity",
            type=float,
            default=None,
            help=field["sparsity"].help + " (default 0.5; N/M with an N:M --pattern)",
        )
        group.add_argument("--threshold", type=float, default=None, help=field["threshold"].help)
    _add_field_options(p, [f.name for f in FIELDS if f.name not in _AMOUNT_FIELDS])
    p.add_argument(
        "--out", default=None, help="write each result as a JSON line to this file as well"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print each result as one JSON line on stdout instead of its summary",
    )
    p.add_argument(
        "--save-model", default=None, help="save the pruned model (.keras or .h5; run only)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _add_field_options(p: argparse.ArgumentParser, names: list) -> None:
    """One option per named recipe field (`specs.FIELDS`: flag, default, help, choices)."""
    for f in FIELDS:
        if f.name not in names:
            continue
        if isinstance(f.default, bool):
            p.add_argument(f.flag, action="store_true", help=f.help)
        else:
            choices = f.choices if f.choices and isinstance(f.default, str) else None
            # a field that is off by default (None) takes a number when given
            kind = float if f.default is None else type(f.default)
            if f.name in CLI_DEFAULTS:  # resolved with the recipe's say (`specs_from_args`)
                best = CLI_DEFAULTS[f.name]
                p.add_argument(
                    f.flag,
                    type=kind,
                    default=None,
                    choices=choices,
                    help=f"{f.help} (default: {best}, the best measured, where the recipe allows "
                    "it)",
                )
            else:
                p.add_argument(f.flag, type=kind, default=f.default, choices=choices, help=f.help)


#: What a profile depends on: the baseline (and what keys its cache), the calibration and the
#: targets.
PROFILE_FIELDS = (
    "model",
    "dataset",
    "weights",
    "image_size",
    "baseline_epochs",
    "seed",
    "batch_size",
    "calibration_examples",
    "prune_head",
    "prune_depthwise",
)


#: The commands --help lists (`job` is the dispatcher's own, started for each job).
PUBLIC_COMMANDS = ("run", "sweep", "profile", "worker", "import", "users")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m prune_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=OneLineParser,
        metavar="{" + ",".join(PUBLIC_COMMANDS) + "}",
    )
    _add_recipe_options(sub.add_parser("run", help="run one recipe"), sweep=False)
    _add_recipe_options(sub.add_parser("sweep", help="run strategies × sparsities"), sweep=True)
    prof = sub.add_parser(
        "profile",
        help="curves before fine-tuning and layer sensitivity of a baseline, per criterion "
        "(JSON; what the dashboard's Explore page shows)",
    )
    prof.add_argument(
        "--strategies",
        default="magnitude,gradient,taylor,fisher",
        help=f"comma-separated, from {','.join(CRITERIA)}",
    )
    prof.add_argument(
        "--levels",
        default=None,
        help="curve sparsities (before fine-tuning), comma-separated in [0, 1) "
        "(default 0,0.1,…,0.9,0.95,0.98)",
    )
    prof.add_argument(
        "--layer-levels",
        default=None,
        help="per-layer sensitivity sparsities in [0, 1) (default 0.25,0.5,0.75,0.9,0.95,0.98)",
    )
    prof.add_argument(
        "--channel-levels",
        default=None,
        help="structured curve: shares of FLOPs removed by whole "
        "channels, in [0, 1), or none (default 0,0.1,…,0.7)",
    )
    _add_field_options(prof, list(PROFILE_FIELDS))
    prof.add_argument("--out", default=None, help="write the profile (JSON) here instead of stdout")
    prof.add_argument("--quiet", action="store_true", help="no progress on stderr")
    worker = sub.add_parser("worker", help="drain the dashboard's job queue (one process per job)")
    worker.add_argument(
        "--max-jobs", type=int, default=None, help="jobs at once (default $PRUNE_MAX_JOBS or 1)"
    )
    worker.add_argument(
        "--forever", action="store_true", help="keep waiting for new jobs instead of exiting"
    )
    inspect = sub.add_parser(
        "inspect",
        help="check a model file or an image folder as the dashboard and a job will, before "
        "uploading or queueing: what was read, or the one-line refusal (exit 2)",
    )
    inspect.add_argument("path", help="a .keras or .h5 model file, or a folder of class folders")
    imp = sub.add_parser(
        "import", help="add JSON Lines results from run/sweep to the dashboard's runs"
    )
    imp.add_argument("files", nargs="+", help="JSON Lines files written by run/sweep --out")
    imp.add_argument(
        "--sweep", default=None, help="group name shown on the charts (default: the file name)"
    )
    users = sub.add_parser(
        "users",
        help="accounts of a shared dashboard (PRUNE_SHARED=1) that signs visitors in "
        "with a password",
    )
    users_sub = users.add_subparsers(
        dest="users_command", required=True, parser_class=OneLineParser
    )
    add = users_sub.add_parser("add", help="add a user, or set a user's password and admin flag")
    add.add_argument("name")
    add.add_argument(
        "--admin", action="store_true", help="may cancel, retry and delete anyone's jobs"
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking for it",
    )
    users_sub.add_parser("remove", help="remove a user (their jobs stay)").add_argument("name")
    users_sub.add_parser("list", help="names and admin flags")
    # internal: one job's own process; no help, so --help does not list it
    job = sub.add_parser("job")
    job.add_argument("job_id", type=int)
    return parser


def specs_from_args(args) -> list[RunSpec]:
    """Every recipe the command asks for, all validated before anything runs."""
    common = {f.name: getattr(args, f.name) for f in FIELDS if f.name not in _AMOUNT_FIELDS}
    if args.command == "run":  # as the Python API completes a recipe
        amount = (
            {"threshold": args.threshold, "sparsity": None}
            if args.threshold is not None
            else {"sparsity": args.sparsity}
        )
        return [RunSpec.from_dict(completed({**common, "strategy": args.strategy, **amount}))]
    combined = common.get("then_sparsity") is not None
    for name, best in CLI_DEFAULTS.items():  # not given: the best, as the recipe allows it
        if common.get(name) is None:
            common[name] = options({**common, name: best, "combined": combined})[name].value
    # the amount the recipe pins, if any (an N:M pattern on single weights): it is the default
    sparsity = options({**common, "combined": combined})["sparsity"]
    fixed = sparsity.value if sparsity.choices else None
    thresholds = parse_numbers(args.thresholds, "--thresholds") if args.thresholds else None
    sparsities = (
        [fixed]
        if fixed and not args.sparsities
        else (
            parse_numbers(args.sparsities, "--sparsities")
            if args.sparsities
            else list(DEFAULT_SPARSITIES)
        )
    )
    return expand(common, args.strategies.split(","), sparsities, thresholds)


def _write_line(stream, result: dict) -> None:
    stream.write(json.dumps(result, sort_keys=False, default=float) + "\n")
    stream.flush()
    try:
        os.fsync(stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout pipes and StringIO cannot fsync


def _background(args) -> int:
    if args.command == "job":
        process.die_with_parent()
        process.exit_now(0 if body.run_job(args.job_id) == "completed" else 1)
    if args.max_jobs is not None and args.max_jobs < 1:
        raise SpecError("--max-jobs must be >= 1")
    started = dispatcher.dispatch(parallel=args.max_jobs, forever=args.forever)
    print(f"worker: started {started} job(s); queue empty", file=sys.stderr)
    return 0


def _inspect(args) -> int:
    """The dashboard's own check of a model file or an image folder, without TensorFlow."""
    found = preflight.inspect(args.path)
    if found.problem:
        raise SpecError(found.problem)
    for line in found.read:
        print(line)
    for note in found.notes:
        print(f"note: {note}")
    return 0


def _import(args) -> int:
    """Every line of every file is checked before anything is written, and all are stored in one
    transaction: a bad file changes nothing."""
    entries = []
    for name in args.files:
        room = result_files.MAX_LINES - len(entries)
        entries += [(r, args.sweep or Path(name).stem) for r in result_files.read(Path(name), room)]
    store = JobStore()
    ids = store.add_completed(entries)
    print(f"imported {len(ids)} run(s) into {store.path}", file=sys.stderr)
    return 0


def _profile(args) -> int:
    """Profile the baseline for the named criteria; everything is checked before TensorFlow
    loads."""
    spec = RunSpec.from_dict({name: getattr(args, name) for name in PROFILE_FIELDS})
    names = args.strategies.split(",")
    levels = (
        profiles.check_levels(parse_numbers(args.levels, "--levels"), "--levels")
        if args.levels
        else profiles.LEVELS
    )
    layer_levels = (
        profiles.check_levels(parse_numbers(args.layer_levels, "--layer-levels"), "--layer-levels")
        if args.layer_levels
        else profiles.LAYER_LEVELS
    )
    profiles.check_criteria(names)
    channel_levels = profiles.STRUCTURED_LEVELS
    if args.channel_levels:
        channel_levels = (
            ()
            if args.channel_levels.strip() == "none"
            else profiles.check_levels(
                parse_numbers(args.channel_levels, "--channel-levels"), "--channel-levels"
            )
        )
    if args.out:
        _check_writable(Path(args.out).expanduser().resolve().parent, "--out")
    from prune_core.engine import profiler  # imports TensorFlow: only once the arguments are good

    printer = ProgressPrinter("profile", quiet=args.quiet)
    measured = profiler.run(
        spec,
        names,
        levels=levels,
        layer_levels=layer_levels,
        structured_levels=channel_levels,
        on_progress=printer,
    )
    text = json.dumps(measured.to_dict())
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        _write_line(sys.stdout, measured.to_dict())
    for name, crit in measured.criteria.items():
        points = " · ".join(
            f"{scope} {profiles.at_level(crit.curve(scope), 'top1_bn', 0.8):.3f}"
            for scope in profiles.SCOPES
            if crit.curve(scope)
        )
        printer.done(
            f"{name}: top-1 before fine-tuning at 80 % (BatchNorm re-estimated): {points} "
            f"(dense {measured.dense['top1']:.3f})"
        )
    return 0


def _users(args) -> int:
    """Manage the password list in $PRUNE_HOME/users.json (bcrypt hashes; the file readable by its
    owner)."""
    if args.users_command == "list":
        for name, user in sorted(access.load_users().items()):
            print(f"{name}{' (admin)' if user.get('admin') else ''}")
        return 0
    access.check_name(args.name)
    if args.users_command == "remove":
        if not access.remove_user(args.name):
            raise SpecError(f"there is no user {args.name!r}")
        print(f"removed {args.name}", file=sys.stderr)
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        access.check_password(password)
        if getpass.getpass("again: ") != password:
            raise SpecError("the two passwords differ; nothing was changed")
    access.add_user(args.name, password, admin=args.admin)
    print(
        f"{args.name} can sign in{' as an admin' if args.admin else ''} ({access.users_path()})",
        file=sys.stderr,
    )
    return 0


def _check_writable(folder: Path, option: str) -> None:
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise SpecError(f"{option}: cannot write into {folder}")


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
            return _background(args)
        if args.command == "import":
            return _import(args)
        if args.command == "inspect":
            return _inspect(args)
        if args.command == "users":
            return _users(args)
        if args.command == "profile":
            return _profile(args)
        specs = specs_from_args(args)
        if args.save_model and len(specs) > 1:
            raise SpecError("--save-model saves one run's model; use it with `run`, not `sweep`")
        if args.save_model and not args.save_model.endswith((".keras", ".h5")):
            raise SpecError("--save-model must end in .keras or .h5")
        if args.save_model:
            _check_writable(Path(args.save_model).expanduser().resolve().parent, "--save-model")
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
                    _write_line(out, result.to_dict())
                printer.done(f"done in {duration_text(time.monotonic() - started)}")
                for warning in diagnosis.warnings(
                    result, preflight.class_count(spec.baseline.dataset)
                ):
                    print(f"warning: {warning}", file=sys.stderr, flush=True)
                if args.json:
                    _write_line(sys.stdout, result.to_dict())
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
