"""Tests for app_pages/compare.py: a completed run's numbers; the accuracy axis zoomed to runs;
charts shared by sessions until the store changes."""

import dataclasses

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _figure, _values
from tests.conftest import TINY
from ui import session


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
    assert any(f"{real_result.top1:.2%}" == m.value for m in detail.metric)
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


def test_speed_is_a_speedup_against_dense_and_noise_is_said_not_drawn(home):
    from prune_core.results import demo

    demo.load(JobStore())
    app = _app("app_pages/compare.py")
    speed = next(s for s in app.selectbox if s.label == "Speed axis")
    # opens on LiteRT, where the demo's two exported structured runs really are faster
    assert speed.value == "litert_1t_speedup"
    assert any("2 of 14 runs have a LiteRT float32 speedup" in c.value for c in app.caption)
    figure = _figure(app, 1)
    assert figure["layout"]["xaxis"]["title"]["text"].startswith("× faster than dense: LiteRT")
    points = [p for t in figure["data"] if t.get("customdata") for p in _values(t["x"])]
    assert sorted(round(p, 2) for p in points) == [1.24, 1.49]  # the two exported runs
    star = next(t for t in figure["data"] if t.get("name") == "dense baseline")
    assert star["x"] == [1.0]
    # Keras on this CPU: every run is as fast as dense within its band — said, not drawn
    charts = len(app.get("plotly_chart"))
    speed.set_value("speedup_b1").run()
    assert len(app.get("plotly_chart")) == charts - 1
    said = " ".join(i.value for i in app.info)
    assert (
        "No run here is measurably faster or slower than the dense model on Keras batch 1" in said
    )
    assert "LiteRT float32" in said  # where the structured runs do leave the noise


def test_each_model_and_dataset_gets_its_own_panel_baseline_and_front(home, real_result):
    from prune_core.results import demo

    store = JobStore()
    demo.load(store)
    store.add_completed([(real_result, "mine")])
    app = _app("app_pages/compare.py")
    assert not app.subheader or all("·" not in s.value for s in app.subheader[:-1])  # one panel
    app.toggle(key="compare_hide_demo").set_value(False).run()
    app.multiselect(key="compare_models").set_value(sorted(store_models(store))).run()
    app.multiselect(key="compare_datasets").set_value(sorted(store_datasets(store))).run()
    panels = [s.value for s in app.subheader if " · " in s.value]
    mine = f"{real_result.spec.baseline.model} · {real_result.spec.baseline.dataset}"
    assert panels[0] == mine and len(panels) == 2  # your run's panel first
    stars = [
        t["y"][0]
        for i in range(len(app.get("plotly_chart")))
        for t in _figure(app, i)["data"]
        if t.get("name") == "dense baseline"
        and "gzip" in _figure(app, i)["layout"]["xaxis"]["title"]["text"]
    ]
    assert len(stars) == 2 and real_result.dense.top1 in stars  # each panel its own baseline


def test_a_chart_is_shared_until_the_runs_or_the_axis_change(home, real_result):
    store = JobStore()
    store.add_completed([(real_result, "a")])
    runs = session.completed_frame()
    first = session.tradeoff_chart(runs, "gzip_bytes")
    # a second session asking for the same runs on the same axis gets the same figure
    assert session.tradeoff_chart(session.completed_frame(), "gzip_bytes") is first
    other_axis = session.tradeoff_chart(runs, "weight_sparsity")
    assert other_axis is not first
    assert list(other_axis.data[0].x) == [real_result.weight_sparsity]

    # a run completes: the chart is drawn again, with both points
    store.add_completed([(dataclasses.replace(real_result, top1=real_result.top1 - 0.1), "b")])
    again = session.tradeoff_chart(session.completed_frame(), "gzip_bytes")
    assert again is not first
    assert sorted(y for trace in again.data[:2] for y in trace.y) == sorted(
        [real_result.top1, real_result.top1 - 0.1]
    )
