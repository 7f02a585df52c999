"""Tests for app_pages/run_detail.py: budget and latency, export, only its own files served."""

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app
from tests.conftest import TINY, tiny_with_file


def test_a_latency_aware_structured_run_shows_its_budget_and_predicted_latency(home, monkeypatch):
    from prune_core.engine import latency_table, pipeline

    spec = RunSpec.of(
        **TINY,
        strategy="taylor",
        sparsity=0.3,
        granularity="structured",
        scope="global",
        rank="latency",
    )
    monkeypatch.setattr(
        latency_table, "_time", lambda model, threads, repeats: 1e-3 + 1e-6 * model.count_params()
    )
    result = pipeline.run(spec, root=home)
    store = JobStore()
    job_id = store.submit(spec)
    store.claim_next()
    store.finish(job_id, "completed", result=result.to_dict())
    detail = _app("app_pages/run_detail.py")
    assert any(
        m.label == "flops removed" and m.value == f"{result.budget_removed:.1%}"
        for m in detail.metric
    )
    assert any(
        "predicted by the per-layer table" in c.value
        and f"{result.litert_ms_predicted:.2f} ms" in c.value
        for c in detail.caption
    )
    compare = _app("app_pages/compare.py")
    assert compare.dataframe[0].value.iloc[0]["rank"] == "latency"


def test_run_detail_offers_export_then_shows_the_deploy_numbers(home, real_result):
    import dataclasses

    store = JobStore()
    saved = home / "runs" / "1" / "model.keras"
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"a saved model")
    run_id = store.add_completed([(dataclasses.replace(real_result, model_path=str(saved)), None)])[
        0
    ]
    app = _app("app_pages/run_detail.py")
    next(b for b in app.button if b.label == "Export for deployment").click().run()
    queued = [j for j in store.list() if j.kind == "export"]
    assert len(queued) == 1 and queued[0].parent == run_id and queued[0].status == "queued"
    store.merge_result(
        run_id,
        {
            "tflite_float_bytes": 4000,
            "tflite_int8_bytes": 1200,
            "tflite_int8_top1": 0.5,
            "litert_ms_b1_p50": 0.1,
            "h5_bytes": 9000,
            "h5_gzip_bytes": 3000,
        },
    )
    app = _app("app_pages/run_detail.py")
    table = app.dataframe[0].value
    assert list(table["format"]) == ["Keras .h5", "TFLite float32", "TFLite int8"]
    assert table.loc[table["format"] == "TFLite int8", "bytes"].iloc[0] == 1200
    assert not [i for i in app.info if "int8 deployment" in i.value], [i.value for i in app.info]

    # a quantization-aware file that beat post-training int8 is the one to take, said so
    store.merge_result(
        run_id,
        {"tflite_int8_qat_bytes": 1300, "tflite_int8_qat_top1": 0.61, "tflite_float_top1": 0.62},
    )
    app = _app("app_pages/run_detail.py")
    advice = [i.value for i in app.info if "int8 deployment" in i.value]
    assert advice == [
        "For an int8 deployment, take **TFLite int8, quantization-aware**: top-1 61.00% against "
        "50.00% after post-training int8 (float32 62.00%)."
    ]
    store.merge_result(run_id, {"tflite_int8_qat_top1": 0.45})
    app = _app("app_pages/run_detail.py")
    assert not [i for i in app.info if "int8 deployment" in i.value], [i.value for i in app.info]
    assert any("take the post-training file" in c.value for c in app.caption)


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


def test_run_detail_follows_its_export_and_offers_it_again_when_it_failed(home, real_result):
    import dataclasses

    from prune_core import paths

    model = paths.runs_dir() / "1" / "model.keras"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"a pruned model")
    store = JobStore()
    (run,) = store.add_completed(
        [(dataclasses.replace(real_result, model_path=str(model), deployment=None), None)]
    )
    export = store.submit_export(run)
    app = _app("app_pages/run_detail.py")
    assert any(f"Export queued (job {export})" in c.value for c in app.caption)
    assert not [b for b in app.button if b.label == "Export for deployment"]
    store.claim_next()
    store.finish(export, "failed", error="the converter broke")
    app = _app("app_pages/run_detail.py")  # no longer pending: the button is back
    assert [b for b in app.button if b.label == "Export for deployment"]


