"""The tables Run detail shows for one run: its exported formats, and a combined recipe's stages.
Pure functions over a `RunResult` (no TensorFlow, no Streamlit)."""

from __future__ import annotations

import pandas as pd

from prune_core.results.deployment import FORMATS
from prune_core.results.frame import speedup_text
from prune_core.results.run_result import RunResult


def deploy_table(result: RunResult) -> pd.DataFrame:
    """One row per exported format: bytes, gzip bytes, measured top-1, LiteRT latency."""
    rows = []
    deployment = result.deployment
    for fmt in FORMATS:
        if deployment is None or deployment.get(fmt.key, "bytes") is None:
            continue
        top1 = deployment.get(fmt.key, "top1") if fmt.litert else result.top1
        rows.append(
            {
                "format": fmt.label,
                "bytes": deployment.get(fmt.key, "bytes"),
                "gzip bytes": deployment.get(fmt.key, "gzip_bytes"),
                "top-1": top1,
                "LiteRT ms, all threads": deployment.get(fmt.key, "ms_b1_lo"),
                "LiteRT ms, 1 thread": deployment.get(fmt.key, "ms_1t_b1_lo"),
                "1 thread vs dense float32": speedup_text(
                    deployment.get(fmt.key, "speedup_1t"),
                    deployment.get(fmt.key, "speedup_1t_lo"),
                    deployment.get(fmt.key, "speedup_1t_hi"),
                ),
            }
        )
    return pd.DataFrame(rows)


def stage_table(result: RunResult) -> pd.DataFrame:
    """A combined recipe's stages, from the dense model to int8 (when exported): top-1, parameters
    and FLOPs left, and bytes where a stage was saved."""
    dense = result.dense
    rows = [
        {
            "stage": "dense",
            "top-1": dense.top1,
            "nonzero parameters": dense.params,
            "nonzero FLOPs": dense.flops,
            "gzip bytes": dense.gzip_bytes,
        }
    ]
    for stage in result.stages:
        rows.append(
            {
                "stage": stage["stage"],
                "top-1": stage["top1"],
                "nonzero parameters": stage["nonzero_params"],
                "nonzero FLOPs": stage["nonzero_flops"],
                "gzip bytes": result.gzip_bytes if stage["stage"] == "fine-tuned" else None,
            }
        )
    if result.deployment is not None and result.deployment.get("int8", "bytes") is not None:
        rows.append(
            {
                "stage": "int8 (TFLite)",
                "top-1": result.deployment.get("int8", "top1"),
                "nonzero parameters": None,
                "nonzero FLOPs": None,
                "gzip bytes": result.deployment.get("int8", "gzip_bytes"),
            }
        )
    table = pd.DataFrame(rows)
    table["× smaller than dense (gzip)"] = (
        dense.gzip_bytes / table["gzip bytes"] if dense.gzip_bytes else None
    )
    return table
