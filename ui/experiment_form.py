"""The Experiment form's side of `prune_core.recipe.options`: the form read as a partial recipe,
the recipe's answer written back into it, widgets drawn as that answer allows (disabled, with the
reason beside them), tfmot's reference run, and the form's presets. Streamlit only; no combination
rule lives here: every one is the recipe's, asked through `options`."""

from __future__ import annotations

import math

import streamlit as st

from prune_core.errors import SpecError
from prune_core.recipe.options import FieldOptions, options, recipe
from prune_core.recipe.patterns import Pattern
from prune_core.recipe.schedules import seed_recipe
from prune_core.recipe.spec import parse_numbers
from prune_core.summaries import fraction_below, threshold_removing
from ui.forms import EXPERIMENT_FORM
from ui.inputs import chosen_model_and_data
from ui.session import baseline_scores

OTHER = "other…"  # the pattern is typed into a text field
MODE_LABELS = {"target": "target sparsity", "threshold": "threshold"}


def _same(value):
    return value


def _rank(latency_aware: bool) -> str:
    return "latency" if latency_aware else "importance"


def _regrow(rigl: bool) -> str:
    return "rigl" if rigl else "none"


#: Form key → (options field, recipe value of a widget value, widget value of a recipe value).
WIDGETS = {
    "granularity": ("granularity", _same, _same),
    "budget": ("budget", _same, _same),
    "channel_multiple": ("channel_multiple", int, _same),
    "combined": ("combined", bool, _same),
    "then_sparsity": ("then_sparsity", float, _same),
    "mode": ("mode", {v: k for k, v in MODE_LABELS.items()}.get, MODE_LABELS.get),
    "scope": ("scope", _same, _same),
    "latency_aware": ("rank", _rank, lambda rank: rank == "latency"),
    "rigl": ("regrow", _regrow, lambda regrow: regrow == "rigl"),
    "regrow_fraction": ("regrow_fraction", float, _same),
    "regrow_every": ("regrow_every", int, _same),
    "schedule": ("schedule", _same, _same),
    "initial_sparsity": ("initial_sparsity", float, _same),
    "power": ("power", float, _same),
    "begin_step": ("begin_step", int, _same),
    "end_step": ("end_step", int, _same),
    "frequency": ("frequency", int, _same),
    "fine_tune_epochs": ("fine_tune_epochs", int, _same),
    "reconstruct": ("reconstruct", bool, _same),
    "distill": ("distill", float, _same),
    "temperature": ("temperature", float, _same),
}


def _first_number(text: str) -> float | None:
    try:
        return next(iter(parse_numbers(text, "amounts", percent=True)), None)
    except SpecError:
        return None  # said beside the field once the form is drawn


def asked(state) -> tuple[dict, SpecError | None]:
    """The form as answers to `options` (a sweep's amounts by their first value; strategies by the
    first criterion, tfmot's run being the reference beside them), and the typed pattern's error."""
    answers = {field: to_recipe(state[key]) for key, (field, to_recipe, _) in WIDGETS.items()}
    criteria = [s for s in state["strategies"] if s != "tfmot"]
    if criteria or state["strategies"]:
        answers["strategy"] = (criteria or state["strategies"])[0]
    answers["sparsity"] = _first_number(state["sparsities"])
    answers["threshold"] = _first_number(state["thresholds"])
    try:
        answers["pattern"] = str(Pattern.parse(_pattern_text(state)))
        return answers, None
    except SpecError as exc:
        return answers, exc


def _pattern_text(state) -> str:
    return state["pattern_text"] if state["pattern"] == OTHER else state["pattern"]


