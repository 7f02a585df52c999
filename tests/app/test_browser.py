"""Tests of the dashboard in a real browser: headless Chromium via Playwright (marker `browser`)."""

import re
import time

import pytest

from prune_core.jobs.store import JobStore
from tests.app.browser import (
    browser_page,
    choose,
    ensure_chromium,
    free_port,
    served_app,
    type_into,
    type_number,
)

pytestmark = pytest.mark.browser


def test_submit_a_run_in_the_browser_and_see_it_on_compare(tmp_path):
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    with served_app(tmp_path) as url, browser_page() as page:
        page.goto(url + "/experiment")
        page.get_by_text("Schedule preview").wait_for(timeout=60000)
        choose(page, "Model", "tiny-cnn")
        choose(page, "Dataset", "synthetic")
        type_number(page, "Fine-tune epochs", 1)
        type_into(page, "Target sparsities", "0.6")
        page.get_by_role("button", name="Queue run").click()
        page.get_by_text("Queued 1 job(s): 1.").wait_for(timeout=30000)

        store = JobStore(tmp_path / "jobs.sqlite3")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and store.get(1).status in ("queued", "running"):
            time.sleep(1)
        job = store.get(1)
        assert job.status == "completed", job.error
        assert (
            job.spec.baseline.model == "tiny-cnn"
            and job.spec.training.fine_tune_epochs == 1
            and job.spec.pruning.sparsity == 0.6
        )
        # the best measured recipe by default
        assert (job.spec.pruning.strategy, job.spec.pruning.scope) == ("taylor", "global")

        page.goto(url + "/compare")
        page.get_by_text("Accuracy vs size").wait_for(timeout=60000)
        page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=30000)
        # size and amount charts; speed drawn only where a run leaves the noise, else said
        speed_said = page.get_by_text("No run here is measurably faster or slower").count()
        assert page.locator(".js-plotly-plot").count() >= 3 - speed_said
        # its table row
        page.get_by_text("taylor s=0.6").first.wait_for(state="attached", timeout=30000)
        # a click on its point opens its Run detail
        page.locator(".js-plotly-plot .scatterlayer .point").first.click(force=True)
        page.wait_for_url("**/run_detail?job=1", timeout=30000)
        page.get_by_text("speed · this CPU").wait_for(timeout=30000)


def test_a_deep_link_works_on_a_fresh_server_and_the_form_remembers_across_pages(tmp_path):
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    with served_app(tmp_path) as url, browser_page() as page:
        page.goto(url + "/compare")  # the first request this server sees
        page.get_by_text("Nothing to compare yet").wait_for(timeout=60000)
        nav = page.inner_text('[data-testid="stSidebar"]').splitlines()
        assert {"Home", "Learn", "Explore", "Experiment", "Runs", "Compare", "Run detail"} <= set(
            nav
        ) and "app" not in nav
        page.get_by_role("link", name="Experiment").click()
        type_into(page, "Target sparsities", "0.3, 0.7")
        page.get_by_text("2 run(s) ready").wait_for(timeout=30000)
        page.get_by_role("link", name="Runs").click()
        page.get_by_text("No runs yet").wait_for(timeout=30000)
        page.get_by_role("link", name="Experiment").click()
        page.get_by_text("2 run(s) ready").wait_for(timeout=30000)
        assert page.get_by_role("textbox", name="Target sparsities").input_value() == "0.3, 0.7"


MARKER = """() => {
    const plot = document.querySelectorAll('.js-plotly-plot')[0];
    const trace = plot && plot._fullData
        && plot._fullData.find(d => d.name.startsWith('at the slider'));
    return trace ? [Array.from(trace.x), Array.from(trace.y)] : null;
}"""


