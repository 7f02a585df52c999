import pandas as pd

from prune_core import plots, results
from prune_core.jobs import JobStore
from prune_core.specs import RunSpec


def _df(rows):
    base = {c: None for c in results.COLUMNS}
    return pd.DataFrame([{**base, **r} for r in rows], columns=results.COLUMNS)


def test_pareto_front_keeps_only_undominated_runs():
    df = _df([{"gzip_bytes": 100, "top1": 0.90}, {"gzip_bytes": 200, "top1": 0.95},
              {"gzip_bytes": 150, "top1": 0.89}, {"gzip_bytes": 300, "top1": 0.95}])
    assert results.pareto_mask(df, "gzip_bytes").tolist() == [True, True, False, False]


def test_pareto_front_prefers_more_sparsity():
    df = _df([{"achieved_sparsity": 0.5, "top1": 0.95}, {"achieved_sparsity": 0.9, "top1": 0.95},
              {"achieved_sparsity": 0.8, "top1": 0.97}])
    assert results.pareto_mask(df, "achieved_sparsity").tolist() == [False, True, True]


def test_latency_flat_is_said_only_when_sparsity_moved_and_latency_did_not():
    flat = _df([{"granularity": "unstructured", "achieved_sparsity": s, "latency_ms_b1_p50": 10 + d,
                 "dense_latency_ms_b1_p50": 10.0} for s, d in ((0.1, 0.2), (0.5, -0.3), (0.9, 0.4))])
    assert results.latency_flat(flat)
    moved = flat.assign(latency_ms_b1_p50=[10.0, 7.0, 4.0])
    assert not results.latency_flat(moved)
    narrow = flat.assign(achieved_sparsity=[0.5, 0.55, 0.6])
    assert not results.latency_flat(narrow)


def test_frame_has_a_row_per_completed_run_and_plots_draw_it(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    for strategy, sparsity, top1 in (("magnitude", 0.5, 0.97), ("magnitude", 0.8, 0.95), ("fisher", 0.8, 0.96)):
        spec = RunSpec(strategy=strategy, sparsity=sparsity)
        store.add_completed(spec, {"top1": top1, "top1_before_finetune": 0.5, "achieved_sparsity": sparsity,
                                   "gzip_bytes": int(1000 * (1 - sparsity)), "granularity": "unstructured",
                                   "strategy": strategy, "scope": "layerwise", "schedule": "oneshot",
                                   "top1_dense": 0.98, "dense_gzip_bytes": 1000, "config": spec.to_dict()},
                            sweep="s1")
    store.submit(RunSpec())  # queued: not a result
    df = results.frame(store.list())
    assert len(df) == 3 and set(df["strategy"]) == {"magnitude", "fisher"}
    assert "fisher" in df.loc[df["strategy"] == "fisher", "hover"].iloc[0]
    fig = plots.tradeoff(df, "gzip_bytes", dense=results.dense_reference(df))
    lines = [t for t in fig.data if t.name and "·" in t.name]
    assert sorted(t.name for t in lines) == ["fisher · layerwise", "magnitude · layerwise"]
    assert any(t.name == "Pareto front" for t in fig.data) and any(t.name == "dense baseline" for t in fig.data)
