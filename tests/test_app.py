import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["app_pages/home.py", "app_pages/learn.py", "app_pages/explore.py", "app_pages/experiment.py", "app_pages/runs.py", "app_pages/compare.py", "app_pages/run_detail.py"]


@pytest.fixture(scope="module")
def real_result(prune_home):
    """One real completed tiny run, to put behind the pages."""
    from prune_core.engine import pipeline

    return pipeline.run(RunSpec.of(**TINY, strategy="magnitude", sparsity=0.6))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_HOME", str(tmp_path))
    monkeypatch.setenv("PRUNE_AUTOSTART", "0")
    return tmp_path


def _shown(element) -> str:
    """An element's text as the reader sees it (user text is Markdown-escaped on the page)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def _app(page="app_pages/experiment.py"):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(home, page):
    app = _app(page)
    text = " ".join(m.value for m in app.markdown) + " ".join(i.value for i in app.info)
    if page in ("app_pages/runs.py", "app_pages/compare.py"):
        assert "demo sweep" in text  # an empty state that teaches


def test_experiment_form_queues_a_job_per_strategy_and_sparsity(home):
    app = _app()
    app.multiselect[0].set_value(["magnitude", "fisher"]).run()
    app.text_input(key="sparsities").set_value("0.5, 0.9").run()
    queue = next(b for b in app.button if b.label.startswith("Queue 4"))
    queue.click().run()
    assert not app.exception
    jobs = JobStore().list()
    assert sorted((j.spec.pruning.strategy, j.spec.pruning.sparsity) for j in jobs) == [
        ("fisher", 0.5), ("fisher", 0.9), ("magnitude", 0.5), ("magnitude", 0.9)]
    assert all(j.status == "queued" for j in jobs)


def test_experiment_form_queues_latency_aware_structured_runs(home):
    app = _app()
    app.radio(key="granularity").set_value("structured").run()
    app.radio(key="scope").set_value("layerwise").run()
    assert next(c for c in app.checkbox if c.label == "Latency-aware ranking").disabled  # needs global ranking
    app.radio(key="scope").set_value("global").run()
    next(c for c in app.checkbox if c.label == "Latency-aware ranking").check().run()
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert not app.exception
    jobs = JobStore().list()
    assert [(j.spec.pruning.granularity, j.spec.pruning.scope, j.spec.pruning.rank) for j in jobs] == [("structured", "global", "latency")] * 2
    # a latency budget already counts LiteRT time: the ranking option is then off
    next(r for r in app.radio if r.label == "Global target counts").set_value("latency").run()
    assert next(c for c in app.checkbox if c.label == "Latency-aware ranking").disabled


def test_experiment_shows_an_impossible_schedule_inline_and_blocks_the_button(home):
    app = _app()
    next(b for b in app.button if b.label.startswith("The seed's tfmot recipe")).click().run()
    assert not app.error  # polynomial 0.5 → 0.8 over steps 1000–2000, 50 epochs
    app.number_input(key="fine_tune_epochs").set_value(5).run()
    assert any("--fine-tune-epochs to 50" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled


def test_cancel_on_the_runs_page_changes_the_state(home):
    job_id = JobStore().submit(RunSpec.of(**TINY))
    app = _app("app_pages/runs.py")
    next(b for b in app.button if b.key == f"cancel-{job_id}").click().run()
    assert JobStore().get(job_id).status == "canceled"


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


def test_a_latency_aware_structured_run_shows_its_budget_and_predicted_latency(home, monkeypatch):
    from prune_core.engine import latency_table, pipeline

    spec = RunSpec.of(**TINY, strategy="taylor", sparsity=0.3, granularity="structured", scope="global", rank="latency")
    monkeypatch.setattr(latency_table, "_time", lambda model, threads, repeats: 1e-3 + 1e-6 * model.count_params())
    result = pipeline.run(spec, root=home)
    store = JobStore()
    job_id = store.submit(spec)
    store.claim_next()
    store.finish(job_id, "completed", result=result.to_dict())
    detail = _app("app_pages/run_detail.py")
    assert any(m.label == "flops removed" and m.value == f"{result.budget_removed:.3f}" for m in detail.metric)
    assert any("predicted by the per-layer table" in c.value and f"{result.litert_ms_predicted:.2f} ms" in c.value
               for c in detail.caption)
    compare = _app("app_pages/compare.py")
    assert compare.dataframe[0].value.iloc[0]["rank"] == "latency"


def test_streamlit_process_never_imports_tensorflow(home, tiny_profile):
    _store_profile(tiny_profile)
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"app = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run(); "
            "app.switch_page('app_pages/explore.py').run(); "
            "app.selectbox(key='explore_model_choice').set_value('tiny-cnn').run(); "
            "app.selectbox(key='explore_dataset_choice').set_value('synthetic').run(); "
            "assert len(app.get('plotly_chart')) >= 4, 'Explore drew no charts'; "
            "app.slider(key='explore_sparsity').set_value(0.3).run(); "
            "app.switch_page('app_pages/experiment.py').run(); "
            "app.radio(key='mode').set_value('threshold').run(); "
            "app.radio(key='granularity').set_value('structured').run(); "
            + "".join(f"app.switch_page({p!r}).run(); " for p in PAGES) +
            "bad = [m for m in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if m in sys.modules]; "
            "print(bad, app.exception); sys.exit(1 if bad or app.exception else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_run_detail_offers_export_then_shows_the_deploy_numbers(home, real_result):
    import dataclasses

    store = JobStore()
    saved = home / "runs" / "1" / "model.keras"
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"a saved model")
    run_id = store.add_completed([(dataclasses.replace(real_result, model_path=str(saved)), None)])[0]
    app = _app("app_pages/run_detail.py")
    next(b for b in app.button if b.label == "Export for deployment").click().run()
    queued = [j for j in store.list() if j.kind == "export"]
    assert len(queued) == 1 and queued[0].parent == run_id and queued[0].status == "queued"
    store.merge_result(run_id, {"tflite_float_bytes": 4000, "tflite_int8_bytes": 1200, "tflite_int8_top1": 0.5,
                                "litert_ms_b1_p50": 0.1, "h5_bytes": 9000, "h5_gzip_bytes": 3000})
    app = _app("app_pages/run_detail.py")
    table = app.dataframe[0].value
    assert list(table["format"]) == ["Keras .h5", "TFLite float32", "TFLite int8"]
    assert table.loc[table["format"] == "TFLite int8", "bytes"].iloc[0] == 1200


def test_the_experiment_form_remembers_its_fields_across_pages(home):
    app = _app()
    app.multiselect(key="strategies").set_value(["fisher"]).run()
    app.text_input(key="sparsities").set_value("0.3, 0.6").run()
    app.radio(key="schedule").set_value("constant").run()
    app.switch_page("app_pages/runs.py").run()
    app.switch_page("app_pages/experiment.py").run()
    assert not app.exception
    assert app.multiselect(key="strategies").value == ["fisher"]
    assert app.text_input(key="sparsities").value == "0.3, 0.6" and app.radio(key="schedule").value == "constant"


def test_queue_twice_queues_once_and_says_what_was_queued(home):
    app = _app()
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert any("Queued 2 job(s)" in s.value for s in app.success)
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert len(JobStore().list()) == 2
    assert any("not queued again" in _shown(w) and "taylor s=0.5" in _shown(w) for w in app.warning)


def test_tfmot_beside_global_ranking_queues_what_combines_and_says_why(home):
    app = _app()
    assert app.radio(key="scope").value == "global" and app.multiselect(key="strategies").value == ["taylor"]
    app.multiselect(key="strategies").set_value(["taylor", "tfmot"]).run()
    assert not app.error and any("tfmot's recipe ranks each layer on its own" in c.value for c in app.caption)
    next(b for b in app.button if b.label.startswith("Queue 4")).click().run()
    scopes = sorted({(j.spec.pruning.strategy, j.spec.pruning.scope) for j in JobStore().list()})
    assert scopes == [("taylor", "global"), ("tfmot", "layerwise")]
    app.radio(key="granularity").set_value("structured").run()
    assert "tfmot" not in app.multiselect(key="strategies").options and not app.exception


def test_a_bad_amount_is_explained_beside_its_field_in_the_pages_words(home):
    app = _app()
    app.text_input(key="sparsities").set_value("0.5, abc").run()
    assert [_shown(e) for e in app.error] == ["Target sparsities must be comma-separated numbers, got '0.5, abc'"]
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled


def test_runs_lists_running_then_queued_then_finished_with_logs_retry_and_confirmed_delete(home, real_result):
    store = JobStore()
    done = store.add_completed([(real_result, None)])[0]
    failed = store.submit(RunSpec.of(**TINY, sparsity=0.3))
    store.claim_next()
    store.finish(failed, "failed", error="the model file is broken")
    store.folder(failed).mkdir(parents=True)
    (store.folder(failed) / "log.txt").write_text("loading model\nthe model file is broken\n")
    queued = [store.submit(RunSpec.of(**TINY, sparsity=s)) for s in (0.4, 0.5)]
    app = _app("app_pages/runs.py")
    order = [int(m.value.split("job ")[1].split("**")[0]) for m in app.markdown if m.value.startswith("**")]
    assert order == queued + [failed, done]  # the queue in run order, then finished, newest first
    assert any("the model file is broken" in c.value for c in app.code)  # the failed job's log
    next(b for b in app.button if b.key == f"retry-{failed}").click().run()
    assert any(f"Retried as job {queued[-1] + 1}." == c.value for c in app.caption)
    next(b for b in app.button if b.key == f"confirm-delete-{failed}").click().run()
    assert store.get(failed) is None and not store.folder(failed).exists()


def test_a_running_jobs_progress_says_its_phase_and_the_time_left():
    import ui
    from prune_core.jobs.store import Job

    def job(progress):
        return Job(id=1, spec=RunSpec(), label="", sweep=None, status="running", created_at=0.0, started_at=None,
                   finished_at=None, pid=None, cancel_requested=False, progress=progress, error=None, result_json=None)

    fraction, text = ui.progress_text(job({"phase": "fine-tuning", "step": 100, "steps": 400, "epoch": 3,
                                           "epochs": 8, "phase_seconds": 50.0}))
    assert fraction == 0.25 and "fine-tuning" in text and "about 2.5 min left in this phase" in text
    fraction, text = ui.progress_text(job({"phase": "loading baseline", "message": "using the cached baseline"}))
    assert fraction is None and text.startswith("loading baseline · using the cached baseline")


def test_threshold_mode_starts_from_the_threshold_that_removes_half(home, real_result):
    from prune_core.summaries import fraction_below, threshold_removing

    JobStore().add_completed([(real_result, None)])  # magnitude on tiny-cnn / synthetic: its baseline's scores
    app = _app()
    app.selectbox(key="model_choice").set_value("tiny-cnn").run()
    app.selectbox(key="dataset_choice").set_value("synthetic").run()
    app.multiselect(key="strategies").set_value(["magnitude"]).run()
    app.radio(key="mode").set_value("threshold").run()
    expected = threshold_removing(real_result.distributions["scores"], 0.5)
    assert app.text_input(key="thresholds").value == f"{expected:.3g}"
    assert any("would remove about **50" in m.value or "would remove about **49" in m.value for m in app.markdown)
    # the log-scale slider over the histogram's bins: moving it sets the threshold and says what it removes
    slider = app.select_slider(key="threshold_pick")
    edges = [e for e in real_result.distributions["scores"]["hist_edges"] if e > 0]
    assert len(slider.options) == len(edges) and slider.options[0].startswith(f"{edges[0]:.3g}: removes ")
    slider.set_value(edges[-3]).run()
    assert app.text_input(key="thresholds").value == f"{edges[-3]:.3g}"
    removed = fraction_below(real_result.distributions["scores"], float(f"{edges[-3]:.3g}"))
    assert removed > 0.5 and any(f"would remove about **{removed:.1%}**" in m.value for m in app.markdown)


# ---- Explore ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_profile(prune_home):
    """A real profile of the tiny model (two criteria), measured once for these tests."""
    from prune_core.engine import profiler

    return profiler.run(RunSpec.of(**TINY), ["magnitude", "taylor"], levels=(0.0, 0.3, 0.6, 0.9),
                        layer_levels=(0.25, 0.5, 0.9))


def _store_profile(profile, criteria=("magnitude", "taylor")) -> list:
    """Completed profile jobs in the store, one per criterion, as a profile job would leave them."""
    from prune_core.results.profile import Profile

    store, ids = JobStore(), []
    for name in criteria:
        # under the recipe the page builds from its pickers (the numbers are the tiny model's)
        job_id = store.submit(RunSpec.of(model="tiny-cnn", dataset="synthetic", strategy=name), kind="profile")
        store.claim_next()
        single = Profile(profile.baseline, profile.levels, profile.layer_levels, profile.dense, profile.layers,
                         {name: profile.criteria[name]})
        store.finish(job_id, "completed", result=single.to_dict())
        ids.append(job_id)
    return ids


def _explore(tiny=True):
    app = _app("app_pages/explore.py")
    if tiny:
        app.selectbox(key="explore_model_choice").set_value("tiny-cnn").run()
        app.selectbox(key="explore_dataset_choice").set_value("synthetic").run()
    assert not app.exception, app.exception
    return app


def test_explore_offers_to_profile(home):
    app = _explore(tiny=False)
    assert app.title[0].value == "Explore"
    button = next(b for b in app.button if b.label.startswith("Profile "))
    button.click().run()
    jobs = JobStore().list()
    assert sorted(j.spec.pruning.strategy for j in jobs) == ["fisher", "gradient", "magnitude", "taylor"]
    assert {j.kind for j in jobs} == {"profile"} and all(j.label.startswith("profile ") for j in jobs)
    app.run()  # queued: no second offer, progress instead
    assert not any(b.label.startswith("Profile ") for b in app.button)


def test_explore_slider_moves_the_points_without_queueing(home, tiny_profile):
    ids = _store_profile(tiny_profile)
    app = _explore()
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
    app = _explore()
    app.multiselect(key="explore_criteria").set_value(["magnitude", "taylor"]).run()
    app.slider(key="explore_sparsity").set_value(0.6).run()
    app.selectbox(key="explore_ft_scope").set_value("auto").run()
    next(b for b in app.button if b.label == "Queue this run").click().run()
    assert not app.exception, app.exception
    queued = [j for j in JobStore().list() if j.kind == "run"]
    assert len(queued) == 1 and queued[0].spec.pruning.scope == "auto" and queued[0].spec.pruning.sparsity == 0.6


def test_runs_page_describes_a_profile_job_and_links_to_explore(home, tiny_profile):
    _store_profile(tiny_profile, ("magnitude",))
    app = _app("app_pages/runs.py")
    text = " ".join(m.value for m in app.markdown)
    assert "profile magnitude" in text and "4 one-shot levels × 3 rankings" in text


def test_explore_says_why_a_profile_failed(home):
    store = JobStore()
    job_id = store.submit(RunSpec.of(strategy="taylor"), kind="profile")
    store.claim_next()
    store.finish(job_id, "failed", error="the model has no Conv2D or Dense kernel that this recipe may prune")
    app = _explore(tiny=False)
    errors = " ".join(_shown(e) for e in app.error)
    assert "The last profile of taylor did not finish: failed: the model has no Conv2D" in errors
    assert any(b.label.startswith("Profile ") and "taylor" in b.label for b in app.button)  # offered again


def test_experiment_offers_the_automatic_allocation_only_where_it_applies(home):
    app = _app()
    assert "auto" in app.radio(key="scope").options
    app.radio(key="scope").set_value("auto").run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert not app.exception, app.exception
    assert {j.spec.pruning.scope for j in JobStore().list()} == {"auto"}
    app.radio(key="granularity").set_value("structured").run()
    assert "auto" not in app.radio(key="scope").options and app.radio(key="scope").value == "global"


def test_experiment_queues_pattern_and_rigl_runs_and_says_what_hardware_uses_them(home):
    app = _app()
    app.multiselect[0].set_value(["magnitude", "tfmot"]).run()
    app.selectbox(key="pattern").set_value("1:4").run()
    assert app.text_input(key="sparsities").value == "0.25" and app.radio(key="scope").value == "layerwise"
    assert app.radio(key="mode").disabled and app.radio(key="scope").disabled
    captions = " ".join(c.value for c in app.caption)
    assert "sparse tensor cores" in captions and "This CPU, TFLite and LiteRT do not" in captions
    assert "no pattern, no regrowth" in captions  # tfmot's reference run stays unstructured
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert not app.exception, app.exception
    jobs = {j.spec.pruning.strategy: j.spec for j in JobStore().list()}
    assert jobs["magnitude"].pruning.pattern == "1:4" and jobs["magnitude"].pruning.sparsity == 0.25
    assert jobs["tfmot"].pruning.pattern == "unstructured"
    app.selectbox(key="pattern").set_value("other…").run()
    app.text_input(key="pattern_text").set_value("block:3x7").run()  # any block size
    assert not app.error and "Blocks of 3×7 weights" in " ".join(c.value for c in app.caption)
    app.text_input(key="pattern_text").set_value("block:0x7").run()
    assert any("1 ≤ h, w" in e.value.lower() for e in app.error)
    assert not any(b.label.startswith("Queue") and not b.disabled for b in app.button if b.label != "Queue a scoring run")
    app.selectbox(key="pattern").set_value("unstructured").run()
    app.checkbox(key="rigl").check().run()
    assert app.radio(key="schedule").value == "oneshot" and app.radio(key="schedule").disabled
    app.number_input(key="regrow_every").set_value(100000).run()  # more steps than fine-tuning has
    assert any("no update would happen" in e.value for e in app.error)
    app.number_input(key="regrow_every").set_value(20).run()
    app.multiselect[0].set_value(["taylor"]).run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    rigl = [j.spec for j in JobStore().list() if j.spec.pruning.regrow == "rigl"]
    assert rigl and all(s.pruning.regrow_every == 20 and s.pruning.strategy == "taylor" for s in rigl)
    # a combined recipe: channels, then 2:4 of what remains, one-shot
    app.radio(key="granularity").set_value("structured").run()
    app.checkbox(key="combined").check().run()
    app.selectbox(key="pattern").set_value("2:4").run()
    assert app.number_input(key="then_sparsity").value == 0.5 and app.number_input(key="then_sparsity").disabled
    assert app.radio(key="schedule").value == "oneshot"
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert not app.exception, app.exception
    combined = [j.spec for j in JobStore().list() if j.spec.pruning.then_sparsity is not None]
    assert combined and all(s.pruning.granularity == "structured" and s.pruning.pattern == "2:4" for s in combined)


def test_user_text_cannot_become_markup(home, real_result):
    """A sweep name, a model path and an error message are shown as typed: no link, emphasis or code
    span comes out of them, in Markdown or in chart hover text."""
    from prune_core.results import frame as results

    hostile = "[click](http://evil.example) **loud** `code` <b>bold</b> :red[x]"
    store = JobStore()
    store.add_completed([(real_result, hostile)])
    failed = store.submit(RunSpec.of(**{**TINY, "model": "file:/tmp/[a](http://evil.example).keras"}))
    store.claim_next()
    store.finish(failed, "failed", error=f"model file '/tmp/{hostile}.keras' does not exist")
    app = _app("app_pages/runs.py")
    text = " ".join(m.value for m in app.markdown)
    assert "](http" not in text and "**loud**" not in text and "`code`" not in text
    assert hostile in " ".join(_shown(m) for m in app.markdown)  # all there, literally
    job = next(j for j in store.list() if j.status == "completed")
    hover = results.hover_text(job.id, hostile, job.run_result)
    assert "<b>bold</b>" not in hover and "&lt;b&gt;bold&lt;/b&gt;" in hover


def test_run_detail_serves_only_files_in_the_data_directory(home, real_result, tmp_path_factory):
    import dataclasses

    from prune_core import paths

    outside = tmp_path_factory.mktemp("elsewhere") / "secret.keras"
    outside.write_bytes(b"not yours")
    inside = paths.runs_dir() / "7" / "model.keras"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"a pruned model")
    assert paths.servable(str(outside)) is None and paths.servable("/etc/passwd") is None
    assert paths.servable(str(inside.parent / ".." / "7" / "model.keras")) == inside.resolve()
    assert paths.servable(str(paths.runs_dir() / ".." / ".." / outside.name)) is None
    store = JobStore()
    store.add_completed([(dataclasses.replace(real_result, model_path=str(outside)), None)])
    app = _app("app_pages/run_detail.py")
    assert not app.get("download_button"), "a file outside the data directory was offered"
    store.add_completed([(dataclasses.replace(real_result, model_path=str(inside)), None)])
    app = _app("app_pages/run_detail.py")  # the newest run: its model is in the data directory
    assert len(app.get("download_button")) == 1


def test_a_broken_image_folder_or_a_hostile_model_file_queues_nothing(home, tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    for name in ("cats", "dogs"):
        (folder / name).mkdir()
        for i in range(6):
            Image.new("RGB", (12, 12), (i * 20, 40, 90)).save(folder / name / f"{i}.png")
    (folder / "dogs" / "4.png").write_bytes(b"not an image")
    app = _app()
    app.selectbox(key="dataset_choice").set_value("image folder").run()
    app.text_input(key="dataset_path").set_value(str(folder)).run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert any("Nothing was queued: dogs/4.png is not a readable image" in _shown(e) for e in app.error)
    assert JobStore().list() == []

    model = tmp_path_factory.mktemp("models") / "ops.keras"
    model.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: no config inside
    app.selectbox(key="dataset_choice").set_value("digits").run()
    app.selectbox(key="model_choice").set_value("my own file").run()
    app.text_input(key="model_path").set_value(str(model)).run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert any("Nothing was queued: ops.keras is not a Keras model file" in _shown(e) for e in app.error)
    assert JobStore().list() == []


def test_a_submission_over_the_limits_queues_nothing(home, monkeypatch):
    monkeypatch.setenv("PRUNE_MAX_RUNS_PER_SUBMIT", "10")
    app = _app()
    app.multiselect(key="strategies").set_value(["magnitude", "gradient", "taylor"]).run()
    app.text_input(key="sparsities").set_value("0.1, 0.2, 0.3, 0.4").run()
    next(b for b in app.button if b.label.startswith("Queue 12")).click().run()
    assert any("this makes 12 runs; at most 10 can be queued at once" in _shown(e) for e in app.error)
    assert JobStore().list() == []
    monkeypatch.setenv("PRUNE_MAX_QUEUED", "13")
    store = JobStore()
    for sparsity in (0.5, 0.6):
        store.submit(RunSpec.of(sparsity=sparsity))
    app.text_input(key="sparsities").set_value("0.1, 0.2, 0.3").run()
    next(b for b in app.button if b.label.startswith("Queue 9")).click().run()
    assert not app.exception
    assert len(store.list()) == 11  # 2 + 9 ≤ 13
    app.text_input(key="sparsities").set_value("0.7").run()
    next(b for b in app.button if b.label.startswith("Queue 3")).click().run()
    assert any("11 jobs are already waiting; at most 13 may wait at once" in _shown(e) for e in app.error)
    assert len(store.list()) == 11


def test_paths_outside_the_configured_roots_queue_nothing(home, monkeypatch, tmp_path_factory):
    allowed = tmp_path_factory.mktemp("allowed")
    monkeypatch.setenv("PRUNE_PATH_ROOTS", str(allowed))
    app = _app()
    app.selectbox(key="model_choice").set_value("my own file").run()
    app.text_input(key="model_path").set_value("/etc/passwd.keras").run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert any("model file '/etc/passwd.keras' is outside the folders this dashboard reads from" in _shown(e)
               for e in app.error)
    (allowed / "link").symlink_to("/etc", target_is_directory=True)  # a link out of a root is outside too
    app.selectbox(key="model_choice").set_value("efficientnet-compact").run()
    app.selectbox(key="dataset_choice").set_value("image folder").run()
    app.text_input(key="dataset_path").set_value(str(allowed / "link")).run()
    assert any("is outside the folders this dashboard reads from" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    assert JobStore().list() == []


@pytest.fixture
def shared(home, monkeypatch):
    """A shared dashboard with two visitors' accounts."""
    from prune_core.serving import access

    monkeypatch.setenv("PRUNE_SHARED", "1")
    access.add_user("alice", "alice-password")
    access.add_user("bob", "bob-password")
    return home


