"""Tests for prune_core.results.frame: the runs' frame, its Pareto front, latency bands and axes."""

import json
from dataclasses import replace

from prune_core.jobs.store import JobStore
from prune_core.recipe.spec import RunSpec
from prune_core.results import frame as results
from prune_core.results import plots
from prune_core.results.run_result import RunResult
from tests.conftest import SCHEMA_1
from tests.results.helpers import _df, _tradeoff


def test_pareto_front_keeps_only_undominated_runs():
    df = _df(
        [
            {"gzip_bytes": 100, "top1": 0.90},
            {"gzip_bytes": 200, "top1": 0.95},
            {"gzip_bytes": 150, "top1": 0.89},
            {"gzip_bytes": 300, "top1": 0.95},
        ]
    )
    assert results.pareto_mask(df, "gzip_bytes").tolist() == [True, True, False, False]


def test_pareto_front_prefers_more_sparsity():
    df = _df(
        [
            {"weight_sparsity": 0.5, "top1": 0.95},
            {"weight_sparsity": 0.9, "top1": 0.95},
            {"weight_sparsity": 0.8, "top1": 0.97},
        ]
    )
    assert results.pareto_mask(df, "weight_sparsity").tolist() == [False, True, True]


def test_unchanged_latency_is_said_only_when_sparsity_moved_and_latency_did_not():
    # runs timed once (no band): ±15 % around the dense latency
    flat = _df(
        [
            {
                "granularity": "unstructured",
                "weight_sparsity": s,
                "latency_ms_b1_p50": 10 + d,
                "dense_latency_ms_b1_p50": 10.0,
            }
            for s, d in ((0.1, 0.2), (0.5, -0.3), (0.9, 0.4))
        ]
    )
    assert results.latency_unchanged(flat)
    moved = flat.assign(latency_ms_b1_p50=[10.0, 7.0, 4.0])
    assert not results.latency_unchanged(moved)
    narrow = flat.assign(weight_sparsity=[0.5, 0.55, 0.6])
    assert not results.latency_unchanged(narrow)


def test_with_speedup_bands_unchanged_means_every_band_holds_one():
    # 40 % apart in p50 (a noisy machine), yet each run's speedup against dense, timed in
    # alternation,
    # is 1.0 within its band: that is noise, not a result
    noisy = _df(
        [
            {
                "granularity": "unstructured",
                "weight_sparsity": s,
                "latency_ms_b1_p50": ms,
                "speedup_b1": 1.0,
                "speedup_b1_lo": 0.93,
                "speedup_b1_hi": 1.06,
            }
            for s, ms in ((0.5, 9.0), (0.8, 15.0), (0.9, 6.5))
        ]
    )
    assert results.latency_unchanged(noisy)
    one_really_faster = noisy.assign(
        speedup_b1_lo=[0.93, 0.95, 1.4], speedup_b1_hi=[1.06, 1.05, 1.6]
    )
    assert not results.latency_unchanged(one_really_faster)


def test_pareto_front_on_latency_ignores_differences_inside_the_band():
    # run 1 is "faster" than run 0 by 1 ms, but both medians move ±2 ms: tied on latency, so run 0
    # (more accurate) dominates; run 2 is faster beyond the noise and stays on the front
    df = _df(
        [
            {
                "latency_ms_b1_p50": 10.0,
                "latency_ms_b1_lo": 8.0,
                "latency_ms_b1_hi": 12.0,
                "top1": 0.97,
            },
            {
                "latency_ms_b1_p50": 9.0,
                "latency_ms_b1_lo": 7.0,
                "latency_ms_b1_hi": 11.0,
                "top1": 0.95,
            },
            {
                "latency_ms_b1_p50": 4.0,
                "latency_ms_b1_lo": 3.5,
                "latency_ms_b1_hi": 4.5,
                "top1": 0.90,
            },
        ]
    )
    assert results.pareto_mask(df, "latency_ms_b1_p50").tolist() == [True, False, True]
    assert results.pareto_mask(df, "latency_ms_b1_p50", with_band=False).tolist() == [
        True,
        True,
        True,
    ]
    fig = _tradeoff(df, "latency_ms_b1_p50")
    bars = next(t for t in fig.data if t.name == "taylor · global").error_x
    assert sorted(bars.array) == sorted(bars.arrayminus) == [0.5, 2.0, 2.0]


def test_the_latency_axis_starts_on_the_most_faithful_measure_every_run_has():
    df = _df(
        [
            {"latency_ms_b1_p50": 9.0, "litert_ms_predicted": 0.07, "litert_1t_ms_b1_lo": 0.06},
            {"latency_ms_b1_p50": 8.0, "litert_ms_predicted": 0.05},
        ]
    )
    choices = results.available(df, results.LATENCY_AXES)
    # not every run was exported
    assert results.default_latency_axis(df, choices) == "litert_ms_predicted"
    assert results.default_latency_axis(df.iloc[:1], choices) == "litert_1t_ms_b1_lo"


