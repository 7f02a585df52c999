"""Tests for app_pages/experiment.py: the form queues what it shows and explains what it refuses."""

from pathlib import Path

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _shown


def test_experiment_form_queues_a_job_per_strategy_and_sparsity(home):
    app = _app()
    app.multiselect[0].set_value(["magnitude", "fisher"]).run()
    app.text_input(key="sparsities").set_value("0.5, 0.9").run()
    queue = next(b for b in app.button if b.label.startswith("Queue 4"))
    queue.click().run()
    assert not app.exception
    jobs = JobStore().list()
    assert sorted((j.spec.pruning.strategy, j.spec.pruning.sparsity) for j in jobs) == [
        ("fisher", 0.5),
        ("fisher", 0.9),
        ("magnitude", 0.5),
        ("magnitude", 0.9),
    ]
    assert all(j.status == "queued" for j in jobs)


def test_experiment_form_queues_latency_aware_structured_runs(home):
    app = _app()
    app.radio(key="granularity").set_value("structured").run()
    app.radio(key="scope").set_value("layerwise").run()
    # needs global ranking
    assert next(c for c in app.checkbox if c.label == "Latency-aware ranking").disabled
    app.radio(key="scope").set_value("global").run()
    next(c for c in app.checkbox if c.label == "Latency-aware ranking").check().run()
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert not app.exception
    jobs = JobStore().list()
    assert [
        (j.spec.pruning.granularity, j.spec.pruning.scope, j.spec.pruning.rank) for j in jobs
    ] == [("structured", "global", "latency")] * 2
    # a latency budget already counts LiteRT time: the ranking option is then off
    next(r for r in app.radio if r.label == "Global target counts").set_value("latency").run()
    assert next(c for c in app.checkbox if c.label == "Latency-aware ranking").disabled