def _sign_in(app, name, password):
    app.text_input[0].set_value(name)
    app.text_input[1].set_value(password)
    app.button[0].click().run()
    return app


def test_a_shared_dashboard_shows_nothing_but_the_sign_in_until_a_visitor_signs_in(shared):
    JobStore().submit(RunSpec.of(model="tiny-cnn", dataset="synthetic"), owner="bob")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert [t.value for t in app.title] == ["Sign in"]
    assert "Explore" not in " ".join(m.value for m in app.markdown)
    _sign_in(app, "alice", "wrong password")
    assert [t.value for t in app.title] == ["Sign in"]
    assert any("do not match" in e.value for e in app.error)
    _sign_in(app, "alice", "alice-password")
    assert not app.exception
    assert [t.value for t in app.title] == ["Pruning trade-offs"]  # the home page
    assert any("Signed in as" in c.value and "alice" in c.value for c in app.sidebar.caption)


def test_in_a_shared_dashboard_a_visitor_manages_only_their_own_jobs(shared):
    store = JobStore()
    spec = RunSpec.of(model="tiny-cnn", dataset="synthetic")
    bobs, alices = store.submit(spec, owner="bob"), store.submit(spec.with_(sparsity=0.7), owner="alice")
    app = _sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run(), "alice", "alice-password")
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception
    assert {b.key for b in app.button if b.key and b.key.startswith("cancel-")} == {f"cancel-{alices}", "cancel-queued"}
    assert any("Only its owner or an admin" in c.value for c in app.caption)
    assert next(b for b in app.button if b.key == "cancel-queued").label == "Cancel all my 1 queued"
    next(b for b in app.button if b.key == "cancel-queued").click().run()
    assert (store.get(alices).status, store.get(bobs).status) == ("canceled", "queued")
    # what alice queues is hers, and counts against her own cap
    app.switch_page("app_pages/experiment.py").run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    mine = [j for j in store.list() if j.owner == "alice" and j.status == "queued"]
    assert mine and all(j.spec.pruning.strategy == "taylor" for j in mine)


