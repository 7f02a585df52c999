"""`options()` says what the recipe says: every value it allows builds a RunSpec; every value it
refuses, RunSpec refuses whatever the later fields hold, and a form can show the sentence why."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prune_core.errors import SpecError
from prune_core.recipe.options import CHOICES, ORDER, options, reason_of, recipe
from prune_core.recipe.spec import RunSpec

#: Every choice a form offers, plus typed patterns beyond the common ones.
VALUES = {**CHOICES, "pattern": CHOICES["pattern"] + ("3:8", "block:3x7")}
#: Numbers in range (their own errors are the recipe's value checks, not combinations). Sparsities
#: stay above every initial sparsity drawn, so a polynomial schedule is never wrong by its numbers.
NUMBERS = {
    "then_sparsity": st.sampled_from([0.25, 0.3, 0.375, 0.5, 0.75]),
    "sparsity": st.sampled_from([0.25, 0.375, 0.5, 0.625, 0.8]),
    "threshold": st.sampled_from([0.0, 1e-3, 0.5]),
    "regrow_fraction": st.floats(0.01, 0.99),
    "regrow_every": st.integers(1, 1000),
    "initial_sparsity": st.sampled_from([0.0, 0.1, 0.2]),
    "power": st.floats(0.5, 10.0),
    "fine_tune_epochs": st.integers(0, 3),
    "distill": st.sampled_from([0.0, 0.5, 1.0]),
    "temperature": st.sampled_from([1.0, 4.0, 20.0]),
}
ANSWERS = {**{name: st.sampled_from(values) for name, values in VALUES.items()}, **NUMBERS}


@st.composite
def schedule_steps(draw) -> dict:
    """Begin, end and frequency that every schedule kind takes (end − begin: frequency × k)."""
    begin, frequency = draw(st.integers(0, 500)), draw(st.integers(1, 200))
    return {
        "begin_step": begin,
        "frequency": frequency,
        "end_step": begin + frequency * draw(st.integers(1, 20)),
    }


@st.composite
def partial_recipes(draw) -> dict:
    """A flat recipe with any subset of the combining fields set (the others: the defaults)."""
    names = [
        n
        for n in ORDER
        if n in ANSWERS and n not in ("mode", "combined", "threshold", "then_sparsity")
    ]
    chosen = draw(st.lists(st.sampled_from(names), unique=True))
    partial = {name: draw(ANSWERS[name]) for name in chosen}
    if draw(st.booleans()):  # threshold mode
        partial.update(sparsity=None, threshold=draw(NUMBERS["threshold"]))
    if draw(st.booleans()):  # a combined recipe's weight stage
        partial["then_sparsity"] = draw(NUMBERS["then_sparsity"])
    return {**partial, **draw(schedule_steps())}


def _builds(flat: dict) -> RunSpec:
    return RunSpec.from_dict(flat)


def _is_sentence(text) -> bool:
    return (
        isinstance(text, str) and len(text.split()) >= 3 and text.endswith(".") and "--" not in text
    )


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(partial_recipes())
def test_the_settled_recipe_builds_and_moves_only_refused_answers(partial):
    opts = options(partial)
    assert list(opts) == list(ORDER)
    spec = _builds(recipe(opts))
    assert (
        spec.pruning.strategy == opts["strategy"].value
        and spec.schedule.kind == opts["schedule"].value
    )
    for name in CHOICES:
        if name in partial and partial[name] in VALUES[name]:
            assert opts[name].value == partial[name] or partial[name] in opts[name].refused, name
        assert opts[name].value in opts[name].choices and not set(opts[name].choices) & set(
            opts[name].refused
        )


@FAST
@given(partial_recipes())
def test_every_allowed_choice_builds_and_keeps_the_answers_before_it(partial):
    opts = options(partial)
    for position, name in enumerate(ORDER):
        for value in opts[name].choices or ():
            chosen = options(recipe(opts, **{name: value}))
            assert chosen[name].value == value, (name, value)
            for earlier in ORDER[:position]:
                if earlier in CHOICES:
                    assert chosen[earlier].value == opts[earlier].value, (name, value, earlier)
            _builds(recipe(chosen))


@st.composite
def answers_after(draw, position: int) -> dict:
    """Any answers to the fields after `ORDER[position]` (schedule steps drawn together)."""
    later = ORDER[position + 1 :]
    steps = draw(schedule_steps())
    return {n: steps[n] if n in steps else draw(ANSWERS[n]) for n in later}


@FAST
@given(partial_recipes(), st.data())
def test_every_refused_value_is_refused_by_runspec_whatever_comes_after(partial, data):
    opts = options(partial)
    for position, name in enumerate(ORDER):
        for value, why in opts[name].refused.items():
            assert _is_sentence(why), (name, value, why)
            later = data.draw(answers_after(position))
            with pytest.raises(SpecError):
                _builds(recipe(opts, **{name: value}, **later))


@FAST
@given(partial_recipes())
def test_a_field_that_cannot_change_says_why(partial):
    for name, field in options(partial).items():
        assert field.enabled or _is_sentence(field.reason), name


def test_every_combination_of_the_choices_settles_to_a_recipe_that_builds():
    """Exhaustive over the choice fields (one criterion stands for all, one multiple for all)."""
    grid = {
        **VALUES,
        "strategy": ("taylor", "tfmot"),
        "channel_multiple": (1,),
        "pattern": ("unstructured", "2:4", "1:4", "block:1x4"),
        "budget": ("flops", "latency"),
    }
    names = [n for n in ORDER if n in grid]
    for values in itertools.product(*(grid[n] for n in names)):
        asked = dict(zip(names, values, strict=True))
        asked["then_sparsity"] = 0.3 if asked.pop("combined") else None
        if asked.pop("mode") == "threshold":
            asked.update(sparsity=None, threshold=0.01)
        _builds(recipe(options({**asked, "end_step": 200, "frequency": 20})))


def test_an_nm_pattern_pins_the_amount_the_ranking_and_the_schedule():
    opts = options({"pattern": "1:4", "sparsity": 0.8, "scope": "global", "schedule": "polynomial"})
    assert opts["sparsity"].value == 0.25 and not opts["sparsity"].enabled
    assert (
        opts["sparsity"].reason
        == "1:4 removes exactly 25% of the weights; set the sparsity to 0.25."
    )
    assert opts["mode"].choices == ("target",) and "instead of a threshold" in opts["mode"].reason
    assert opts["scope"].value == "layerwise" and not opts["scope"].enabled
    assert (
        opts["schedule"].choices == ("oneshot", "constant")
        and "at once" in opts["schedule"].refused["polynomial"]
    )


def test_structured_pruning_offers_no_tfmot_and_falls_back_to_the_preferred_ranking():
    opts = options({"granularity": "structured", "rank": "latency"}, prefer={"scope": "global"})
    assert "tfmot" not in opts["strategy"].choices
    assert opts["strategy"].refused["tfmot"].startswith("tfmot's recipe prunes single weights only")
    assert opts["scope"].value == "layerwise" and "auto" in opts["scope"].choices
    # a latency ranking needs one global target: the automatic allocation gives it none
    auto = options({"granularity": "structured", "scope": "auto", "rank": "latency"})
    assert auto["scope"].value == "auto" and auto["rank"].choices == ("importance",)


def test_latency_ranking_needs_a_global_target_on_a_flops_or_params_budget():
    base = {"granularity": "structured", "scope": "global", "rank": "latency"}
    assert options(base)["rank"].value == "latency"
    assert options({**base, "scope": "layerwise"})["rank"].choices == ("importance",)
    assert "already counts LiteRT time" in options({**base, "budget": "latency"})["rank"].reason


def test_rigl_and_tfmot_need_a_fine_tune_epoch_and_rigl_the_one_shot_schedule():
    opts = options({"regrow": "rigl", "schedule": "constant", "fine_tune_epochs": 0})
    assert opts["schedule"].value == "oneshot" and not opts["schedule"].enabled
    assert opts["fine_tune_epochs"].value == 1 and 0 in opts["fine_tune_epochs"].refused
    assert options({"strategy": "tfmot", "fine_tune_epochs": 0})["fine_tune_epochs"].value == 1
    assert options({"fine_tune_epochs": 0})["fine_tune_epochs"].value == 0


def test_settings_the_recipe_ignores_are_marked_unused():
    opts = options({"schedule": "oneshot", "regrow": "none"})
    assert not opts["power"].used and not opts["begin_step"].used and not opts["regrow_every"].used
    assert options({"schedule": "constant"})["begin_step"].used
    assert not options({"schedule": "constant"})["power"].used


def test_reasons_drop_the_command_line_hint():
    assert (
        reason_of(SpecError("tfmot's recipe ranks weights per layer; use --scope layerwise"))
        == "tfmot's recipe ranks weights per layer."
    )
    assert (
        reason_of(
            SpecError(
                "latency ranking applies to structured pruning with a global target "
                "(--granularity structured --scope global --sparsity S)"
            )
        )
        == "Latency ranking applies to structured pruning with a global target."
    )
    assert (
        reason_of(SpecError("a second stage follows a structured (channel) stage"))
        == "A second stage follows a structured (channel) stage."
    )


def test_a_setting_is_read_as_the_numbers_before_it_stand():
    """Distillation needs fine-tuning, and its temperature needs distillation: a number asked
    earlier decides whether a later field is read (the trials still take its easiest value)."""
    on = options({"distill": 0.9, "fine_tune_epochs": 3})
    assert on["distill"].used and on["temperature"].used
    assert not options({"distill": 0.0})["temperature"].used
    none = options({"distill": 0.9, "fine_tune_epochs": 0})
    assert not none["distill"].used and not none["temperature"].used
    assert none["distill"].unused.startswith("Distillation acts while fine-tuning")
