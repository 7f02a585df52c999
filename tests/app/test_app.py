"""Tests for app.py: every page renders, the sign-in gate, no TensorFlow, every option explained."""

import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.app.helpers import _app, _sign_in, _store_profile
from tests.conftest import ROOT

PAGES = [
    "app_pages/home.py",
    "app_pages/learn.py",
    "app_pages/explore.py",
    "app_pages/experiment.py",
    "app_pages/runs.py",
    "app_pages/compare.py",
    "app_pages/run_detail.py",
]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(home, page):
    app = _app(page)
    text = " ".join(m.value for m in app.markdown) + " ".join(i.value for i in app.info)
    if page in ("app_pages/runs.py", "app_pages/compare.py"):
        assert "demo sweep" in text  # an empty state that teaches


def test_streamlit_process_never_imports_tensorflow(home, tiny_profile):
    _store_profile(tiny_profile)
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"app = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run(); "
        "app.switch_page('app_pages/explore.py').run(); "
        "app.selectbox(key='explore_model_choice').set_value('tiny-cnn').run(); "
        "app.selectbox(key='explore_dataset_choice').set_value('synthetic').run(); "
        "app.toggle(key='explore_layers_simple').set_value(True).run(); "
        "assert len(app.get('plotly_chart')) >= 4, 'Explore drew no charts'; "
        "app.slider(key='explore_sparsity').set_value(0.3).run(); "
        "app.switch_page('app_pages/experiment.py').run(); "
        "app.radio(key='mode').set_value('threshold').run(); "
        "app.radio(key='granularity').set_value('structured').run(); "
        + "".join(f"app.switch_page({p!r}).run(); " for p in PAGES)
        + "bad = [m for m in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if m in "
        "sys.modules]; "
        "print(bad, app.exception); sys.exit(1 if bad or app.exception else 0)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


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


def test_a_dashboard_reachable_from_other_machines_without_sign_in_serves_nothing(
    home, monkeypatch
):
    from streamlit import config

    monkeypatch.delenv("PRUNE_SHARED", raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not app.title and any(
            "sign-in is off, so it serves nothing" in e.value for e in app.error
        )
        # the owner's explicit choice: serve without sign-in
        monkeypatch.setenv("PRUNE_SHARED", "0")
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert [t.value for t in app.title] == ["Pruning trade-offs"]
    finally:
        config.set_option("server.address", before)


def test_every_option_and_metric_on_the_pages_says_what_it_means():
    import ast

    widgets = {
        "slider",
        "select_slider",
        "multiselect",
        "radio",
        "checkbox",
        "toggle",
        "number_input",
        "selectbox",
        "metric",
        "text_input",
        "file_uploader",
    }
    missing = []
    for path in sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "ui" / "inputs.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in widgets
                and not any(k.arg == "help" for k in node.keywords)
            ):
                missing.append(
                    f"{path.name}:{node.lineno} {ast.unparse(node.args[0]) if node.args else ''}"
                )
    assert missing == []