def test_a_dashboard_reachable_from_other_machines_without_sign_in_serves_nothing(home, monkeypatch):
    from streamlit import config

    monkeypatch.delenv("PRUNE_SHARED", raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not app.title and any("sign-in is off, so it serves nothing" in e.value for e in app.error)
        monkeypatch.setenv("PRUNE_SHARED", "0")  # the owner's explicit choice: serve without sign-in
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert [t.value for t in app.title] == ["Pruning trade-offs"]
    finally:
        config.set_option("server.address", before)


def _figure(app, index: int) -> dict:
    import json

    return json.loads(app.get("plotly_chart")[index].proto.spec)


def test_learn_sections_move_with_their_controls_and_the_seed_example_removes_theta_2(home):
    app = _app("app_pages/learn.py")
    assert [h.value for h in app.header][:5] == [
        "1. Magnitude and a threshold", "2. Gradient and Fisher information", "3. Single weights or whole channels",
        "4. Schedules: prune gradually", "5. Train → prune → fine-tune → evaluate"]
    blanks = lambda fig: sum(v is None for row in fig["data"][0]["z"] for v in row)  # noqa: E731
    before = blanks(_figure(app, 0))
    app.slider(key="learn_threshold").set_value(0.2).run()
    assert blanks(_figure(app, 0)) > before  # a higher threshold blanks more weights
    text = " ".join(m.value for m in app.markdown)
    assert "**Seed's rule** (eigenvalue below 5) removes **θ₂**" in text
    assert "**Fisher saliency** (remove one of two) removes **θ₂**" in text
    assert "**Magnitude** removes **θ₁**" in text
    app.number_input(key="learn_w2").set_value(3.0).run()  # now θ₂'s removal costs ½·1·9 = 4.5 > 1.25
    text = " ".join(m.value for m in app.markdown)
    assert "**Fisher saliency** (remove one of two) removes **θ₁**" in text
    assert "**Seed's rule** (eigenvalue below 5) removes **θ₂**" in text  # the seed's rule ignores the weight
    next(b for b in app.button if b.key == "learn-seed-fisher").click().run()
    assert app.number_input(key="learn_w2").value == 1.0
    width = len(_figure(app, 3)["data"][1]["z"][0])
    app.slider(key="learn_share").set_value(0.75).run()
    assert len(_figure(app, 3)["data"][1]["z"][0]) == 4 < width  # 16 output channels → 4 kept
    # 2:4: in every output channel, each group of 4 consecutive inputs keeps exactly 2
    z = np.array([[np.nan if v is None else v for v in row] for row in _figure(app, 4)["data"][0]["z"]])
    assert (np.isnan(z).reshape(4, 4, 16).sum(axis=1) == 2).all()
    app.radio(key="learn_pattern").set_value("block:1x4").run()
    z = np.array([[np.nan if v is None else v for v in row] for row in _figure(app, 4)["data"][0]["z"]])
    assert set(np.isnan(z).reshape(16, 4, 4).sum(axis=2).ravel()) == {0, 4}  # blocks of 4 outputs go together
    curve = _figure(app, 5)["data"][0]
    app.slider(key="learn_power").set_value(1.0).run()
    assert _figure(app, 5)["data"][0]["y"] != curve["y"]
    app.slider(key="learn_steps").set_value((1000, 1050)).run()  # 50 steps: not a multiple of 100
    assert any("not a multiple of frequency" in e.value for e in app.error)
    assert len(app.get("plotly_chart")) == 6  # the schedule curve is replaced by the explanation
    assert not app.exception


def test_learn_shows_the_bundled_results_before_anything_ran(home):
    app = _app("app_pages/learn.py")
    assert JobStore().list() == []
    captions = " ".join(c.value for c in app.caption)
    assert "bundled demo results" in captions
    pipeline = _figure(app, 6)
    assert {t["name"].split(" · ")[0] for t in pipeline["data"]} >= {"magnitude", "taylor", "fisher", "random"}


def test_the_demo_results_load_marked_and_leave_in_one_click(home):
    from prune_core.results import demo

    app = _app("app_pages/home.py")
    next(b for b in app.button if b.label == "Load the demo results").click().run()
    store = JobStore()
    jobs = store.list()
    assert store.demo_count() == len(jobs) == len(demo.runs()) + 5  # 14 runs and a profile per criterion
    assert all(j.demo and j.sweep == demo.SWEEP and j.status == "completed" for j in jobs)
    assert all(j.run_result.model_path is None for j in jobs if j.kind == "run")  # numbers, no files
    mine = store.submit(RunSpec.of(model="tiny-cnn", dataset="synthetic"))
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    legend = {t.get("name", "") for t in _figure(app, 0)["data"]}
    assert any(name.endswith(" · demo") for name in legend)
    app.switch_page("app_pages/explore.py").run()
    assert not app.exception and len(app.get("plotly_chart")) >= 4  # the demo profile answers at once
    app.switch_page("app_pages/run_detail.py").run()
    assert any("bundled demo result" in i.value for i in app.info)
    assert not any(b.label == "Export for deployment" for b in app.button)  # no model file to export
    app.switch_page("app_pages/home.py").run()
    next(b for b in app.button if b.label == "Remove the demo results").click().run()
    assert [j.id for j in store.list()] == [mine] and store.demo_count() == 0


def test_compare_zooms_the_accuracy_axis_to_the_runs(home, real_result):
    import dataclasses

    store = JobStore()
    store.add_completed([(real_result, "a"), (dataclasses.replace(real_result, top1=real_result.top1 - 0.04), "b")])
    app = _app("app_pages/compare.py")
    low, high = _figure(app, 0)["layout"]["yaxis"]["range"]
    values = [real_result.top1, real_result.top1 - 0.04, real_result.dense.top1]
    assert low <= min(values) and high >= max(values)
    assert high - low < 0.5  # zoomed to the runs, not 0–1
    app.toggle(key="compare_full_range").set_value(True).run()
    assert _figure(app, 0)["layout"]["yaxis"]["range"] == [0.0, 1.02]
    # a collapsed run does not flatten the others: it is left below the zoomed axis, and the chart says so
    store.add_completed([(dataclasses.replace(real_result, top1=0.1), "c")])
    app = _app("app_pages/compare.py")
    low, high = _figure(app, 0)["layout"]["yaxis"]["range"]
    assert low > 0.1 and high - low < 0.5
    assert any("1 run(s) below this axis (10.0%)" in a["text"] for a in _figure(app, 0)["layout"]["annotations"])


def test_every_option_and_metric_on_the_pages_says_what_it_means():
    import ast

    widgets = {"slider", "select_slider", "multiselect", "radio", "checkbox", "toggle", "number_input", "selectbox",
               "metric", "text_input", "file_uploader"}
    missing = []
    for path in sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "ui" / "inputs.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in widgets \
                    and not any(k.arg == "help" for k in node.keywords):
                missing.append(f"{path.name}:{node.lineno} {ast.unparse(node.args[0]) if node.args else ''}")
    assert missing == []
