"""AppTest helpers shared by the page tests: open a page, read it, sign in, store profiles."""

import re

from streamlit.testing.v1 import AppTest

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from tests.conftest import ROOT


def _shown(element) -> str:
    """An element's text as the reader sees it (user text is Markdown-escaped on the page)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def _app(page="app_pages/experiment.py"):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def _store_profile(profile, criteria=("magnitude", "taylor")) -> list:
    """Completed profile jobs in the store, one per criterion, as a profile job would leave them."""
    from prune_core.results.profile import Profile

    store, ids = JobStore(), []
    for name in criteria:
        # under the recipe the page builds from its pickers (the numbers are the tiny model's)
        job_id = store.submit(
            RunSpec.of(model="tiny-cnn", dataset="synthetic", strategy=name), kind="profile"
        )
        store.claim_next()
        single = Profile(
            profile.baseline,
            profile.levels,
            profile.layer_levels,
            profile.dense,
            profile.layers,
            {name: profile.criteria[name]},
        )
        store.finish(job_id, "completed", result=single.to_dict())
        ids.append(job_id)
    return ids


def _sign_in(app, name, password):
    app.text_input[0].set_value(name)
    app.text_input[1].set_value(password)
    app.button[0].click().run()
    return app


def _figure(app, index: int) -> dict:
    import json

    return json.loads(app.get("plotly_chart")[index].proto.spec)


def _values(array) -> list:
    """A figure's data array as numbers: plotly sends numpy arrays as base64 (`bdata`)."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array or [])
