"""Run recipes: frozen, validated, JSON round-trip. One format for the CLI, the dashboard and jobs.

A `RunSpec` is four groups — what is pruned (`BaselineSpec`), how (`PruningSpec`), when (the
`Schedule` value object) and with what fine-tune budget (`TrainingSpec`) — plus the export. Its JSON
stays one flat object (`{"strategy": "taylor", "sparsity": 0.8, "schedule": "polynomial", …}`):
readable, and every recipe stored before the groups existed still loads. Each field carries its
own help text and choices, so the CLI's options and the reproducing command line are derived from
the spec: adding an option touches the spec, the CLI's wording (nothing, usually) and the form.

Pure Python: the dashboard builds and validates recipes without importing TensorFlow.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

from prune_core.errors import SpecError
from prune_core.measured import BEST_DISTILL, EXPORT_MINUTES
from prune_core.recipe import patterns
from prune_core.recipe.baseline import PIXEL_RANGES, BaselineSpec
from prune_core.recipe.fields import (
    MAX_BATCH_SIZE,
    MAX_CALIBRATION,
    MAX_EPOCHS,
    MAX_IMAGE_SIZE,
)
from prune_core.recipe.fields import (
    check_choice as _check_choice,
)
from prune_core.recipe.pruning import (
    BUDGETS,
    CHANNEL_MULTIPLES,
    CRITERIA,
    GRANULARITIES,
    RANKINGS,
    REGROWTH,
    SCOPES,
    STRATEGIES,
    PruningSpec,
)
from prune_core.recipe.schedules import SCHEDULE_KINDS, Schedule
from prune_core.recipe.training import TrainingSpec

#: Deployable exports measured after a run ("tflite": float, sparse and int8 TFLite + LiteRT
#: latency).
EXPORTS = ("none", "tflite")


#: Help texts of the schedule's fields (the `Schedule` value object stays free of CLI wording).
SCHEDULE_HELP = {
    "kind": "oneshot (prune, then fine-tune), constant or polynomial (tfmot's schedules)",
    "initial_sparsity": "polynomial: sparsity at the begin step",
    "begin_step": "first fine-tune step a gradual schedule may prune at",
    "end_step": "last pruning step (-1: never stop, constant only)",
    "frequency": "steps between pruning events",
    "power": "polynomial: exponent of the decay",
}
#: Flat JSON name of a schedule field (the schedule's kind is stored as "schedule").
_SCHEDULE_FLAT = {"kind": "schedule"}
GROUPS = ("baseline", "pruning", "schedule", "training")


@dataclass(frozen=True)
class Field:
    """One flat recipe field: its JSON / CLI name, group, default, help and choices."""

    name: str
    group: str
    attr: str
    default: object
    help: str
    choices: tuple | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _fields() -> tuple[Field, ...]:
    out = []
    for group, cls in (
        ("baseline", BaselineSpec),
        ("pruning", PruningSpec),
        ("training", TrainingSpec),
    ):
        out += [
            Field(f.name, group, f.name, f.default, f.metadata["help"], f.metadata["choices"])
            for f in fields(cls)
        ]
    schedule_default = Schedule()
    for f in fields(Schedule):
        if f.name == "final_sparsity":  # the pruning target
            continue
        out.append(
            Field(
                _SCHEDULE_FLAT.get(f.name, f.name),
                "schedule",
                f.name,
                getattr(schedule_default, f.name),
                SCHEDULE_HELP[f.name],
                SCHEDULE_KINDS if f.name == "kind" else None,
            )
        )
    out.append(
        Field(
            "export",
            "",
            "export",
            "none",
            "tflite: also export float / sparse / int8 TFLite and "
            "measure sizes, accuracy and LiteRT latency (about "
            f"{EXPORT_MINUTES} minute(s) more per run on the compact model)",
            EXPORTS,
        )
    )
    return tuple(out)


@dataclass(frozen=True)
class RunSpec:
    """One pruning run: model × dataset × strategy × amount × schedule × budget (see the module
    doc)."""

    baseline: BaselineSpec = field(default_factory=BaselineSpec)
    pruning: PruningSpec = field(default_factory=PruningSpec)
    schedule: Schedule = field(default_factory=Schedule)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    export: str = "none"

    def __post_init__(self):
        final = self.pruning.sparsity or 0.0
        if self.schedule.final_sparsity != final:  # the schedule ends at the pruning target
            object.__setattr__(self, "schedule", replace(self.schedule, final_sparsity=final))
        _check_choice(self.export, EXPORTS, "export")
        if self.pruning.threshold is not None and self.schedule.kind != "oneshot":
            raise SpecError(
                "threshold mode prunes once; use --schedule oneshot or give --sparsity instead"
            )
        if self.pruning.strategy == "tfmot" and self.training.fine_tune_epochs == 0:
            raise SpecError(
                "tfmot's recipe prunes during fine-tuning; give --fine-tune-epochs of at least 1"
            )
        if self.pruning.sparsity_pattern.kind == "n:m" and self.schedule.kind == "polynomial":
            raise SpecError(
                f"{self.pruning.pattern} removes N of every M weights at once; use the one-shot or "
                "constant schedule"
            )
        if self.pruning.reconstruct and self.schedule.kind != "oneshot":
            raise SpecError(
                "reconstruction refits the weights left by a one-shot cut: use the one-shot "
                "schedule"
            )
        if self.pruning.then_sparsity is not None and self.schedule.kind != "oneshot":
            raise SpecError(
                "a combined recipe cuts channels, then weights, both before fine-tuning: use the "
                "one-shot schedule"
            )
        if self.pruning.regrow != "none" and (
            self.schedule.kind != "oneshot" or self.training.fine_tune_epochs == 0
        ):
            raise SpecError(
                "RigL prunes to the target once, then moves weights while it fine-tunes: use the "
                "one-shot schedule and at least one fine-tune epoch"
            )

    @property
    def mode(self) -> str:
        return self.pruning.mode

    def baseline_key(self) -> str:
        """Cache key of the baseline this run starts from: model, data, seed and training
        settings."""
        parts = {
            **asdict(self.baseline),
            "seed": self.training.seed,
            "batch_size": self.training.batch_size,
        }
        if parts["pixels"] == PIXEL_RANGES[0]:  # the keys of every cache before the field existed
            del parts["pixels"]
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def label(self) -> str:
        """Short and telling: "taylor s=0.5 global oneshot", "taylor s=0.4 global channels/flops
        oneshot"."""
        p = self.pruning
        amount = f"t={p.threshold:g}" if p.threshold is not None else f"s={p.sparsity:g}"
        channels = f" channels/{p.budget}" if p.granularity == "structured" else ""
        pattern = f" {p.pattern}" if p.pattern != patterns.UNSTRUCTURED else ""
        if p.then_sparsity is not None:
            pattern = f" + weights {p.then_sparsity:g}{pattern}"
        regrow = f" +{p.regrow}" if p.regrow != "none" else ""
        distilled = f" +distill {self.training.distill:g}" if self.training.distill else ""
        if p.reconstruct:
            regrow = " +refit" + regrow
        return (
            f"{p.strategy} {amount} {p.scope}{channels}{pattern} {self.schedule.kind}{regrow}"
            f"{distilled}"
        )

    def command(self) -> str:
        """The `python -m prune_core run ...` line that reproduces this recipe (non-default options
        only, and always the criterion, amount and ranking: the command line's defaults for those
        are the best measured recipe, not the library's)."""
        parts = ["python -m prune_core run"]
        for f, value in zip(FIELDS, self.flat_values()):
            default = COMMAND_LINE_DEFAULTS.get(f.name, f.default)
            if value is None or (value == default and f.name not in ALWAYS_NAMED):
                continue
            if isinstance(value, bool):
                if value:
                    parts.append(f.flag)
            elif str(value).startswith("-"):  # argparse would read "-1-1" as an option
                parts.append(f"{f.flag}={value}")
            else:
                parts.append(f"{f.flag} {value}")
        return " ".join(parts)

    # ---- (de)serialisation: one flat object
    # ---------------------------------------------------------
    def value(self, f: Field):
        """The value of one flat field, read through its group (the schedule field is its kind)."""
        if f.name == "schedule":
            return self.schedule.kind
        return getattr(getattr(self, f.group) if f.group else self, f.attr)

    def flat_values(self) -> list:
        return [self.value(f) for f in FIELDS]

    def to_dict(self) -> dict:
        return {f.name: v for f, v in zip(FIELDS, self.flat_values())}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def of(cls, **flat) -> RunSpec:
        """A recipe from flat keywords (`RunSpec.of(strategy="taylor", sparsity=0.8)`); others
        default."""
        return cls.from_dict(flat)

    @classmethod
    def from_dict(cls, data: dict) -> RunSpec:
        if not isinstance(data, dict):
            raise SpecError("recipe must be a JSON object")
        unknown = sorted(set(data) - set(_BY_NAME))
        if unknown:
            raise SpecError(f"unknown recipe field(s): {', '.join(unknown)}")
        groups: dict = {g: {} for g in GROUPS}
        top = {}
        for name, value in data.items():
            f = _BY_NAME[name]
            (groups[f.group] if f.group else top)[f.attr] = _of_type(f, value)
        try:
            pruning = PruningSpec(**groups["pruning"])
            schedule = Schedule(**groups["schedule"], final_sparsity=pruning.sparsity or 0.0)
            return cls(
                BaselineSpec(**groups["baseline"]),
                pruning,
                schedule,
                TrainingSpec(**groups["training"]),
                **top,
            )
        # a value of the wrong type that a check could not take
        except (TypeError, AttributeError) as exc:
            raise SpecError(f"recipe has a value of the wrong type ({exc})") from None

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"recipe is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def with_(self, **changes) -> RunSpec:
        """A copy with flat fields changed (validated like a new recipe)."""
        return RunSpec.from_dict({**self.to_dict(), **changes})


