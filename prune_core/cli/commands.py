"""The command line's commands other than `run` and `sweep`: background workers, `inspect`,
`import`, `profile` and `users`. Each checks its arguments before TensorFlow loads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from prune_core.cli.arguments import PROFILE_FIELDS
from prune_core.data import preflight
from prune_core.errors import SpecError
from prune_core.jobs import body, dispatcher, process
from prune_core.jobs.store import JobStore
from prune_core.progress import ProgressPrinter
from prune_core.recipe.spec import RunSpec, parse_numbers
from prune_core.results import profile as profiles
from prune_core.results import result_files
from prune_core.serving import access


def write_line(stream, result: dict) -> None:
    stream.write(json.dumps(result, sort_keys=False, default=float) + "\n")
    stream.flush()
    try:
        os.fsync(stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout pipes and StringIO cannot fsync


def background(args) -> int:
    if args.command == "job":
        process.die_with_parent()
        process.exit_now(0 if body.run_job(args.job_id) == "completed" else 1)
    if args.max_jobs is not None and args.max_jobs < 1:
        raise SpecError("--max-jobs must be >= 1")
    started = dispatcher.dispatch(parallel=args.max_jobs, forever=args.forever)
    print(f"worker: started {started} job(s); queue empty", file=sys.stderr)
    return 0


def inspect(args) -> int:
    """The dashboard's own check of a model file or an image folder, without TensorFlow."""
    found = preflight.inspect(args.path)
    if found.problem:
        raise SpecError(found.problem)
    for line in found.read:
        print(line)
    for note in found.notes:
        print(f"note: {note}")
    return 0


def import_results(args) -> int:
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


def profile(args) -> int:
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
        check_writable(Path(args.out).expanduser().resolve().parent, "--out")
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
        write_line(sys.stdout, measured.to_dict())
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


def users(args) -> int:
    """Manage the password list in $PRUNE_HOME/users.json (bcrypt hashes; the file readable by its
    owner)."""
    if args.users_command == "list":
        for name, user in sorted(access.loadusers().items()):
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


def check_writable(folder: Path, option: str) -> None:
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise SpecError(f"{option}: cannot write into {folder}")