def test_moving_the_explore_slider_moves_the_marker(tmp_path, monkeypatch):
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    from prune_core.engine import profiler
    from prune_core.recipe.spec import RunSpec
    from tests.conftest import TINY

    monkeypatch.setenv("PRUNE_HOME", str(tmp_path))
    measured = profiler.run(
        RunSpec.of(**TINY),
        ["magnitude"],
        levels=(0.0, 0.3, 0.6, 0.9),
        layer_levels=(0.5, 0.9),
        structured_levels=(),
    )
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.submit(
        RunSpec.of(model="tiny-cnn", dataset="synthetic", strategy="magnitude"), kind="profile"
    )
    store.claim_next()
    store.finish(job_id, "completed", result=measured.to_dict())
    with served_app(tmp_path, {"PRUNE_AUTOSTART": "0"}) as url, browser_page() as page:
        page.goto(url + "/explore")
        page.get_by_text("What-if curves").wait_for(timeout=60000)
        choose(page, "Model", "tiny-cnn")
        choose(page, "Dataset", "synthetic")
        choose(page, "Criterion", "magnitude")  # the simple view: the one profiled
        page.get_by_text(
            re.compile(r"s=0\.8 \w+ oneshot( \+distill [\d.]+)?, fine-tuned")
        ).wait_for(timeout=30000)
        page.wait_for_function(f"() => ({MARKER})() !== null", timeout=30000)
        before = page.evaluate(MARKER)
        slider = page.get_by_role("slider").first
        slider.focus()
        for _ in range(30):
            slider.press("ArrowLeft")
        page.get_by_text(
            re.compile(r"s=0\.5 \w+ oneshot( \+distill [\d.]+)?, fine-tuned")
        ).wait_for(timeout=30000)
        deadline = time.monotonic() + 20
        after = page.evaluate(MARKER)
        while after == before and time.monotonic() < deadline:
            time.sleep(0.5)
            after = page.evaluate(MARKER)
        # less pruning: a bigger compressed file, at least as accurate
        assert min(after[0]) > max(before[0]) and min(after[1]) >= min(before[1])
        assert [j.id for j in store.list()] == [job_id]  # moving the slider queued nothing


def test_shared_mode_in_the_browser_sign_in_owners_and_upload_limits(tmp_path, tiny_model):
    """An anonymous visitor sees only the sign-in; alice cannot cancel bob's job but can cancel her
    own; an upload over the limit is refused with a message, one within it is checked and queued."""
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    import os

    from prune_core.engine import models
    from prune_core.recipe.spec import RunSpec
    from prune_core.serving import access

    os.environ["PRUNE_HOME"], saved = str(tmp_path), os.environ["PRUNE_HOME"]
    try:
        access.add_user("alice", "alice-password")
        access.add_user("bob", "bob-password")
        store = JobStore(tmp_path / "jobs.sqlite3")
        spec = RunSpec.of(model="tiny-cnn", dataset="synthetic")
        bobs, alices = (
            store.submit(spec, owner="bob"),
            store.submit(spec.with_(sparsity=0.7), owner="alice"),
        )
    finally:
        os.environ["PRUNE_HOME"] = saved
    big = tmp_path / "big.keras"
    big.write_bytes(os.urandom(2 * 1024 * 1024))
    small = models.save(tiny_model, tmp_path / "small.keras")
    env = {"PRUNE_SHARED": "1", "PRUNE_AUTOSTART": "0", "PRUNE_MAX_UPLOAD_MB": "1"}
    with served_app(tmp_path, env) as url, browser_page() as page:
        page.goto(url + "/runs")  # a deep link, anonymously
        page.get_by_role("button", name="Sign in").wait_for(timeout=60000)
        main = page.inner_text("main")
        assert "Runs" not in main and "magnitude" not in main and "bob" not in main
        assert page.get_by_role("link", name="Experiment").count() == 0
        page.get_by_role("textbox", name="Name").fill("alice")
        page.get_by_role("textbox", name="Password").fill("alice-password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as").wait_for(timeout=30000)

        page.get_by_role("link", name="Runs").click()
        page.get_by_text("by bob").wait_for(timeout=30000)
        page.get_by_text("by alice").wait_for(timeout=30000)
        page.get_by_role("button", name="Cancel", exact=True).wait_for(timeout=30000)
        # on alice's card only
        assert page.get_by_role("button", name="Cancel", exact=True).count() == 1
        page.get_by_text("Only its owner or an admin can cancel, retry or delete it.").wait_for(
            timeout=10000
        )
        page.get_by_role("button", name="Cancel", exact=True).click()
        page.get_by_text("canceled before it started").wait_for(timeout=30000)
        assert (store.get(alices).status, store.get(bobs).status) == ("canceled", "queued")

        page.get_by_role("link", name="Experiment").click()
        choose(page, "Model", "my own file")
        uploader = page.locator('[data-testid="stFileUploader"]')
        uploader.wait_for(timeout=30000)
        uploader.locator('input[type="file"]').set_input_files(str(big))
        uploader.get_by_role("alert").filter(has_text="File must be 1.0MB or smaller").wait_for(
            state="attached", timeout=30000
        )
        uploader.get_by_role("button", name="Remove big.keras").click()
        uploader.locator('input[type="file"]').set_input_files(str(small))
        page.get_by_text("small.keras is checked and stored").wait_for(timeout=60000)
        # the tiny model predicts 3 classes: digits (10) is refused beside the field, at once
        page.get_by_text("predicts 3 classes but the data has 10").wait_for(timeout=30000)
        choose(page, "Dataset", "synthetic")
        page.get_by_role("button", name="Queue 2 run(s)").click()  # the default recipe: 50 and 80 %
        page.get_by_text("Queued 2 job(s)").wait_for(timeout=30000)
    queued = [j for j in store.list() if j.id not in (alices, bobs)]
    assert len(queued) == 2 and {j.owner for j in queued} == {"alice"}
    assert all(
        j.spec.baseline.model.startswith("file:" + str(tmp_path / "uploads")) for j in queued
    )


