"""Tests for app_pages/explore.py: profiling, the what-if slider, fine-tuning a point."""

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _shown, _store_profile


def _explore(tiny=True):
    app = _app("app_pages/explore.py")
    if tiny:
        app.selectbox(key="explore_model_choice").set_value("tiny-cnn").run()
        app.selectbox(key="explore_dataset_choice").set_value("synthetic").run()
    assert not app.exception, app.exception
    return app


def _full(app):
    """The full comparison view (the page opens on the simple one)."""
    app.session_state["explore_view"] = "full"
    return app.run()


def test_explore_offers_to_profile(home):
    app = _explore(tiny=False)
    assert app.title[0].value == "Explore"
    # the simple view: one criterion, the best measured one
    assert app.selectbox(key="explore_criterion").value == "taylor"
    next(b for b in app.button if b.label.startswith("Profile ")).click().run()
    assert [j.spec.pruning.strategy for j in JobStore().list()] == ["taylor"]
    _full(app)
    button = next(b for b in app.button if b.label.startswith("Profile "))
    assert "taylor" not in button.label  # already queued
    button.click().run()
    jobs = JobStore().list()
    assert sorted(j.spec.pruning.strategy for j in jobs) == [
        "fisher",
        "gradient",
        "magnitude",
        "taylor",
    ]
    assert {j.kind for j in jobs} == {"profile"} and all(
        j.label.startswith("profile ") for j in jobs
    )
    app.run()  # queued: no second offer, progress instead
    assert not any(b.label.startswith("Profile ") for b in app.button)


def test_explore_slider_moves_the_points_without_queueing(home, tiny_profile):
    ids = _store_profile(tiny_profile)
    app = _full(_explore())
    app.multiselect(key="explore_criteria").set_value(["magnitude", "taylor"]).run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert set(table["criterion"]) == {"magnitude", "taylor"} and len(table) == 4  # auto and global
    before = table.iloc[:, 2].tolist()
    app.slider(key="explore_sparsity").set_value(0.3).run()
    after = app.dataframe[0].value
    assert after.iloc[:, 2].tolist() != before
    assert [j.id for j in JobStore().list()] == ids[::-1]  # nothing queued by moving the slider
    charts = app.get("plotly_chart")
    assert len(charts) >= 4  # two curve charts, the per-layer allocation, the heatmap


def test_explore_fine_tunes_a_point_as_an_ordinary_run(home, tiny_profile):
    _store_profile(tiny_profile)
    app = _full(_explore())
    app.multiselect(key="explore_criteria").set_value(["magnitude", "taylor"]).run()
    app.slider(key="explore_sparsity").set_value(0.6).run()
    app.selectbox(key="explore_ft_scope").set_value("auto").run()
    next(b for b in app.button if b.label == "Queue this run").click().run()
    assert not app.exception, app.exception
    queued = [j for j in JobStore().list() if j.kind == "run"]
    assert (
        len(queued) == 1
        and queued[0].spec.pruning.scope == "auto"
        and queued[0].spec.pruning.sparsity == 0.6
    )


def test_explore_says_why_a_profile_failed(home):
    store = JobStore()
    job_id = store.submit(RunSpec.of(strategy="taylor"), kind="profile")
    store.claim_next()
    store.finish(
        job_id, "failed", error="the model has no Conv2D or Dense kernel that this recipe may prune"
    )
    app = _explore(tiny=False)
    errors = " ".join(_shown(e) for e in app.error)
    assert "The last profile of taylor did not finish: failed: the model has no Conv2D" in errors
    # offered again
    assert any(b.label.startswith("Profile ") and "taylor" in b.label for b in app.button)


def test_an_empty_explore_page_offers_the_bundled_demo_and_then_draws_it(home):
    app = _app("app_pages/explore.py")
    load = next(b for b in app.button if b.key == "explore-load-demo")
    load.click().run()
    app = _app("app_pages/explore.py")
    assert not [b for b in app.button if b.key == "explore-load-demo"]
    assert app.get("plotly_chart"), "the demo's profiles are drawn"


def test_the_simple_view_draws_one_criterion_with_its_rankings_labelled(home, tiny_profile):
    _store_profile(tiny_profile)
    app = _explore()
    table = app.dataframe[0].value
    assert set(table["criterion"]) == {"taylor"}
    assert set(table["ranking"]) == {"automatic per layer", "global ranking", "uniform (layerwise)"}
    from tests.app.helpers import _figure

    figure = _figure(app, 0)
    marked = next(t for t in figure["data"] if t.get("name", "").startswith("at the slider"))
    # + both channel curves
    assert len(marked["text"]) == 5 and all("%" in t for t in marked["text"])
    assert any(t.startswith("whole channels, global ranking: ") for t in marked["text"])
    assert any(t.startswith("whole channels, automatic per group: ") for t in marked["text"])
    styles = [t["name"] for t in figure["data"] if t.get("legendgroup") == "styles"]
    assert "dotted: global ranking" in styles and "dashed: uniform (layerwise)" in styles