def test_experiment_shows_an_impossible_schedule_inline_and_blocks_the_button(home):
    app = _app()
    next(b for b in app.button if b.label.startswith("tfmot's polynomial recipe")).click().run()
    assert not app.error  # polynomial 0.5 → 0.8 over steps 1000–2000, 50 epochs
    app.number_input(key="fine_tune_epochs").set_value(5).run()
    assert any("--fine-tune-epochs to 50" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled


def test_the_experiment_form_remembers_its_fields_across_pages(home):
    app = _app()
    app.multiselect(key="strategies").set_value(["fisher"]).run()
    app.text_input(key="sparsities").set_value("0.3, 0.6").run()
    app.radio(key="schedule").set_value("constant").run()
    app.switch_page("app_pages/runs.py").run()
    app.switch_page("app_pages/experiment.py").run()
    assert not app.exception
    assert app.multiselect(key="strategies").value == ["fisher"]
    assert (
        app.text_input(key="sparsities").value == "0.3, 0.6"
        and app.radio(key="schedule").value == "constant"
    )


def test_queue_twice_queues_once_and_says_what_was_queued(home):
    app = _app()
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert any("Queued 2 job(s)" in s.value for s in app.success)
    next(b for b in app.button if b.label.startswith("Queue 2")).click().run()
    assert len(JobStore().list()) == 2
    assert any("not queued again" in _shown(w) and "taylor s=0.5" in _shown(w) for w in app.warning)


def test_tfmot_beside_global_ranking_queues_what_combines_and_says_why(home):
    app = _app()
    assert app.radio(key="scope").value == "global" and app.multiselect(key="strategies").value == [
        "taylor"
    ]
    app.multiselect(key="strategies").set_value(["taylor", "tfmot"]).run()
    assert not app.error and any(
        "tfmot's recipe ranks each layer on its own" in c.value for c in app.caption
    )
    next(b for b in app.button if b.label.startswith("Queue 4")).click().run()
    scopes = sorted({(j.spec.pruning.strategy, j.spec.pruning.scope) for j in JobStore().list()})
    assert scopes == [("taylor", "global"), ("tfmot", "layerwise")]
    app.radio(key="granularity").set_value("structured").run()
    assert "tfmot" not in app.multiselect(key="strategies").options and not app.exception


def test_a_bad_amount_is_explained_beside_its_field_in_the_pages_words(home):
    app = _app()
    app.text_input(key="sparsities").set_value("0.5, abc").run()
    assert [_shown(e) for e in app.error] == [
        "Target sparsities must be comma-separated numbers, got '0.5, abc'"
    ]
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled


def test_threshold_mode_starts_from_the_threshold_that_removes_half(home, real_result):
    from prune_core.summaries import fraction_below, threshold_removing

    # magnitude on tiny-cnn / synthetic: its baseline's scores
    JobStore().add_completed([(real_result, None)])
    app = _app()
    app.selectbox(key="model_choice").set_value("tiny-cnn").run()
    app.selectbox(key="dataset_choice").set_value("synthetic").run()
    app.multiselect(key="strategies").set_value(["magnitude"]).run()
    app.radio(key="mode").set_value("threshold").run()
    expected = threshold_removing(real_result.distributions["scores"], 0.5)
    assert app.text_input(key="thresholds").value == f"{expected:.3g}"
    assert any(
        "would remove about **50" in m.value or "would remove about **49" in m.value
        for m in app.markdown
    )
    # the log-scale slider over the histogram's bins: moving it sets the threshold and says what it
    # removes
    slider = app.select_slider(key="threshold_pick")
    edges = [e for e in real_result.distributions["scores"]["hist_edges"] if e > 0]
    assert len(slider.options) == len(edges) and slider.options[0].startswith(
        f"{edges[0]:.3g}: removes "
    )
    slider.set_value(edges[-3]).run()
    assert app.text_input(key="thresholds").value == f"{edges[-3]:.3g}"
    removed = fraction_below(real_result.distributions["scores"], float(f"{edges[-3]:.3g}"))
    assert removed > 0.5 and any(
        f"would remove about **{removed:.1%}**" in m.value for m in app.markdown
    )


def test_experiment_offers_the_automatic_allocation_only_where_it_applies(home):
    app = _app()
    assert "auto" in app.radio(key="scope").options
    app.radio(key="scope").set_value("auto").run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert not app.exception, app.exception
    assert {j.spec.pruning.scope for j in JobStore().list()} == {"auto"}
    # whole channels are allocated per group too; a threshold gives no target to allocate
    app.radio(key="granularity").set_value("structured").run()
    assert "auto" in app.radio(key="scope").options and app.radio(key="scope").value == "auto"
    app.radio(key="mode").set_value("threshold").run()
    assert "auto" not in app.radio(key="scope").options


def test_experiment_queues_pattern_and_rigl_runs_and_says_what_hardware_uses_them(home):
    app = _app()
    app.multiselect[0].set_value(["magnitude", "tfmot"]).run()
    app.selectbox(key="pattern").set_value("1:4").run()
    assert (
        app.text_input(key="sparsities").value == "0.25"
        and app.radio(key="scope").value == "layerwise"
    )
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
    assert not any(
        b.label.startswith("Queue") and not b.disabled
        for b in app.button
        if b.label != "Queue a scoring run"
    )
    app.selectbox(key="pattern").set_value("unstructured").run()
    app.checkbox(key="rigl").check().run()
    assert app.radio(key="schedule").value == "oneshot" and app.radio(key="schedule").disabled
    app.number_input(key="regrow_every").set_value(100000).run()  # more steps than fine-tuning has
    assert any("no update would happen" in e.value for e in app.error)
    app.number_input(key="regrow_every").set_value(20).run()
    app.multiselect[0].set_value(["taylor"]).run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    rigl = [j.spec for j in JobStore().list() if j.spec.pruning.regrow == "rigl"]
    assert rigl and all(
        s.pruning.regrow_every == 20 and s.pruning.strategy == "taylor" for s in rigl
    )
    # a combined recipe: channels, then 2:4 of what remains, one-shot
    app.radio(key="granularity").set_value("structured").run()
    app.checkbox(key="combined").check().run()
    app.selectbox(key="pattern").set_value("2:4").run()
    assert (
        app.number_input(key="then_sparsity").value == 0.5
        and app.number_input(key="then_sparsity").disabled
    )
    assert app.radio(key="schedule").value == "oneshot"
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    assert not app.exception, app.exception
    combined = [j.spec for j in JobStore().list() if j.spec.pruning.then_sparsity is not None]
    assert combined and all(
        s.pruning.granularity == "structured" and s.pruning.pattern == "2:4" for s in combined
    )


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
    # said beside the field as soon as the folder is given (every header is read), not on Queue
    assert any("Dogs/4.png is not a readable image" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    assert JobStore().list() == []

    model = tmp_path_factory.mktemp("models") / "ops.keras"
    model.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: no config inside
    app.selectbox(key="dataset_choice").set_value("digits").run()
    app.selectbox(key="model_choice").set_value("my own file").run()
    app.text_input(key="model_path").set_value(str(model)).run()
    # said beside the field as soon as the path is given, and nothing can be queued
    assert any("Ops.keras is not a Keras model file" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    assert JobStore().list() == []


def test_a_submission_over_the_limits_queues_nothing(home, monkeypatch):
    monkeypatch.setenv("PRUNE_MAX_RUNS_PER_SUBMIT", "10")
    app = _app()
    app.multiselect(key="strategies").set_value(["magnitude", "gradient", "taylor"]).run()
    app.text_input(key="sparsities").set_value("0.1, 0.2, 0.3, 0.4").run()
    next(b for b in app.button if b.label.startswith("Queue 12")).click().run()
    assert any(
        "this makes 12 runs; at most 10 can be queued at once" in _shown(e) for e in app.error
    )
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
    assert any(
        "11 jobs are already waiting; at most 13 may wait at once" in _shown(e) for e in app.error
    )
    assert len(store.list()) == 11


def test_paths_outside_the_configured_roots_queue_nothing(home, monkeypatch, tmp_path_factory):
    allowed = tmp_path_factory.mktemp("allowed")
    monkeypatch.setenv("PRUNE_PATH_ROOTS", str(allowed))
    app = _app()
    app.selectbox(key="model_choice").set_value("my own file").run()
    app.text_input(key="model_path").set_value("/etc/passwd.keras").run()
    assert any(
        "Model file '/etc/passwd.keras' is outside the folders this dashboard reads from"
        in _shown(e)
        for e in app.error
    )
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    # a link out of a root is outside too
    (allowed / "link").symlink_to("/etc", target_is_directory=True)
    app.selectbox(key="model_choice").set_value("efficientnet-compact").run()
    app.selectbox(key="dataset_choice").set_value("image folder").run()
    app.text_input(key="dataset_path").set_value(str(allowed / "link")).run()
    assert any("is outside the folders this dashboard reads from" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    assert JobStore().list() == []


def test_what_a_model_file_and_a_folder_hold_is_shown_and_a_mismatch_blocks_the_queue(
    home, tmp_path_factory
):
    from PIL import Image

    from prune_core.engine.keras_env import keras

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    model = tmp_path_factory.mktemp("models") / "mine.keras"
    keras.Model(inputs, keras.layers.Dense(3)(x), name="mine").save(model)
    folder = tmp_path_factory.mktemp("images")
    for c, name in enumerate(("cats", "dogs")):
        (folder / name).mkdir()
        for i in range(12):
            Image.new("RGB", (16, 16), (c * 90, i * 20, 40)).save(folder / name / f"{i}.png")
    app = _app()
    app.selectbox(key="model_choice").set_value("my own file").run()
    app.text_input(key="model_path").set_value(str(model)).run()
    captions = [_shown(c) for c in app.caption]
    assert any("mine · 4 layers · input 16×16×3 · 3 outputs" in c for c in captions)
    assert any("predicts 3 classes but the data has 10" in _shown(e) for e in app.error)
    app.selectbox(key="dataset_choice").set_value("image folder").run()
    app.text_input(key="dataset_path").set_value(str(folder)).run()
    assert any("2 classes · 24 images" in _shown(c) for c in app.caption)
    assert any("predicts 3 classes but the data has 2" in _shown(e) for e in app.error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled
    assert JobStore().list() == []


def test_the_page_says_before_queueing_that_a_baseline_is_trained_first(home):
    from prune_core.recipe import baseline_cache

    app = _app()
    note = next(c.value for c in app.caption if "not trained yet" in c.value)
    assert "efficientnet\\-compact on digits" in note and "2–3 min" in note
    spec = RunSpec.of(strategy="taylor", scope="global", sparsity=0.5)
    cached = baseline_cache.cache_path(spec)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"trained")  # the engine's own cache file for this recipe
    app = _app()
    assert not any("not trained yet" in c.value for c in app.caption)


def test_an_impossible_sparsity_is_said_under_its_own_field(home):
    app = _app()
    app.text_input(key="sparsities").set_value("50%, 1.5").run()
    (error,) = app.error
    assert "Sparsity must be in [0, 1), got 1.5" in _shown(error)
    assert next(b for b in app.button if b.label.startswith("Queue")).disabled


def test_paths_are_kept_across_pages_shared_with_explore_and_offered_again(home, tmp_path):
    from tests.data.helpers import _write_images

    folder = tmp_path / "pets"
    for i in range(2):
        _write_images(folder / f"class{i}", 12, 60 * i)
    app = _app()
    app.selectbox(key="dataset_choice").set_value("image folder").run()
    app.text_input(key="dataset_path").set_value(str(folder)).run()
    app.switch_page("app_pages/runs.py").run()
    app.switch_page("app_pages/experiment.py").run()
    assert app.text_input(key="dataset_path").value == str(folder)  # kept while away
    app.switch_page("app_pages/explore.py").run()
    app.selectbox(key="explore_dataset_choice").set_value("image folder").run()
    assert app.text_input(key="dataset_path").value == str(folder)  # the same path on Explore
    # a relative path is read from where the dashboard started, and says so
    app.text_input(key="dataset_path").set_value("pets").run()
    assert app.text_input(key="dataset_path").value == str(Path.cwd() / "pets")
    assert any(
        "pets was read from the folder the dashboard was started in" in _shown(c)
        for c in app.caption
    )
    # a path an earlier job used is offered again
    JobStore().submit(RunSpec.of(model="tiny-cnn", dataset=f"folder:{folder}"))
    app.switch_page("app_pages/experiment.py").run()
    recent = app.selectbox(key="dataset_path:recent")
    assert recent.options == [str(folder)]
    recent.set_value(str(folder)).run()
    assert app.text_input(key="dataset_path").value == str(folder)


def test_a_high_sparsity_on_a_short_budget_is_told_the_budget_it_needs(home):
    app = _app()
    app.text_input(key="sparsities").set_value("0.98").run()
    assert any("consider 24 epochs" in c.value for c in app.caption)
    app.number_input(key="fine_tune_epochs").set_value(24).run()
    assert not any("consider 24 epochs" in c.value for c in app.caption)
