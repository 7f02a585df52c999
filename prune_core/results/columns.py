"""The column registry: every number the dashboard plots, formats or exports, declared once.

Built from the `metric` fields of `RunResult` and `DenseReference` plus the derived columns and each
deployment format's numbers, so a new field is a new column without a second declaration.
"""

from __future__ import annotations

from dataclasses import fields

from prune_core.results.deployment import FORMATS
from prune_core.results.run_result import Column, DenseReference, RunResult


def _columns() -> dict[str, Column]:
    cols = {}
    for f in fields(RunResult):
        if "label" in f.metadata:
            cols[f.name] = Column(
                f.name,
                f.metadata["label"],
                f.metadata["axis"],
                f.metadata["better"],
                f.metadata["kind"],
            )
    cols["params_removed"] = Column(
        "params_removed", "parameters removed (1 − nonzero ÷ dense)", "amount", "higher"
    )
    cols["achieved"] = Column("achieved", "achieved amount (in the target's unit)", None, "higher")
    cols["target"] = Column("target", "target amount", None, "higher")
    for f in fields(DenseReference):
        cols[f"dense_{f.name}"] = Column(
            f"dense_{f.name}", f.metadata["label"], None, f.metadata["better"], f.metadata["kind"]
        )
    for fmt in FORMATS:
        keys = fmt.keys()
        # the Keras files are `file_bytes` / `gzip_bytes` again
        axis = "size" if fmt.litert else None
        cols[keys["bytes"]] = Column(keys["bytes"], f"{fmt.label} bytes", axis, kind=int)
        cols[keys["gzip_bytes"]] = Column(
            keys["gzip_bytes"], f"{fmt.label}, gzip bytes", axis, kind=int
        )
        if fmt.quantized:
            cols[keys["zeros_kept"]] = Column(
                keys["zeros_kept"],
                f"{fmt.label}: share of the Keras model's zero weights still zero",
                None,
                "higher",
            )
        if fmt.litert:
            cols[keys["top1"]] = Column(keys["top1"], f"{fmt.label} top-1", "accuracy", "higher")
            cols[keys["agreement"]] = Column(
                keys["agreement"],
                f"{fmt.label}: share of predictions equal to Keras'",
                None,
                "higher",
            )
            for threads, tag in (("all threads", "ms_b1"), ("1 thread", "ms_1t_b1")):
                # LiteRT's axis is the fastest round (`_lo`): 1-thread invocations are fixed work
                # that
                # interference only slows, so the floor repeats within ~1 % where the p50 moves ~17
                # %
                cols[keys[f"{tag}_lo"]] = Column(
                    keys[f"{tag}_lo"],
                    f"LiteRT {fmt.label}, batch 1, {threads}, fastest round (ms)",
                    "latency",
                )
                cols[keys[f"{tag}_p50"]] = Column(
                    keys[f"{tag}_p50"], f"LiteRT {fmt.label}, batch 1, {threads}, p50 (ms)"
                )
                cols[keys[f"{tag}_p90"]] = Column(
                    keys[f"{tag}_p90"],
                    f"LiteRT {fmt.label}, batch 1, {threads}, p90 of single calls (ms)",
                )
                cols[keys[f"{tag}_hi"]] = Column(
                    keys[f"{tag}_hi"], f"LiteRT {fmt.label}, batch 1, {threads}, slowest round (ms)"
                )
            cols[keys["speedup_1t"]] = Column(
                keys["speedup_1t"],
                f"LiteRT {fmt.label} speedup vs dense float32, 1 thread (timed in alternation)",
                None,
                "higher",
            )
            for end, word in (("lo", "low"), ("hi", "high")):
                cols[keys[f"speedup_1t_{end}"]] = Column(
                    keys[f"speedup_1t_{end}"],
                    f"LiteRT {fmt.label} speedup vs dense float32, {word} end of its band",
                    None,
                    "higher",
                )
    cols["litert_threads"] = Column("litert_threads", "LiteRT threads ('all threads')", kind=int)
    return cols


COLUMNS: dict[str, Column] = _columns()


def band_of(column: str) -> tuple[str, str] | None:
    """The (low, high) columns of a latency's or speedup's band — the fastest and slowest round's
    median: how far its p50 (or, for LiteRT, its fastest round) moves between measurements."""
    if column + "_lo" in COLUMNS and column + "_hi" in COLUMNS:  # a speedup and its band
        return column + "_lo", column + "_hi"
    for suffix in ("_p50", "_lo"):
        if column.endswith(suffix):
            stem = column[: -len(suffix)]
            if stem + "_lo" in COLUMNS and stem + "_hi" in COLUMNS:
                return stem + "_lo", stem + "_hi"
    return None


#: Text columns of a row (the recipe's identity).
IDENTITY = (
    "model",
    "dataset",
    "strategy",
    "granularity",
    "scope",
    "schedule",
    "mode",
    "budget",
    "rank",
    "unit",
    "threshold",
    "pattern",
    "regrow",
)
