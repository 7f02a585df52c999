"""Tests for app_pages/compare.py: a completed run's numbers; the accuracy axis zoomed to runs."""

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _figure
from tests.conftest import TINY


def test_a_completed_jobs_numbers_appear_in_compare_and_detail(home, real_result):
    store = JobStore()
    job_id = store.submit(RunSpec.of(**TINY, strategy="magnitude", sparsity=0.6))
    store.claim_next()
    store.finish(job_id, "completed", result=real_result.to_dict())
    app = _app("app_pages/compare.py")
    table = app.dataframe[0].value
    row = table[table["job"] == job_id].iloc[0]
    assert row["top1"] == real_result.top1 and row["gzip_bytes"] == real_result.gzip_bytes
    detail = _app("app_pages/run_detail.py")
    assert any(f"{real_result.top1:.4f}" == m.value for m in detail.metric)
    assert any("python -m prune_core run" in c.value for c in detail.code)


def test_compare_zooms_the_accuracy_axis_to_the_runs(home, real_result):
    import dataclasses

    store = JobStore()
    store.add_completed(
        [(real_result, "a"), (dataclasses.replace(real_result, top1=real_result.top1 - 0.04), "b")]
    )
    app = _app("app_pages/compare.py")
    low, high = _figure(app, 0)["layout"]["yaxis"]["range"]
    values = [real_result.top1, real_result.top1 - 0.04, real_result.dense.top1]
    assert low <= min(values) and high >= max(values)
    assert high - low < 0.5  # zoomed to the runs, not 0–1
    app.toggle(key="compare_full_range").set_value(True).run()
    assert _figure(app, 0)["layout"]["yaxis"]["range"] == [0.0, 1.02]
    # a collapsed run does not flatten the others: it is left below the zoomed axis, and the chart
    # says so
    store.add_completed([(dataclasses.replace(real_result, top1=0.1), "c")])
    app = _app("app_pages/compare.py")
    low, high = _figure(app, 0)["layout"]["yaxis"]["range"]
    assert low > 0.1 and high - low < 0.5
    assert any(
        "1 run(s) below this axis (10.0%)" in a["text"]
        for a in _figure(app, 0)["layout"]["annotations"]
    )


def test_compare_opens_on_your_newest_run_with_the_demo_hidden_and_keeps_its_filters(
    home, real_result
):
    from prune_core.results import demo

    store = JobStore()
    demo.load(store)
    (mine,) = store.add_completed([(real_result, "mine")])
    app = _app("app_pages/compare.py")
    shown = app.dataframe[0].value
    assert shown["job"].tolist() == [mine]  # your model and data; the demo's runs hidden
    assert app.multiselect(key="compare_models").value == [real_result.spec.baseline.model]
    app.toggle(key="compare_hide_demo").set_value(False).run()
    app.multiselect(key="compare_models").set_value(sorted(store_models(store))).run()
    app.multiselect(key="compare_datasets").set_value(sorted(store_datasets(store))).run()
    assert len(app.dataframe[0].value) == 1 + len(demo.runs())
    app.multiselect(key="compare_sweeps").set_value(["mine"]).run()
    assert app.dataframe[0].value["job"].tolist() == [mine]
    # away and back in the same session: the filters are as they were left
    app.switch_page("app_pages/runs.py").run()
    app.switch_page("app_pages/compare.py").run()
    assert app.multiselect(key="compare_sweeps").value == ["mine"]
    assert app.toggle(key="compare_hide_demo").value is False


def store_models(store):
    return {job.spec.baseline.model for job in store.list()}


def store_datasets(store):
    return {job.spec.baseline.dataset for job in store.list()}
