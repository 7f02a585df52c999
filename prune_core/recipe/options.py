"""What a recipe may combine, and why not: the questions a recipe form asks, answered by the recipe.

`options(partial)` walks the form's fields in the order a form asks them (`ORDER`). It tries each
value of a field through the real constructors (`RunSpec.from_dict`): the fields asked before hold
their settled values, the fields asked after their least demanding one (`EASIEST`: a criterion,
single weights, no pattern, a target sparsity, per-layer ranking, no regrowth, one-shot, one
fine-tune epoch). So a value is refused only for what was chosen before it, never for what comes
after: a later field yields. A refused value carries the recipe's own SpecError sentence, less its
command-line hint. No combination rule is written here: change a check in `pruning.py`, `spec.py`
or `schedules.py`, and the options follow.

Declared here, because no check states them: which settings the recipe ignores in some combinations
(`READ_ONLY_WHEN`) and the least demanding value of each field (`EASIEST`; the tests check that it
is). Pure Python, like the rest of `prune_core.recipe`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from prune_core.errors import SpecError
from prune_core.measured import BEST_DISTILL, BEST_SCOPE, BEST_STRATEGY
from prune_core.recipe import patterns
from prune_core.recipe.schedules import SCHEDULE_KINDS
from prune_core.recipe.spec import (
    BUDGETS,
    CHANNEL_MULTIPLES,
    CRITERIA,
    FIELDS,
    GRANULARITIES,
    RANKINGS,
    REGROWTH,
    SCOPES,
    STRATEGIES,
    RunSpec,
)

#: The form's fields in the order a form asks them. Recipe fields by their flat names, plus two
#: questions the recipe answers through other fields: `mode` ("target" | "threshold": which of
#: sparsity and threshold it holds) and `combined` (whether `then_sparsity` is set).
ORDER = (
    "granularity",
    "strategy",
    "budget",
    "channel_multiple",
    "combined",
    "pattern",
    "then_sparsity",
    "mode",
    "sparsity",
    "threshold",
    "scope",
    "rank",
    "regrow",
    "regrow_fraction",
    "regrow_every",
    "schedule",
    "initial_sparsity",
    "power",
    "begin_step",
    "end_step",
    "frequency",
    "reconstruct",
    "fine_tune_epochs",
    "distill",
    "temperature",
)
MODES = ("target", "threshold")

#: The values each choice field may take, tried in this order (a pattern typed in is tried too).
CHOICES = {
    "granularity": GRANULARITIES,
    "strategy": STRATEGIES,
    "budget": BUDGETS,
    "channel_multiple": CHANNEL_MULTIPLES,
    "combined": (False, True),
    "pattern": patterns.COMMON,
    "mode": MODES,
    "scope": SCOPES,
    "rank": RANKINGS,
    "regrow": REGROWTH,
    "schedule": SCHEDULE_KINDS,
    "reconstruct": (False, True),
}


def _pinned(answers: dict) -> float | None:
    """The sparsity the chosen pattern fixes (N:M), the value tried first for an amount it pins."""
    try:
        return patterns.Pattern.parse(answers["pattern"]).sparsity
    except SpecError:
        return None


#: The least demanding value of each field: what a field asked later takes while an earlier one is
#: tried. A callable reads the answers so far (an N:M pattern fixes the amount it applies to).
EASIEST = {
    "granularity": "unstructured",
    "strategy": CRITERIA[0],
    "budget": BUDGETS[0],
    "channel_multiple": 1,
    "combined": False,
    "pattern": patterns.UNSTRUCTURED,
    "then_sparsity": lambda a: _pinned(a) or 0.5,
    "mode": "target",
    "sparsity": lambda a: _pinned(a) or 0.5,
    "threshold": 0.0,
    "scope": "layerwise",
    "rank": "importance",
    "regrow": "none",
    "regrow_fraction": 0.3,
    "regrow_every": 100,
    "schedule": "oneshot",
    "initial_sparsity": 0.0,
    "power": 3.0,
    "begin_step": 0,
    "end_step": 100,
    "frequency": 100,
    "reconstruct": False,
    "fine_tune_epochs": 1,
    "distill": 0.0,
    "temperature": 4.0,
}


def _structured(a):
    return a["granularity"] == "structured"


def _combined(a):
    return a["combined"]


def _target(a):
    return a["mode"] == "target"


def _threshold(a):
    return a["mode"] == "threshold"


def _rigl(a):
    return a["regrow"] != "none"


def _polynomial(a):
    return a["schedule"] == "polynomial"


def _gradual(a):
    return a["schedule"] != "oneshot"


def _fine_tuned(a):
    return a["fine_tune_epochs"] > 0


def _distilled(a):
    return _fine_tuned(a) and a["distill"] > 0


_ONCE = "The one-shot schedule prunes once, before fine-tuning."
#: Settings the recipe reads only in some combinations (elsewhere they are kept, and ignored):
#: (when it reads the field, why not otherwise).
READ_ONLY_WHEN: dict[str, tuple[Callable[[dict], bool], str]] = {
    "budget": (_structured, "Only whole-channel pruning counts FLOPs, parameters or latency."),
    "channel_multiple": (_structured, "Only whole-channel pruning keeps channel counts."),
    "then_sparsity": (_combined, "Only a combined recipe has a second, single-weight stage."),
    "sparsity": (_target, "A threshold decides what is removed, not a target."),
    "threshold": (_threshold, "A target sparsity decides what is removed."),
    "regrow_fraction": (_rigl, "Only RigL moves weights while fine-tuning."),
    "regrow_every": (_rigl, "Only RigL moves weights while fine-tuning."),
    "initial_sparsity": (_polynomial, "Only a polynomial schedule has an initial sparsity."),
    "power": (_polynomial, "Only the polynomial schedule has a power."),
    "begin_step": (_gradual, _ONCE),
    "end_step": (_gradual, _ONCE),
    "frequency": (_gradual, _ONCE),
    "distill": (_fine_tuned, "Distillation acts while fine-tuning, and there is none."),
    "temperature": (_distilled, "Only distillation softens the dense model's outputs."),
}
#: Number fields whose lowest value a rule may refuse (tried, to tell a form its bound).
_LOWEST = {"fine_tune_epochs": 0}


@dataclass(frozen=True)
class FieldOptions:
    """One form field as the recipe allows it now."""

    value: object  # what the recipe takes: the asked value when allowed, else the fallback
    choices: tuple | None  # the values allowed now; None: any number (its range is the recipe's)
    refused: dict = field(default_factory=dict)  # value tried → why the recipe refuses it
    #: why the recipe ignores this field as the others stand (None: it reads it)
    unused: str | None = None

    @property
    def used(self) -> bool:
        return self.unused is None

    @property
    def enabled(self) -> bool:
        """Whether a form should let this field change: it is read, and more than one value goes."""
        return self.used and (self.choices is None or len(self.choices) > 1)

    @property
    def reason(self) -> str | None:
        """Why the field cannot change now (None when it can): why the recipe ignores it, or the
        sentence of the refusal that pins it."""
        if self.enabled:
            return None
        return self.unused or next(iter(self.refused.values()), None)


def options(partial: dict, prefer: dict | None = None) -> dict[str, FieldOptions]:
    """Every field of `ORDER` as the recipe allows it, given a partial recipe: flat `RunSpec` fields
    (missing ones take the recipe's defaults), and optionally the answers `mode` and `combined`.
    Where an asked value is refused, the field falls back to `prefer`'s value for it when that is
    allowed, else to the first allowed one. Fields other than `ORDER`'s (model, data, learning
    rate…) combine with nothing and are left out of the trials."""
    asked, preferred = _answers(partial), _answers(prefer) if prefer else {}
    known: dict = {}  # the fields asked so far, as the later trials hold them
    settled: dict = {}  # the fields asked so far, as the form holds them (what a later one reads)
    out = {}
    for name in ORDER:
        if name in CHOICES:
            out[name] = _choose(name, known, asked[name], preferred.get(name), settled)
            known[name] = out[name].value
        else:
            out[name], known[name] = _number(name, known, asked[name], settled)
        settled[name] = out[name].value
    return out


#: Where a recipe's defaults are the best measured (the dashboard's), not the library's.
BEST_DEFAULTS = {"strategy": BEST_STRATEGY, "scope": BEST_SCOPE, "distill": BEST_DISTILL}


def completed(given: dict) -> dict:
    """Flat recipe fields with those left out (or None) filled as the dashboard fills them: the
    best measured strategy, scope and distillation where the recipe allows them, and the amount
    the recipe pins (an N:M pattern), else 50 %, unless a threshold is given. The command line and
    the Python API both start here."""
    flat = {k: v for k, v in given.items() if k not in BEST_DEFAULTS or v is not None}
    combined = flat.get("then_sparsity") is not None
    for name, best in BEST_DEFAULTS.items():
        if name not in flat:
            flat[name] = options({**flat, name: best, "combined": combined})[name].value
    if flat.get("threshold") is None and flat.get("sparsity") is None:
        pinned = options({**flat, "combined": combined})["sparsity"]
        flat["sparsity"] = (pinned.value if pinned.choices else None) or 0.5
    return flat


def recipe(opts: dict[str, FieldOptions], **changes) -> dict:
    """The flat recipe (`RunSpec.from_dict`'s fields) that the options' values make, with `changes`
    (fields of `ORDER`, `mode` and `combined` included) applied."""
    return _flat({**{name: o.value for name, o in opts.items()}, **changes})


def reason_of(error: SpecError) -> str:
    """The recipe's sentence for a form: its command-line hint (a clause or a parenthesis naming a
    --flag) left out, capitalised (tfmot keeps its lower case), with a full stop."""
    text = re.sub(r"\s*\([^()]*--[^()]*\)", "", str(error))
    text = "; ".join(clause for clause in text.split("; ") if "--" not in clause).strip()
    if not text.startswith("tfmot"):
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ---- the trials --------------------------------------------------------------------------------
_DEFAULTS = {f.name: f.default for f in FIELDS}


#: The amounts a recipe may leave empty (None is an answer for them).
_OPTIONAL_AMOUNTS = ("then_sparsity", "sparsity", "threshold")


def _answers(partial: dict) -> dict:
    """A partial recipe as answers to every field of `ORDER` (a missing amount: its easiest; any
    other field left None, not asked yet: the recipe's default)."""
    given = {k: v for k, v in partial.items() if v is not None or k in _OPTIONAL_AMOUNTS}
    flat = {**_DEFAULTS, **given}
    answers = {name: flat.get(name) for name in ORDER}
    answers["combined"] = (
        bool(partial["combined"]) if "combined" in partial else flat["then_sparsity"] is not None
    )
    answers["mode"] = partial.get("mode") or (
        "threshold" if flat["threshold"] is not None else "target"
    )
    try:  # "2:4", "block:1x4" as the recipe writes them
        answers["pattern"] = str(patterns.Pattern.parse(answers["pattern"]))
    except SpecError:
        pass  # tried as typed, and refused with the parser's sentence
    for name in _OPTIONAL_AMOUNTS:
        if answers[name] is None:
            answers[name] = _easiest(name, answers)
    return answers


def _easiest(name: str, answers: dict):
    value = EASIEST[name]
    return value(answers) if callable(value) else value


def _flat(answers: dict) -> dict:
    """Answers as flat recipe fields (`mode` keeps one amount; `combined`, then_sparsity)."""
    flat = {k: v for k, v in answers.items() if k not in ("mode", "combined")}
    target = answers["mode"] == "target"
    flat.update(
        sparsity=answers["sparsity"] if target else None,
        threshold=None if target else answers["threshold"],
        then_sparsity=answers["then_sparsity"] if answers["combined"] else None,
    )
    return flat


def _refusal(known: dict, name: str, value) -> str | None:
    """Why the recipe refuses `value` for `name` after the fields in `known`, with the later fields
    at their easiest (None: it takes it)."""
    answers = {**known, name: value}
    for later in ORDER:
        if later not in answers:
            answers[later] = _easiest(later, answers)
    try:
        RunSpec.from_dict(_flat(answers))
    except SpecError as exc:
        return reason_of(exc)
    return None


def _unused(name: str, settled: dict) -> str | None:
    """Why the recipe ignores `name`, as the fields before it are settled (None: it reads it)."""
    reads, why = READ_ONLY_WHEN.get(name, (None, None))
    return None if reads is None or reads(settled) else why


def _choose(name: str, known: dict, asked, preferred, settled: dict) -> FieldOptions:
    """Every value of a choice field tried; the asked one kept when allowed."""
    tried = CHOICES[name] + ((asked,) if asked not in CHOICES[name] else ())
    refused = {v: why for v in tried if (why := _refusal(known, name, v))}
    allowed = tuple(v for v in tried if v not in refused)
    value = next(v for v in (asked, preferred, *allowed) if v in allowed)
    return FieldOptions(value, allowed, refused, _unused(name, settled))


def _number(name: str, known: dict, asked, settled: dict) -> tuple[FieldOptions, object]:
    """(the field's options, the value later trials take). A number combines with the other fields
    only where a rule pins it (the sparsity an N:M pattern fixes) or refuses its lowest value (no
    fine-tuning); elsewhere its range is the recipe's value check, reported when the recipe is
    built, and later trials take the field's easiest value."""
    easiest = _easiest(name, known)
    unused = _unused(name, settled)
    if unused:
        return FieldOptions(asked, None, {}, unused), easiest
    pin = _pinned(known) if name in ("sparsity", "then_sparsity") else None
    if pin is not None and not _refusal(known, name, pin):
        other = pin / 2  # in range, and not the pattern's
        if why := _refusal(known, name, other):
            return FieldOptions(pin, (pin,), {other: why}), pin
    lowest = _LOWEST.get(name)
    if lowest is not None and (why := _refusal(known, name, lowest)):
        return FieldOptions(lowest + 1 if asked == lowest else asked, None, {lowest: why}), easiest
    return FieldOptions(asked, None), easiest