FIELDS: tuple[Field, ...] = _fields()
#: Number fields a recipe may leave empty (one of the two amounts).
_OPTIONAL_NUMBERS = ("sparsity", "threshold", "then_sparsity")


def _of_type(f: Field, value):
    """A stored recipe value as its field's type (whole floats for integers, integers for floats),
    or a SpecError: JSON from a file or an import is not trusted to hold what the field expects."""
    name = f.name.replace("_", " ")
    if value is None:
        if f.name in _OPTIONAL_NUMBERS:
            return None
        raise SpecError(f"{name} is missing")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(f.default, bool):
        if not isinstance(value, bool):
            raise SpecError(f"{name} must be true or false, got {str(value)[:40]!r}")
        return value
    if isinstance(f.default, int):
        if not number or not float(value).is_integer():
            raise SpecError(f"{name} must be a whole number, got {str(value)[:40]!r}")
        return int(value)
    if isinstance(f.default, float) or f.name in _OPTIONAL_NUMBERS:
        if not number or not math.isfinite(value):
            raise SpecError(f"{name} must be a finite number, got {str(value)[:40]!r}")
        return float(value)
    if not isinstance(value, str):
        raise SpecError(f"{name} must be text, got {str(value)[:40]!r}")
    return value


_BY_NAME = {f.name: f for f in FIELDS}


