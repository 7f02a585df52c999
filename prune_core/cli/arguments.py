"""The command line's arguments: one option per recipe field, and the recipes they ask for (every
one validated before anything runs)."""

from __future__ import annotations

import argparse

from prune_core.errors import SpecError
from prune_core.measured import BEST_STRATEGY, DEFAULT_SPARSITIES
from prune_core.recipe.options import BEST_DEFAULTS, completed, options
from prune_core.recipe.spec import CRITERIA, FIELDS, STRATEGIES, RunSpec, expand, parse_numbers


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
PUBLIC_COMMANDS = ("run", "sweep", "profile", "worker", "inspect", "import", "users")

#: What `--help` says first: the whole command line in one sentence.
DESCRIPTION = (
    "Prune Keras models with the dashboard's recipes, headless: run one recipe or a sweep, profile "
    "a baseline, check a model file or image folder, import results, manage a shared dashboard's "
    "accounts."
)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m prune_core", description=DESCRIPTION)
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
