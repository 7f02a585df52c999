"""Tests for app_pages/runs.py: the job list, its order, logs, cancel, retry, delete and owners."""

import re

from streamlit.testing.v1 import AppTest

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _shown, _sign_in, _store_profile
from tests.conftest import ROOT, TINY, tiny_with_file


def test_cancel_on_the_runs_page_changes_the_state(home):
    job_id = JobStore().submit(RunSpec.of(**TINY))
    app = _app("app_pages/runs.py")
    next(b for b in app.button if b.key == f"cancel-{job_id}").click().run()
    assert JobStore().get(job_id).status == "canceled"


def test_runs_lists_running_then_queued_then_finished_with_logs_retry_and_confirmed_delete(
    home, real_result
):
    store = JobStore()
    done = store.add_completed([(real_result, None)])[0]
    failed = store.submit(RunSpec.of(**TINY, sparsity=0.3))
    store.claim_next()
    store.finish(failed, "failed", error="the model file is broken")
    store.folder(failed).mkdir(parents=True)
    (store.folder(failed) / "log.txt").write_text("loading model\nthe model file is broken\n")
    queued = [store.submit(RunSpec.of(**TINY, sparsity=s)) for s in (0.4, 0.5)]
    app = _app("app_pages/runs.py")
    order = [
        int(m.value.split("job ")[1].split("**")[0])
        for m in app.markdown
        if m.value.startswith("**")
    ]
    assert order == queued + [failed, done]  # the queue in run order, then finished, newest first
    assert any("the model file is broken" in c.value for c in app.code)  # the failed job's log
    next(b for b in app.button if b.key == f"retry-{failed}").click().run()
    assert any(f"Retried as job {queued[-1] + 1}." == c.value for c in app.caption)
    next(b for b in app.button if b.key == f"confirm-delete-{failed}").click().run()
    assert store.get(failed) is None and not store.folder(failed).exists()


def test_runs_page_describes_a_profile_job_and_links_to_explore(home, tiny_profile):
    _store_profile(tiny_profile, ("magnitude",))
    app = _app("app_pages/runs.py")
    text = " ".join(m.value for m in app.markdown)
    assert "profile magnitude" in text and "4 levels before fine-tuning × 3 rankings" in text


def test_user_text_cannot_become_markup(home, real_result):
    """A sweep name, a model path and an error message are shown as typed: no link, emphasis or code
    span comes out of them, in Markdown or in chart hover text."""
    from prune_core.results import frame as results

    hostile = "[click](http://evil.example) **loud** `code` <b>bold</b> :red[x]"
    store = JobStore()
    store.add_completed([(real_result, hostile)])
    failed = store.submit(RunSpec.of(**tiny_with_file("/tmp/[a](http://evil.example).keras")))
    store.claim_next()
    store.finish(failed, "failed", error=f"model file '/tmp/{hostile}.keras' does not exist")
    app = _app("app_pages/runs.py")
    text = " ".join(m.value for m in app.markdown)
    assert "](http" not in text and "**loud**" not in text and "`code`" not in text
    assert hostile in " ".join(_shown(m) for m in app.markdown)  # all there, literally
    job = next(j for j in store.list() if j.status == "completed")
    hover = results.hover_text(job.id, hostile, job.run_result)
    assert "<b>bold</b>" not in hover and "&lt;b&gt;bold&lt;/b&gt;" in hover


def test_in_a_shared_dashboard_a_visitor_manages_only_their_own_jobs(shared):
    store = JobStore()
    spec = RunSpec.of(model="tiny-cnn", dataset="synthetic")
    bobs, alices = (
        store.submit(spec, owner="bob"),
        store.submit(spec.with_(sparsity=0.7), owner="alice"),
    )
    app = _sign_in(
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run(), "alice", "alice-password"
    )
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception
    assert {b.key for b in app.button if b.key and b.key.startswith("cancel-")} == {
        f"cancel-{alices}",
        "cancel-queued",
    }
    assert any("Only its owner or an admin" in c.value for c in app.caption)
    assert next(b for b in app.button if b.key == "cancel-queued").label == "Cancel all my 1 queued"
    next(b for b in app.button if b.key == "cancel-queued").click().run()
    assert (store.get(alices).status, store.get(bobs).status) == ("canceled", "queued")
    # what alice queues is hers, and counts against her own cap
    app.switch_page("app_pages/experiment.py").run()
    next(b for b in app.button if b.label.startswith("Queue")).click().run()
    mine = [j for j in store.list() if j.owner == "alice" and j.status == "queued"]
    assert mine and all(j.spec.pruning.strategy == "taylor" for j in mine)


def test_a_bundled_demo_result_offers_no_retry(home):
    from prune_core.results import demo

    store = JobStore()
    demo.load(store)
    bundled = [j for j in store.list() if j.demo]
    app = _app("app_pages/runs.py")
    for toggle in app.toggle:  # unfold the demo's sweeps
        if toggle.key.startswith("sweep-"):
            toggle.set_value(True)
    app.run()
    assert bundled and not [b for b in app.button if b.key.startswith("retry-")]
    assert sum(c.value == "Bundled demo result" for c in app.caption) == len(bundled)


def test_a_card_names_model_dataset_sweep_and_when_it_was_queued(home):
    import time

    store = JobStore()
    job_id = store.submit(RunSpec.of(**TINY), sweep="my sweep")
    app = _app("app_pages/runs.py")
    card = next(m.value for m in app.markdown if f"job {job_id}**" in m.value)
    queued = time.strftime("%d %b %H:%M", time.localtime(store.get(job_id).created_at))
    shown = re.sub(r"\\(.)", r"\1", card)  # as the reader sees it
    assert "tiny-cnn on synthetic" in shown and "my sweep" in shown and queued in shown


def test_a_sweep_is_one_group_with_its_overall_progress(home):
    store = JobStore()
    ids = [store.submit(RunSpec.of(**TINY, sparsity=s), sweep="my sweep") for s in (0.3, 0.5, 0.7)]
    store.claim_next()
    store.finish(ids[0], "completed", result=None)
    store.claim_next()  # the second runs; the third waits
    app = _app("app_pages/runs.py")
    head = next(m.value for m in app.markdown if "sweep" in m.value and "stacks" in m.value)
    assert "3 runs" in head and "tiny\\-cnn on synthetic" in head
    bar = app.get("progress")[0]
    assert "1 of 3 done" in bar.proto.text and "left" in bar.proto.text
    # its runs are inside, shown while it is active; a finished sweep folds them away
    assert app.toggle(key="sweep-my sweep").value is True
    assert sum(f"job {i}**" in m.value for i in ids for m in app.markdown) == 3
    app.toggle(key="sweep-my sweep").set_value(False).run()
    assert sum(f"job {i}**" in m.value for i in ids for m in app.markdown) == 0
