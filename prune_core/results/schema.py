"""Reading a stored result: what it must carry, schema 1 migrated, and checked parts.

A result may come from another machine (an imported file), so every list and map is checked before
it becomes part of a `RunResult` (`results.run_result`).
"""

from __future__ import annotations

from prune_core.errors import ResultError
from prune_core.recipe.spec import RunSpec
from prune_core.results.deployment import typed

#: Numbers every run result carries (an import without them is refused); besides these, an
#: unstructured
#: run needs its weight sparsity and a structured one its budget removed.
REQUIRED = (
    "top1",
    "top5",
    "top1_before_finetune",
    "params",
    "nonzero_params",
    "flops",
    "nonzero_flops",
    "theoretical_speedup",
    "file_bytes",
    "gzip_bytes",
    "latency_ms_b1_p50",
    "latency_ms_b32_p50",
    "throughput_ips",
)


def from_schema_1(data: dict, spec: RunSpec) -> dict:
    """Schema 1 → 2: split `achieved_sparsity` by granularity, rename the dense reference."""
    out = dict(data)
    achieved = data.get("achieved_sparsity")
    if spec.pruning.granularity == "structured":
        out["budget_removed"] = achieved
        params, nonzero = data.get("params"), data.get("nonzero_params")
        # Channel removal leaves dense kernels; schema 1 did not record their zeros apart, but when
        # every
        # parameter is nonzero there are none.
        out["weight_sparsity"] = 0.0 if params is not None and params == nonzero else None
        out["layer_channels_removed"] = data.get("layer_sparsity") or {}
        out["layer_sparsity"] = {}
    else:
        out["weight_sparsity"] = achieved
    for key in ("top1", "top5"):
        if f"{key}_dense" in data:
            out[f"dense_{key}"] = data[f"{key}_dense"]
    return out


def number_map(name: str, value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ResultError(f"{name} must map layer names to numbers")
    return {k: typed(f"{name}[{k}]", v, float) for k, v in value.items()}


#: A stage's numbers (combined recipes): its name, then measured values of these kinds.
STAGE_FIELDS = {
    "top1": float,
    "params": int,
    "nonzero_params": int,
    "flops": int,
    "nonzero_flops": int,
}


def stages(value) -> list:
    """Stored stages, checked: each a name and numbers (an imported file is not trusted)."""
    out = []
    for i, stage in enumerate(checked_list("stages", value)):
        if not isinstance(stage, dict) or not isinstance(stage.get("stage"), str):
            raise ResultError(f"stages[{i}] must be an object with a stage name")
        out.append(
            {
                "stage": stage["stage"][:80],
                **{
                    k: typed(f"stages[{i}].{k}", stage.get(k), kind)
                    for k, kind in STAGE_FIELDS.items()
                },
            }
        )
    return out


def checked_list(name: str, value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ResultError(f"{name} must be a list")
    return value