def settle(state, prefer: dict) -> tuple[dict[str, FieldOptions], SpecError | None]:
    """Ask the recipe what the form may hold, and write its answer back: a value the recipe refuses
    after the fields above it becomes the allowed one (`prefer`'s, when allowed). Call before the
    form's widgets are drawn. Returns the options and the typed pattern's error."""
    answers, pattern_error = asked(state)
    opts = options(answers, prefer)
    for key, (field, _, to_widget) in WIDGETS.items():
        if state[key] != (value := to_widget(opts[field].value)):
            state[key] = value
    state["strategies"] = [s for s in state["strategies"] if s in opts["strategy"].choices]
    if "pattern" in answers and opts["pattern"].value != answers["pattern"]:
        state["pattern"] = opts["pattern"].value
    if opts["sparsity"].choices:  # pinned (an N:M pattern's sparsity)
        state["sparsities"] = f"{opts['sparsity'].value:g}"
    return opts, pattern_error


def preferred(defaults: dict) -> dict:
    """The form's default values as answers: a refused value falls back to one of these."""
    return asked(defaults)[0]


# ---- widgets drawn as the recipe allows ----------------------------------------------------------
def help_text(base: str | None, field: FieldOptions, label=str) -> str | None:
    """A widget's help, then why the recipe ignores it or refuses some of its values now."""
    parts = [base] if base else []
    if field.unused:
        parts.append(field.unused)
    parts += [f"Not possible now: {label(value)}. {why}" for value, why in field.refused.items()]
    return "\n\n".join(parts) or None


def explain(field: FieldOptions, container=st) -> None:
    """Say beside a widget why a rule pins it (a setting the recipe ignores says so in its help)."""
    if field.used and not field.enabled and field.reason:
        container.caption(field.reason)


def _field(opts: dict[str, FieldOptions], key: str) -> tuple[FieldOptions, object]:
    """(the options of form field `key`, how its widget writes a recipe value)."""
    field, _, to_widget = WIDGETS[key]
    return opts[field], to_widget


def radio(label: str, opts: dict[str, FieldOptions], key: str, help: str, at=st, **kw):
    """A horizontal radio over the values the recipe allows now, pinned ones said beside it."""
    field, name = _field(opts, key)
    choices = [name(v) for v in field.choices]
    chosen = at.radio(
        label,
        choices,
        key=key,
        horizontal=True,
        disabled=not field.enabled,
        help=help_text(help, field, name),
        **kw,
    )
    explain(field, at)
    return chosen


def checkbox(label: str, opts: dict[str, FieldOptions], key: str, help: str, at=st) -> bool:
    """A checkbox for an extra that is off or on (off always goes; on as the recipe allows, and
    why not in its help: a caption under every extra that is off would crowd the form)."""
    field, _ = _field(opts, key)
    return at.checkbox(label, key=key, disabled=not field.enabled, help=help_text(help, field))


def number(label: str, opts: dict[str, FieldOptions], key: str, low, high, help: str, at=st, **kw):
    """A number input: disabled where the recipe ignores it or pins it; its lowest value raised by
    one step where the recipe refuses that value (no fine-tuning with tfmot or RigL)."""
    field, _ = _field(opts, key)
    low = low + 1 if low in field.refused else low
    value = at.number_input(
        label, low, high, key=key, disabled=not field.enabled, help=help_text(help, field), **kw
    )
    explain(field, at)
    return value


def batch_recipe(opts: dict[str, FieldOptions], state, model: str, dataset: str) -> dict:
    """The flat recipe every run of the batch shares (each run adds its strategy and amount)."""
    return {
        **recipe(opts),
        "model": model,
        "dataset": dataset,
        "seed": int(state["seed"]),
        "learning_rate": float(state["learning_rate"]),
        "export": "tflite" if state["export"] else "none",
    }


# ---- tfmot's reference run ----------------------------------------------------------------------
_REFERENCE = "tfmot's recipe runs as the reference: single weights, no pattern, no regrowth."
#: How tfmot's reference run may differ from the form's recipe, and what the page says about it.
ADJUSTED = {
    "scope": "tfmot's recipe ranks each layer on its own: its runs use per-layer ranking.",
    "pattern": _REFERENCE,
    "regrow": _REFERENCE,
}
LEFT_OUT = {
    "mode": "tfmot's recipe prunes to a target sparsity, not a threshold: it is left out of "
    "this batch."
}