def test_run_detail_warns_in_plain_words_when_a_run_collapsed(home, real_result):
    import dataclasses

    from prune_core.jobs.store import JobStore

    store = JobStore()
    store.add_completed([(real_result, None)])
    assert not [w.value for w in _app("app_pages/run_detail.py").warning]  # healthy: nothing
    collapsed = dataclasses.replace(real_result, top1=0.2, top1_before_finetune=0.2)
    store.add_completed([(collapsed, None)])  # tiny-cnn on synthetic: 3 classes, chance 1/3
    warnings = [w.value for w in _app("app_pages/run_detail.py").warning]
    assert any("This run collapsed to chance (top-1 0.200 with 3 classes)" in w for w in warnings)


def test_the_headline_is_the_best_measured_speed_and_the_picker_names_the_run(home):
    from prune_core.results import demo

    store = JobStore()
    demo.load(store)
    jobs = {j.id: j for j in store.list() if j.kind == "run"}
    exported = max(j.id for j in jobs.values() if j.run_result.deployment is not None)
    detail = _app(None)
    detail.query_params["job"] = str(exported)
    detail.switch_page("app_pages/run_detail.py").run()
    speed = next(m for m in detail.metric if m.label.startswith("speed"))
    # LiteRT after export, not the Keras "within noise" on this CPU
    assert speed.label == "speed · LiteRT" and speed.value == "1.49×"
    assert "speed on LiteRT (float32, 1 thread): 1.49× faster" in speed.help
    picker = detail.selectbox[0]
    title = picker.format_func(picker.value)
    assert "efficientnet-compact on digits" in title and "demo (bundled)" in title
    unexported = min(jobs)
    detail.selectbox[0].set_value(unexported).run()
    speed = next(m for m in detail.metric if m.label.startswith("speed"))
    assert speed.label == "speed · this CPU" and speed.value == "≈ 1×"
    assert "speed on this CPU (Keras, batch 1): as fast as dense" in speed.help
    assert not any("EfficientNet's stem" in c.value for c in detail.caption)


def test_a_private_model_and_its_paths_are_for_its_owner_only(shared, real_result):
    """In shared mode another visitor sees alice's run by its file's name: no server path in the
    picker, the charts or the recipe, and no download of her pruned model."""
    import dataclasses

    from prune_core import paths
    from prune_core.recipe.spec import RunSpec
    from tests.app.helpers import _sign_in

    upload = paths.uploads_dir() / "alice" / "0123abcd" / "model.keras"
    pruned = paths.runs_dir() / "1" / "model.keras"
    pruned.parent.mkdir(parents=True)
    pruned.write_bytes(b"alice's pruned model")
    spec = RunSpec.of(**tiny_with_file(upload))
    result = dataclasses.replace(real_result, spec=spec, model_path=str(pruned))
    store = JobStore()
    store.add_completed([(result, None)], owner="alice")

    def page(name, password, where):
        app = _sign_in(_app(None), name, password)
        app.switch_page(where).run()
        assert not app.exception, app.exception
        return app

    bob = page("bob", "bob-password", "app_pages/run_detail.py")
    title = bob.selectbox[0].format_func(bob.selectbox[0].value)
    assert "file:model.keras on synthetic" in title and str(upload.parent) not in title
    assert not bob.get("download_button") and not bob.code
    compare = page("bob", "bob-password", "app_pages/compare.py")
    assert compare.dataframe[0].value["model"].tolist() == ["file:model.keras"]
    alice = page("alice", "alice-password", "app_pages/run_detail.py")
    assert len(alice.get("download_button")) == 1 and str(upload) in alice.code[0].value