def _result(**flat):
    """A schema-2 result dict from one of the stored schema-1 lines, with `flat` recipe changes."""
    raw = json.loads(SCHEMA_1.read_text().splitlines()[1])
    spec = RunSpec.from_dict(raw["config"]).with_(**flat)
    return RunResult.from_dict({**raw, "config": spec.to_dict()})


def test_frame_has_a_row_per_completed_run_and_plots_draw_it(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    entries = []
    for strategy, sparsity, top1 in (
        ("magnitude", 0.5, 0.97),
        ("magnitude", 0.8, 0.95),
        ("fisher", 0.8, 0.96),
    ):
        r = replace(
            _result(strategy=strategy, sparsity=sparsity, threshold=None),
            top1=top1,
            weight_sparsity=sparsity,
            gzip_bytes=int(1000 * (1 - sparsity)),
        )
        entries.append((r, "s1"))
    store.add_completed(entries)
    store.submit(RunSpec())  # queued: not a result
    df = results.frame(store.list())
    assert len(df) == 3 and set(df["strategy"]) == {"magnitude", "fisher"}
    assert "fisher" in df.loc[df["strategy"] == "fisher", "hover"].iloc[0]
    fig = plots.tradeoff(df, "gzip_bytes", dense=results.dense_reference(df))
    lines = [t for t in fig.data if t.name and "·" in t.name]
    assert sorted(t.name for t in lines) == ["fisher · layerwise", "magnitude · layerwise"]
    assert any(t.name == "Pareto front" for t in fig.data) and any(
        t.name == "dense baseline" for t in fig.data
    )


def test_compare_names_the_pattern_and_regrowth_in_legend_and_hover(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    recipes = [
        dict(pattern="2:4"),
        dict(pattern="block:1x4", sparsity=0.8),
        dict(sparsity=0.8, regrow="rigl"),
        dict(sparsity=0.5),
    ]
    entries = []
    for recipe in recipes:
        r = _result(strategy="magnitude", **{"sparsity": 0.5, "threshold": None, **recipe})
        entries.append((replace(r, weight_sparsity=r.spec.pruning.sparsity), "s1"))
    store.add_completed(entries)
    df = results.frame(store.list())
    names = sorted(
        t.name for t in plots.tradeoff(df, "gzip_bytes").data if t.name and "·" in t.name
    )
    assert names == [
        "magnitude · layerwise",
        "magnitude · layerwise · 2:4",
        "magnitude · layerwise · block:1x4",
        "magnitude · layerwise · rigl",
    ]
    hover = dict(zip(df["pattern"], df["hover"]))
    # a compact hover names what differs from the default recipe (the rest is on Run detail)
    assert "pattern 2:4" in hover["2:4"] and "pattern" not in hover["unstructured"]
    assert "regrow rigl" in " ".join(df["hover"]) and "regrow" in results.table(df)
    assert all("click for its Run detail" in h for h in df["hover"])


def test_structured_and_unstructured_runs_share_only_correctly_named_axes(tmp_path):
    """Schema 1 drew "fraction of zero weights" and "fraction of FLOPs removed" on one axis. Now the
    frame keeps them apart, and parameters removed compares both honestly."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.add_completed(
        [
            (RunResult.from_dict(json.loads(line)), "old")
            for line in SCHEMA_1.read_text().splitlines()
        ]
    )
    df = results.frame(store.list())
    structured = df[df["granularity"] == "structured"]
    unstructured = df[df["granularity"] == "unstructured"]
    assert len(structured) == 2 and len(unstructured) == 3
    assert (
        structured["budget_removed"].notna().all() and unstructured["budget_removed"].isna().all()
    )
    assert (structured["weight_sparsity"] == 0).all() and (structured["unit"] == "flops").all()
    assert df["params_removed"].notna().all()
    assert results.available(df, results.AMOUNT_AXES)[0] == "params_removed"
    fig = plots.tradeoff(df, "budget_removed")
    assert fig.layout.xaxis.title.text == "budget removed by channel pruning (fraction of dense)"
    assert all("channels (flops)" in t.name for t in fig.data if t.name and "·" in t.name)
    fig = plots.tradeoff(df, "weight_sparsity")
    assert fig.layout.xaxis.title.text.startswith("weight sparsity")


def test_a_stored_result_that_does_not_read_is_left_out_not_fatal(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    good = store.add_completed([(_result(), None)])[0]
    bad = store.submit(RunSpec())
    store.claim_next()
    store.finish(bad, "completed", result={"top1": "ninety", "config": RunSpec().to_dict()})
    assert results.frame(store.list())["job"].tolist() == [good]


def test_compare_opens_on_the_newest_own_runs_model_and_data_else_on_everything():
    from prune_core.results.demo import SWEEP as DEMO_SWEEP

    df = _df(
        [
            dict(job=1, sweep=DEMO_SWEEP, model="efficientnet-compact", dataset="digits"),
            dict(job=2, sweep="a", model="file:/m.keras", dataset="folder:/x"),
            dict(job=3, sweep="b", model="tiny-cnn", dataset="synthetic"),
            dict(job=4, sweep=DEMO_SWEEP, model="efficientnet-b0", dataset="digits"),
        ]
    )
    assert results.latest_focus(df) == (["tiny-cnn"], ["synthetic"])
    demo_only = df[df["sweep"] == DEMO_SWEEP]
    assert results.latest_focus(demo_only) == (
        ["efficientnet-b0", "efficientnet-compact"],
        ["digits"],
    )


def _speedups(bands):
    """Runs with a Keras speedup band each, one (lo, hi) per run, all less accurate than dense."""
    return _df(
        [
            {
                "job": i + 1,
                "model": "m",
                "dataset": "d",
                "top1": 0.80 - 0.01 * i,
                "dense_top1": 0.85,
                "speedup_b1": (lo + hi) / 2,
                "speedup_b1_lo": lo,
                "speedup_b1_hi": hi,
            }
            for i, (lo, hi) in enumerate(bands)
        ]
    )


def test_a_speedup_leaves_the_noise_only_when_its_whole_band_is_off_one():
    inside = _speedups([(0.9, 1.2), (0.7, 1.3)])
    assert not results.leaves_noise(inside, "speedup_b1")
    assert results.leaves_noise(_speedups([(0.9, 1.2), (1.4, 1.6)]), "speedup_b1")
    assert results.leaves_noise(_speedups([(0.6, 0.8)]), "speedup_b1")  # slower counts too
    assert results.band(inside, "speedup_b1") == ("speedup_b1_lo", "speedup_b1_hi")


def test_the_dense_model_competes_on_the_front_so_noise_is_never_ringed():
    runs = _speedups([(0.9, 1.2), (1.4, 1.6)])
    dense = results.dense_reference(runs)
    assert dense["speedup_b1"] == 1.0 and dense["top1"] == 0.85
    # without dense, the 1.05× run (noise) would be on the front: it is the more accurate one
    assert results.pareto_mask(runs, "speedup_b1").tolist() == [True, True]
    # against dense (1.0×, more accurate), only the run really faster than dense stays
    reference = (dense["speedup_b1"], dense["top1"])
    assert results.pareto_mask(runs, "speedup_b1", reference=reference).tolist() == [False, True]
    rings = [
        t
        for t in plots.tradeoff(
            runs.assign(
                hover="",
                strategy="magnitude",
                scope="global",
                schedule="oneshot",
                sweep="s",
                granularity="unstructured",
                rank="importance",
                achieved=0.5,
            ),
            "speedup_b1",
            dense=dense,
        ).data
        if t.name == "Pareto front"
    ]
    assert list(rings[0].x) == [1.5]


def test_the_default_speed_axis_is_the_most_faithful_speedup_that_leaves_the_noise():
    runs = _speedups([(0.9, 1.2), (1.4, 1.6)]).assign(
        litert_1t_speedup=[1.3, None],
        litert_1t_speedup_lo=[1.2, None],
        litert_1t_speedup_hi=[1.4, None],
    )
    choices = results.available(runs, results.SPEEDUP_AXES)
    assert choices == ["litert_1t_speedup", "speedup_b1"]
    # LiteRT first where a run leaves the noise on it, though only one run has it
    assert results.default_speedup_axis(runs, choices) == "litert_1t_speedup"
    noise = runs.assign(litert_1t_speedup_lo=[0.9, None])
    assert results.default_speedup_axis(noise, choices) == "speedup_b1"
    all_noise = noise.assign(speedup_b1_lo=0.8)
    assert results.default_speedup_axis(all_noise, choices) == "speedup_b1"  # every run has it


def test_one_panel_per_model_and_dataset_the_newest_first():
    runs = _speedups([(0.9, 1.2), (1.4, 1.6), (1.0, 1.1)]).assign(
        model=["a", "b", "a"], dataset=["x", "x", "y"]
    )
    panels = results.panels(runs)
    assert [(m, d, g["job"].tolist()) for m, d, g in panels] == [
        ("a", "y", [3]),
        ("b", "x", [2]),
        ("a", "x", [1]),
    ]
