"""Tests for app_pages/learn.py: each section moves with its controls; bundled results at once."""

import numpy as np

from prune_core.jobs.store import JobStore
from tests.app.helpers import _app, _figure


def test_learn_sections_move_with_their_controls_and_the_seed_example_removes_theta_2(home):
    app = _app("app_pages/learn.py")
    assert [h.value for h in app.header][:5] == [
        "1. Magnitude and a threshold",
        "2. Gradient and Fisher information",
        "3. Single weights or whole channels",
        "4. Schedules: prune gradually",
        "5. Train → prune → fine-tune → evaluate",
    ]
    blanks = lambda fig: sum(v is None for row in fig["data"][0]["z"] for v in row)  # noqa: E731
    before = blanks(_figure(app, 0))
    app.slider(key="learn_threshold").set_value(0.2).run()
    assert blanks(_figure(app, 0)) > before  # a higher threshold blanks more weights
    text = " ".join(m.value for m in app.markdown)
    assert "**Threshold rule** (eigenvalue below 5) removes **θ₂**" in text
    assert "**Fisher saliency** (remove one of two) removes **θ₂**" in text
    assert "**Magnitude** removes **θ₁**" in text
    # now θ₂'s removal costs ½·1·9 = 4.5 > 1.25
    app.number_input(key="learn_w2").set_value(3.0).run()
    text = " ".join(m.value for m in app.markdown)
    assert "**Fisher saliency** (remove one of two) removes **θ₁**" in text
    # the seed's rule ignores the weight
    assert "**Threshold rule** (eigenvalue below 5) removes **θ₂**" in text
    next(b for b in app.button if b.key == "learn-seed-fisher").click().run()
    assert app.number_input(key="learn_w2").value == 1.0
    width = len(_figure(app, 3)["data"][1]["z"][0])
    app.slider(key="learn_share").set_value(0.75).run()
    assert len(_figure(app, 3)["data"][1]["z"][0]) == 4 < width  # 16 output channels → 4 kept
    # 2:4: in every output channel, each group of 4 consecutive inputs keeps exactly 2
    z = np.array(
        [[np.nan if v is None else v for v in row] for row in _figure(app, 4)["data"][0]["z"]]
    )
    assert (np.isnan(z).reshape(4, 4, 16).sum(axis=1) == 2).all()
    app.radio(key="learn_pattern").set_value("block:1x4").run()
    z = np.array(
        [[np.nan if v is None else v for v in row] for row in _figure(app, 4)["data"][0]["z"]]
    )
    # blocks of 4 outputs go together
    assert set(np.isnan(z).reshape(16, 4, 4).sum(axis=2).ravel()) == {0, 4}
    curve = _figure(app, 5)["data"][0]
    app.slider(key="learn_power").set_value(1.0).run()
    assert _figure(app, 5)["data"][0]["y"] != curve["y"]
    # 50 steps, not a multiple of 100; the initial sparsity above the final: clamped, and said
    app.slider(key="learn_steps").set_value((1000, 1050)).run()
    app.slider(key="learn_initial").set_value(0.9).run()
    app.slider(key="learn_final").set_value(0.6).run()
    assert not app.error and len(app.get("plotly_chart")) == 7  # the curve is still drawn
    curve = _figure(app, 5)["data"][0]
    assert max(curve["y"]) == 0.6 and curve["x"][-1] >= 1100
    caption = next(c.value for c in app.caption if "Masks are recomputed" in c.value)
    assert "end step taken as 1100" in caption and "initial sparsity taken as 0.60" in caption
    assert not app.exception


def test_learn_shows_the_bundled_results_before_anything_ran(home):
    app = _app("app_pages/learn.py")
    assert JobStore().list() == []
    captions = " ".join(c.value for c in app.caption)
    assert "bundled demo results" in captions
    pipeline = _figure(app, 6)
    assert {t["name"].split(" · ")[0] for t in pipeline["data"]} >= {
        "magnitude",
        "taylor",
        "fisher",
        "random",
    }


def test_learn_opens_with_one_plain_sentence_and_speaks_in_percent(home):
    app = _app("app_pages/learn.py")
    assert app.markdown[0].value.startswith("##### Pruning removes the weights")
    assert app.slider(key="learn_share").proto.format == "percent"
    assert app.slider(key="learn_final").proto.format == "percent"
    text = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
    assert "seed" not in text.lower().replace("seed field", "")
    # one meaning of one-shot: the schedule that prunes once and then fine-tunes
    assert "one-shot curve" not in text and "without any fine-tuning" not in text
    assert "one-shot** — the schedule that prunes once" in text