def reference_run(opts: dict[str, FieldOptions], prefer: dict) -> tuple[dict | None, list[str]]:
    """(tfmot's recipe beside the form's — the form's as tfmot's recipe takes it — or None when it
    would have to differ in more than its ranking, pattern and regrowth; what the page says)."""
    ref = options(recipe(opts, strategy="tfmot"), prefer)
    changed = [
        name
        for name, field in ref.items()
        if name != "strategy"
        and (field.used or opts[name].used)
        and field.value != opts[name].value
    ]
    left_out = [name for name in changed if name not in ADJUSTED]
    if left_out:  # the first field that differs is the cause; the ones after it follow from it
        cause = left_out[0]
        why = ref[cause].refused.get(opts[cause].value)
        note = "tfmot's recipe is left out of this batch" + (f": {why}" if why else ".")
        return None, [LEFT_OUT.get(cause, note)]
    return recipe(ref), list(dict.fromkeys(ADJUSTED[name] for name in changed))


# ---- presets and the threshold picker -----------------------------------------------------------
def tfmot_reference():
    st.session_state.update(
        strategies=["magnitude", "tfmot"],
        scope="layerwise",
        granularity="unstructured",
        mode="target sparsity",
        schedule="oneshot",
    )


def seed_tfmot_recipe():
    seed = seed_recipe()
    st.session_state.update(
        strategies=["tfmot"],
        granularity="unstructured",
        scope="layerwise",
        schedule="polynomial",
        mode="target sparsity",
        sparsities="0.8",
        initial_sparsity=seed.initial_sparsity,
        begin_step=seed.begin_step,
        end_step=seed.end_step,
        frequency=seed.frequency,
        power=seed.power,
        fine_tune_epochs=50,
    )


def best_recipe():
    st.session_state.update(
        {k: v for k, v in EXPERIMENT_FORM.items() if k not in ("model_choice", "dataset_choice")}
    )


def threshold_removing_half():
    """Entering threshold mode: start from the threshold that removes half of the baseline's
    weights by the first chosen criterion's scores, when a finished run has them (a fixed 1e-3
    removes 99.5 % of fisher scores and almost nothing of magnitude's)."""
    state = st.session_state
    if state["mode"] != "threshold" or not state["strategies"]:
        return
    found = baseline_scores(*chosen_model_and_data(), state["strategies"][:1], state["granularity"])
    if found and (value := threshold_removing(found[1], 0.5)):
        state["thresholds"] = f"{value:.3g}"


def _threshold_from_slider():
    st.session_state["thresholds"] = f"{st.session_state['threshold_pick']:.3g}"


def threshold_slider(model: str, dataset: str) -> None:
    """Threshold mode with a finished run's scores of this baseline: a log-scale slider over the
    scores' histogram bins (snapping to them), each step saying what share of weights it removes."""
    state = st.session_state
    found = (
        baseline_scores(model, dataset, state["strategies"][:1], state["granularity"])
        if state["strategies"]
        else None
    )
    edges = [e for e in (found[1].get("hist_edges") or []) if e > 0] if found else []
    if len(edges) < 2:
        return
    scores = found[1]
    try:
        wanted = float(state["thresholds"].split(",")[0])
    except ValueError:
        wanted = edges[len(edges) // 2]
    if state.get("threshold_pick") not in edges:
        state["threshold_pick"] = min(
            edges, key=lambda e: abs(math.log(e) - math.log(max(wanted, 1e-30)))
        )
    st.select_slider(
        f"Threshold on the baseline's {found[0].spec.pruning.strategy} scores (log scale)",
        options=edges,
        key="threshold_pick",
        on_change=_threshold_from_slider,
        format_func=lambda t: f"{t:.3g}: removes {fraction_below(scores, t):.0%}",
        help="Each step is one bin of the score histogram below; the label says the share "
        "of prunable weights scoring below it.",
    )