def test_shared_mode_signs_in_through_an_openid_connect_provider(tmp_path):
    """Streamlit's own login against a local OIDC provider: the visitor is known by e-mail,
    PRUNE_ADMINS makes an admin (who may cancel anyone's job), and signing out returns to the
    sign-in."""
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import oidc_provider_mock
    from prune_core.recipe.spec import RunSpec

    bobs = JobStore(tmp_path / "jobs.sqlite3").submit(
        RunSpec.of(model="tiny-cnn", dataset="synthetic"), owner="bob"
    )
    # the teacher's provider account: a verified e-mail (an unverified one would make no admin)
    teacher = oidc_provider_mock.User(
        sub="teacher@example.org",
        claims={"email": "teacher@example.org", "email_verified": True},
    )
    with oidc_provider_mock.run_server_in_thread(user_claims=[teacher]) as provider:
        port = free_port()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a test secret that is long enough 0123456789"
client_id = "pruning-dashboard"
client_secret = "a test client secret"
server_metadata_url = "http://127.0.0.1:{provider.server_port}/.well-known/openid-configuration"
""")
        env = {"PRUNE_SHARED": "1", "PRUNE_AUTOSTART": "0", "PRUNE_ADMINS": "teacher@example.org"}
        with (
            served_app(
                tmp_path, env, port=port, extra_args=("--secrets.files", str(secrets))
            ) as url,
            browser_page() as page,
        ):
            page.goto(url + "/runs")
            page.get_by_role("button", name="Sign in with your account").click(timeout=60000)
            # the provider's own sign-in form
            page.get_by_placeholder("sub").fill("teacher@example.org")
            page.get_by_role("button", name="Authorize").click()
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_text("teacher@example.org").wait_for(timeout=60000)
            assert "(admin)" in sidebar.inner_text()
            page.get_by_role("link", name="Runs").click()
            page.get_by_text("by bob").wait_for(timeout=30000)
            # an admin's right
            page.get_by_role("button", name="Cancel", exact=True).click(timeout=30000)
            page.get_by_text("canceled before it started").wait_for(timeout=30000)
            assert JobStore(tmp_path / "jobs.sqlite3").get(bobs).status == "canceled"
            sidebar.get_by_role("button", name="Sign out").click()
            # the provider's own logout
            page.get_by_role("button", name="End session").click(timeout=30000)
            page.get_by_role("button", name="Sign in with your account").wait_for(timeout=30000)


def test_a_first_visit_loads_the_demo_from_home_and_learn_draws_every_section(tmp_path):
    if ensure_chromium() is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root)")
    with served_app(tmp_path, {"PRUNE_AUTOSTART": "0"}) as url, browser_page() as page:
        page.goto(url)
        page.get_by_role("heading", name="Pruning trade-offs").wait_for(timeout=60000)
        page.get_by_role("button", name="Load the demo results").click(timeout=30000)
        page.get_by_text("bundled demo result(s) are shown").wait_for(timeout=30000)
        page.get_by_role("link", name="Compare", exact=True).first.click()
        page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=60000)
        page.get_by_text("taylor · global · demo").first.wait_for(state="attached", timeout=30000)
        page.get_by_role("link", name="Learn", exact=True).first.click()
        page.get_by_role("heading", name="5. Train → prune → fine-tune → evaluate").wait_for(
            timeout=60000
        )
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 7
        page.get_by_text("removes θ₂").first.wait_for(timeout=10000)  # the seed's Fisher example
