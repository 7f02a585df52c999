"""Tests for ui/forms.py: a form's fields keep their values while its page is not shown."""

from streamlit.testing.v1 import AppTest

from prune_core.measured import BEST_SCOPE, BEST_STRATEGY
from prune_core.recipe.spec import RunSpec, parse_numbers
from ui.forms import EXPERIMENT_FORM


def _page():
    """A page whose form is drawn only while `show` is true, as a page not visited."""
    import streamlit as st

    from ui.forms import init_form, save_form

    defaults = {"epochs": 8, "tags": ["a"]}
    init_form("f", defaults)
    if st.session_state.get("show", True):
        st.number_input("Epochs", 0, 100, key="epochs")
        st.multiselect("Tags", ["a", "b", "c"], key="tags")
        save_form("f", defaults)


def test_a_form_starts_from_its_defaults():
    app = AppTest.from_function(_page).run()
    assert not app.exception
    assert app.number_input(key="epochs").value == 8 and app.multiselect(key="tags").value == ["a"]
    assert app.session_state["form:f"] == {"epochs": 8, "tags": ["a"]}


def test_a_forms_values_survive_a_visit_to_another_page():
    app = AppTest.from_function(_page).run()
    app.number_input(key="epochs").set_value(42).run()
    app.multiselect(key="tags").set_value(["b", "c"]).run()
    app.session_state["show"] = False  # another page: Streamlit drops the widgets' values
    app.run()
    assert "epochs" not in app.session_state
    app.session_state["show"] = True
    app.run()
    assert not app.exception
    assert app.number_input(key="epochs").value == 42
    assert app.multiselect(key="tags").value == ["b", "c"]


def _mutating_page():
    import streamlit as st

    from ui.forms import EXPERIMENT_FORM, init_form

    init_form("experiment", EXPERIMENT_FORM)
    st.session_state["strategies"].append("magnitude")  # a page changing its list in place


def test_changing_a_fields_list_in_place_leaves_the_defaults_as_they_were():
    app = AppTest.from_function(_mutating_page).run()
    assert not app.exception
    assert app.session_state["strategies"] == [BEST_STRATEGY, "magnitude"]
    assert EXPERIMENT_FORM["strategies"] == [BEST_STRATEGY]


def test_the_experiment_forms_defaults_are_the_best_measured_recipe():
    assert EXPERIMENT_FORM["strategies"] == [BEST_STRATEGY]
    assert EXPERIMENT_FORM["scope"] == BEST_SCOPE
    spec = RunSpec.of(
        model=EXPERIMENT_FORM["model_choice"],
        dataset=EXPERIMENT_FORM["dataset_choice"],
        strategy=BEST_STRATEGY,
        scope=BEST_SCOPE,
        sparsity=parse_numbers(EXPERIMENT_FORM["sparsities"], "sparsities", percent=True)[0],
        fine_tune_epochs=EXPERIMENT_FORM["fine_tune_epochs"],
        seed=EXPERIMENT_FORM["seed"],
    )
    assert spec.pruning.strategy == BEST_STRATEGY  # a valid recipe, queued as it stands
