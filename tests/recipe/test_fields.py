"""Tests for prune_core.recipe.fields: field declarations and the shared value checks."""

from dataclasses import dataclass, fields

import pytest

from prune_core.errors import SpecError
from prune_core.recipe import fields as recipe_fields
from prune_core.recipe.fields import check_choice, check_int, check_prefixed, option
from prune_core.recipe.pruning import PruningSpec


def test_an_option_carries_its_default_help_choices_and_extras():
    @dataclass
    class Group:
        size: int = option(32, "image side", (16, 32), unit="px")
        name: str = option("x", "a name")

    size, name = fields(Group)
    assert Group().size == 32 and Group(16).size == 16
    assert dict(size.metadata) == {"help": "image side", "choices": (16, 32), "unit": "px"}
    assert name.metadata["choices"] is None and name.metadata["help"] == "a name"


def test_every_pruning_field_has_help_for_the_cli():
    assert all(f.metadata.get("help") for f in fields(PruningSpec))


@pytest.mark.parametrize("value", ["tiny-cnn", "file:/models/mine.keras", "file:x"])
def test_a_known_name_or_a_prefixed_path_passes(value):
    check_prefixed(value, ("tiny-cnn", "resnet"), ("file:",), "model")


@pytest.mark.parametrize("value", ["file:", "Tiny-cnn", "folder:/x", "", "tiny-cnn "])
def test_anything_else_is_refused_with_the_choices_in_one_line(value):
    with pytest.raises(SpecError) as info:
        check_prefixed(value, ("tiny-cnn", "resnet"), ("file:",), "model")
    assert str(info.value) == (
        f"unknown model {value!r}; choose one of tiny-cnn, resnet, file:PATH"
    )


def test_a_choice_outside_the_list_names_the_field_and_every_choice():
    check_choice(8, (1, 8, 16), "channel multiple")
    with pytest.raises(SpecError) as info:
        check_choice(3, (1, 8, 16), "channel multiple")
    assert str(info.value) == "unknown channel multiple 3; choose one of 1, 8, 16"
    with pytest.raises(SpecError, match="unknown scope 'Global'"):
        check_choice("Global", ("layerwise", "global"), "scope")


@pytest.mark.parametrize("value", [8, 100, 1024])
def test_integers_within_the_bounds_pass(value):
    check_int("image_size", value, 8, 1024)


@pytest.mark.parametrize(
    "value, words",
    [
        (7, "image size must be an integer in 8…1,024, got 7"),
        (1025, "image size must be an integer in 8…1,024, got 1025"),
        (16.0, "got 16.0"),  # a float is not an integer, even a whole one
        ("16", "got '16'"),
        (True, "got True"),  # nor is a bool
        (None, "got None"),
    ],
)
def test_anything_else_is_refused_with_the_bounds(value, words):
    with pytest.raises(SpecError) as info:
        check_int("image_size", value, 8, 1024)
    assert words in str(info.value)


def test_without_an_upper_bound_only_the_lower_one_is_checked_and_named():
    check_int("epochs", 10**9, 0)
    with pytest.raises(SpecError, match=r"^epochs must be an integer >= 0, got -1$"):
        check_int("epochs", -1, 0)


def test_the_cost_bounds_are_positive_and_generous_enough_for_real_recipes():
    assert recipe_fields.MAX_IMAGE_SIZE >= 224 and recipe_fields.MAX_BATCH_SIZE >= 256
    assert recipe_fields.MAX_EPOCHS >= 100 and recipe_fields.MAX_CALIBRATION >= 256