# ---- sweeps: the CLI's `sweep` and the Experiment form expand recipes the same way
# -------------------
#: Fields `command()` always names.
ALWAYS_NAMED = ("strategy", "sparsity", "scope")
#: Fields whose command-line default is the best measured value, not the library's: `command()`
#: names them where they differ from it.
COMMAND_LINE_DEFAULTS = {"distill": BEST_DISTILL}


def parse_numbers(text: str, what: str, percent: bool = False) -> list[float]:
    """'0.5, 0.8,0.9' → [0.5, 0.8, 0.9] (with `percent`, '50%, 80 %' → [0.5, 0.8] too); a clear
    error names `what` when a value is not a number."""
    values = [v for v in str(text).replace(" ", "").split(",") if v]
    try:
        return [float(v[:-1]) / 100 if percent and v.endswith("%") else float(v) for v in values]
    except ValueError:
        raise SpecError(f"{what} must be comma-separated numbers, got {text!r}") from None


def expand(
    common: dict, strategies: list, sparsities: list | None = None, thresholds: list | None = None
) -> list[RunSpec]:
    """Every strategy × amount as its own validated recipe (all checked before anything runs)."""
    strategies = [s.strip() for s in strategies if s and s.strip()]
    if thresholds:
        amounts = [{"threshold": t, "sparsity": None} for t in thresholds]
    else:
        amounts = [{"sparsity": s, "threshold": None} for s in (sparsities or [])]
    if not strategies or not amounts:
        raise SpecError("a sweep needs at least one strategy and one sparsity or threshold")
    return [
        RunSpec.from_dict({**common, "strategy": s, **a})
        for s, a in itertools.product(strategies, amounts)
    ]


__all__ = [
    "RunSpec",
    "BaselineSpec",
    "PruningSpec",
    "TrainingSpec",
    "Schedule",
    "FIELDS",
    "Field",
    "expand",
    "parse_numbers",
    "BUDGETS",
    "CHANNEL_MULTIPLES",
    "CRITERIA",
    "GRANULARITIES",
    "RANKINGS",
    "REGROWTH",
    "SCOPES",
    "STRATEGIES",
    "MAX_BATCH_SIZE",
    "MAX_CALIBRATION",
    "MAX_EPOCHS",
    "MAX_IMAGE_SIZE",
]
