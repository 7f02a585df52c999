"""What every recovery table shares: the cells it compares, the recipes it runs (on digits or the
Shapes folder), the run logs it keeps in bench/out/ and how a cell is printed."""

from __future__ import annotations

import statistics
from pathlib import Path

#: The repository (bench/recovery/common.py is three levels down).
ROOT = Path(__file__).resolve().parents[2]


def numbers(text: str, kind=float) -> list:
    return [kind(v) for v in text.split(",") if v.strip()]


def cells(args, channels: str | None = None) -> list[tuple[str, dict]]:
    """(row name, recipe fields) of every pruning a table compares (`channels`: the FLOPs shares
    of its channel rows, default `--channels`)."""
    out = [
        (f"weights {s:.0%}", dict(strategy="taylor", scope="auto", sparsity=s))
        for s in numbers(args.weights)
    ]
    out += [
        (
            f"channels −{s:.0%} FLOPs",
            dict(strategy="taylor", scope="global", granularity="structured", sparsity=s),
        )
        for s in numbers(channels or args.channels)
    ]
    return out


def pp(value: float) -> str:
    return f"{value * 100:+.2f} pp"


def run_log(name: str):
    """The runs of one part, kept in bench/out/ as each finishes (`--resume` reads them back)."""
    from contextlib import nullcontext

    from bench.run_log import RunLog

    path = ROOT / "bench" / "out" / f"{section_name(name)}.jsonl"
    return nullcontext(RunLog(path, resume=DATASET.get("resume", False)))


def run_printed(spec, home: Path, log) -> object:
    result = log.run(spec, root=home)
    print(
        f"  seed {spec.training.seed} {spec.label()}: dense {result.dense.top1:.4f}, before "
        f"fine-tuning {result.top1_before_finetune:.4f} → {result.top1:.4f}",
        flush=True,
    )
    return result


#: The fine-tune budget of every table but the budget part's (`--fine-tune-epochs`).
FINE_TUNE_EPOCHS = 8


#: The dataset the recipes run on (`--dataset`): digits, or the Shapes image folder.
DATASET = {"name": "digits"}


def dataset_recipe() -> str:
    """The recipe's dataset field; the Shapes folder is written (once, reproducibly) when asked."""
    from bench.datasets import recipe_dataset

    return recipe_dataset(DATASET["name"])


def section_name(name: str) -> str:
    return name if DATASET["name"] == "digits" else f"{name}-{DATASET['name']}"


def each_seed(args, home: Path, log, **fields) -> list:
    """One recipe (the fine-tune budget of `args`) run at every seed, in order."""
    return [
        run_printed(recipe(s, args.fine_tune_epochs, **fields), home, log)
        for s in numbers(args.seeds, int)
    ]


def recipe(seed: int, epochs: int, **fields):
    from prune_core.recipe.spec import RunSpec

    return RunSpec.of(
        model="efficientnet-compact",
        dataset=dataset_recipe(),
        seed=seed,
        fine_tune_epochs=epochs,
        **fields,
    )


def cell(results: list, key) -> str:
    values = [key(r) for r in results]
    return " / ".join(f"{v:.2%}" for v in values) + (
        f" (mean {statistics.mean(values):.2%})" if len(values) > 1 else ""
    )
