"""Tests for app_pages/home.py: the demo results load, show on every page, leave in one click."""

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _figure


def test_the_demo_results_load_marked_and_leave_in_one_click(home):
    from prune_core.results import demo

    app = _app("app_pages/home.py")
    next(b for b in app.button if b.label == "Load the demo results").click().run()
    store = JobStore()
    jobs = store.list()
    # 14 runs and a profile per criterion
    assert store.demo_count() == len(jobs) == len(demo.runs()) + 5
    assert all(j.demo and j.sweep == demo.SWEEP and j.status == "completed" for j in jobs)
    # numbers, no files
    assert all(j.run_result.model_path is None for j in jobs if j.kind == "run")
    mine = store.submit(RunSpec.of(model="tiny-cnn", dataset="synthetic"))
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    legend = {t.get("name", "") for t in _figure(app, 0)["data"]}
    assert any(name.endswith(" · demo") for name in legend)
    app.switch_page("app_pages/explore.py").run()
    # the demo profile answers at once: its curves, and every layer a toggle away
    assert not app.exception and len(app.get("plotly_chart")) >= 2
    app.toggle(key="explore_layers_simple").set_value(True).run()
    assert not app.exception and len(app.get("plotly_chart")) >= 4
    app.switch_page("app_pages/run_detail.py").run()
    assert any("bundled demo result" in i.value for i in app.info)
    # no model file to export
    assert not any(b.label == "Export for deployment" for b in app.button)
    app.switch_page("app_pages/home.py").run()
    next(b for b in app.button if b.label == "Remove the demo results").click().run()
    assert [j.id for j in store.list()] == [mine] and store.demo_count() == 0
