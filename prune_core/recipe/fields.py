"""A recipe field's declaration (default, help, choices) and the checks the recipe groups share.
Pure Python; used by `prune_core.recipe.spec` and `prune_core.recipe.pruning`.
"""

from __future__ import annotations

from dataclasses import field

from prune_core.errors import SpecError


def option(default, help: str, choices: tuple | None = None, **extra):
    """A recipe field: its default, the CLI's help text and (optionally) its choices."""
    return field(default=default, metadata={"help": help, "choices": choices, **extra})


def check_prefixed(value: str, known: tuple, prefixes: tuple, what: str) -> None:
    if value in known or any(value.startswith(p) and len(value) > len(p) for p in prefixes):
        return
    choices = ", ".join(known + tuple(p + "PATH" for p in prefixes))
    raise SpecError(f"unknown {what} {value!r}; choose one of {choices}")


def check_choice(value, choices: tuple, what: str) -> None:
    if value not in choices:
        raise SpecError(f"unknown {what} {value!r}; choose one of {', '.join(map(str, choices))}")


#: Upper bounds that keep one recipe's cost finite (a 10⁶-pixel input or a billion epochs is a typo,
#: and on a shared server a way to hold the queue for days).
MAX_IMAGE_SIZE, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_CALIBRATION = 1024, 1024, 1000, 100_000
#: A distillation temperature beyond this flattens any output to uniform (a typo, not a recipe).
MAX_TEMPERATURE = 100.0
#: What the consumers of a seed and a step accept: numpy seeds below 2**32, TF's int32 steps.
MAX_SEED, MAX_STEP = 2**32 - 1, 2**31 - 1


def check_int(name: str, value, low: int, high: int | None = None) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f">= {low}" if high is None else f"in {low}…{high:,}"
        raise SpecError(f"{name.replace('_', ' ')} must be an integer {bound}, got {value!r}")
