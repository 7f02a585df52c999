"""The result of one run: a typed record every consumer reads (pipeline, store, CLI, frame, pages).

Pure Python (no TensorFlow): the dashboard reads results without loading TF. Stored as one flat
JSON object with a schema version (`"schema": 2`); results written before the version existed
(schema 1) still load: `from_dict` migrates them.

Schema 1 used `achieved_sparsity` for two things — the fraction of zero weights (unstructured) and
the fraction of the budget removed (structured) — and Compare drew both on one axis. Schema 2 keeps
them apart: `weight_sparsity` is always the measured fraction of zeros in the prunable kernels;
`budget_removed` (structured only) is the fraction of the dense model's `budget` (flops, params or
LiteRT ms) that channel removal took away. `params_removed` (1 − nonzero ÷ dense parameters) means
the same for both and is the axis on which they compare.

Every number a result carries is declared once, as a `metric` field here, with its label, the chart
it belongs on and which direction is better; `results.columns` gathers them into the registry the
dashboard reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from prune_core.errors import ResultError, SpecError
from prune_core.recipe.spec import RunSpec
from prune_core.results import schema as stored
from prune_core.results.deployment import Deployment, typed

SCHEMA = 2
# A structured run that removes more than its target by over this much says why (rounding to
# channel multiples can overshoot far: 54 % for a 30 % target at multiples of 8).
OVERSHOOT_SAID = 0.05


# ---- columns: one declaration per number
# ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A number the dashboard can show: label, chart (`axis`), better direction, type."""

    name: str
    label: str
    axis: str | None = None  # "accuracy" | "size" | "latency" | "amount" | None
    better: str = "lower"  # "higher" | "lower"
    kind: type = float


def metric(
    label: str, axis: str | None = None, better: str = "lower", kind: type = float, default=None
):
    """A result field that is also a column."""
    return field(
        default=default, metadata={"label": label, "axis": axis, "better": better, "kind": kind}
    )


@dataclass(frozen=True)
class DenseReference:
    """The dense baseline's numbers, measured once per baseline and copied into each run."""

    top1: float = metric("dense top-1", "accuracy", "higher")
    top5: float = metric("dense top-5", "accuracy", "higher")
    params: int = metric("dense parameters", kind=int)
    flops: int = metric("dense FLOPs", kind=int)
    file_bytes: int = metric("dense file bytes (.h5)", kind=int)
    gzip_bytes: int = metric("dense gzip bytes", kind=int)
    latency_ms_b1_p50: float = metric("dense Keras latency, batch 1, p50 (ms)")
    latency_ms_b1_lo: float | None = metric(
        "dense Keras latency, batch 1, low end of the p50's band (ms)"
    )
    latency_ms_b1_hi: float | None = metric(
        "dense Keras latency, batch 1, high end of the p50's band (ms)"
    )
    latency_ms_b32_p50: float = metric("dense Keras latency, batch 32, p50 (ms)")
    latency_ms_b32_lo: float | None = metric(
        "dense Keras latency, batch 32, low end of the p50's band (ms)"
    )
    latency_ms_b32_hi: float | None = metric(
        "dense Keras latency, batch 32, high end of the p50's band (ms)"
    )
    throughput_ips: float = metric("dense throughput (images/s)", better="higher")
    litert_ms_predicted: float | None = metric("dense LiteRT ms predicted by the per-layer table")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> DenseReference:
        return cls(
            **{
                f.name: typed(f"dense {f.name}", data.get(f.name), f.metadata["kind"])
                for f in fields(cls)
            }
        )


# ---- one pruning event
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PruningEvent:
    """One time masks were recomputed or channels cut: at which fine-tune step, to what target, what
    was reached (in the run's unit), and for structured cuts how many channels went and the plan."""

    step: int
    target: float | None
    achieved: float
    channels_removed: int | None = None
    plan: dict | None = None

    def to_dict(self) -> dict:
        out = {"step": self.step, "target": self.target, "achieved": self.achieved}
        if self.channels_removed is not None:
            out.update(channels_removed=self.channels_removed, plan=self.plan)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> PruningEvent:
        return cls(
            int(data["step"]),
            typed("event target", data.get("target"), float),
            typed("event achieved", data.get("achieved"), float, required=True),
            data.get("channels_removed"),
            data.get("plan"),
        )


# ---- the run result
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunResult:
    """Everything one run measured, with the recipe that produced it."""

    spec: RunSpec
    top1: float = metric("top-1 after fine-tuning", "accuracy", "higher")
    top5: float = metric("top-5 after fine-tuning", "accuracy", "higher")
    top1_before_finetune: float = metric("top-1 before fine-tuning", "accuracy", "higher")
    top5_before_finetune: float = metric("top-5 before fine-tuning", "accuracy", "higher")
    weight_sparsity: float = metric(
        "weight sparsity (fraction of zero weights in pruned kernels)", "amount", "higher"
    )
    budget_removed: float | None = metric(
        "budget removed by channel pruning (fraction of dense)", "amount", "higher"
    )
    params: int = metric("parameters", kind=int)
    nonzero_params: int = metric("nonzero parameters", "size", kind=int)
    flops: int = metric("FLOPs", kind=int)
    nonzero_flops: int = metric("nonzero FLOPs", kind=int)
    theoretical_speedup: float = metric(
        "theoretical speedup (dense / nonzero FLOPs)", "amount", "higher"
    )
    file_bytes: int = metric("file bytes (.h5)", "size", kind=int)
    gzip_bytes: int = metric("gzip bytes (compressed model)", "size", kind=int)
    latency_ms_b1_p50: float = metric("Keras latency, batch 1, p50 (ms)", "latency")
    latency_ms_b1_p90: float = metric("Keras latency, batch 1, p90 of single calls (ms)")
    latency_ms_b1_lo: float | None = metric(
        "Keras latency, batch 1, low end of the p50's band (ms)"
    )
    latency_ms_b1_hi: float | None = metric(
        "Keras latency, batch 1, high end of the p50's band (ms)"
    )
    latency_ms_b32_p50: float = metric("Keras latency, batch 32, p50 (ms)", "latency")
    latency_ms_b32_p90: float = metric("Keras latency, batch 32, p90 of single calls (ms)")
    latency_ms_b32_lo: float | None = metric(
        "Keras latency, batch 32, low end of the p50's band (ms)"
    )
    latency_ms_b32_hi: float | None = metric(
        "Keras latency, batch 32, high end of the p50's band (ms)"
    )
    speedup_b1: float | None = metric(
        "measured speedup vs dense, Keras batch 1 (timed in alternation)", "amount", "higher"
    )
    speedup_b1_lo: float | None = metric("measured speedup vs dense, batch 1, low end of its band")
    speedup_b1_hi: float | None = metric("measured speedup vs dense, batch 1, high end of its band")
    speedup_b32: float | None = metric(
        "measured speedup vs dense, Keras batch 32 (timed in alternation)", "amount", "higher"
    )
    speedup_b32_lo: float | None = metric(
        "measured speedup vs dense, batch 32, low end of its band"
    )
    speedup_b32_hi: float | None = metric(
        "measured speedup vs dense, batch 32, high end of its band"
    )
    throughput_ips: float = metric("throughput, batch 32 (images/s)", better="higher")
    threads: int = metric("Keras threads", kind=int)
    pattern_violations: int | None = metric(
        "N:M groups holding fewer than N zeros after fine-tuning (0: valid)", kind=int
    )
    regrown_weights: int | None = metric("weights RigL regrew during fine-tuning", kind=int)
    litert_ms_predicted: float | None = metric(
        "LiteRT latency predicted by the per-layer table (ms)", "latency"
    )
    finetune_seconds: float = metric("fine-tune seconds")
    finetune_seconds_per_epoch: float = metric("fine-tune seconds per epoch")
    total_seconds: float = metric("run seconds")
    baseline_cached: bool = False
    dense: DenseReference = field(default_factory=DenseReference)
    layer_sparsity: dict = field(default_factory=dict)  # kernel → fraction of zeros
    # structured: layer → fraction of outputs cut
    layer_channels_removed: dict = field(default_factory=dict)
    # per epoch: loss, accuracy, seconds, steps
    history: list = field(default_factory=list)
    # combined recipes: each cut's numbers, in order
    stages: list = field(default_factory=list)
    events: list = field(default_factory=list)  # PruningEvent, in order
    # scores / weights before / after (summaries)
    distributions: dict = field(default_factory=dict)
    deployment: Deployment | None = None
    model_path: str | None = None

    # ---- derived
    # -------------------------------------------------------------------------------------
    @property
    def structured(self) -> bool:
        return self.spec.pruning.granularity == "structured"

    @property
    def unit(self) -> str:
        """What the recipe's target counts: "weights" or the structured budget."""
        return self.spec.pruning.unit

    @property
    def target(self) -> float | None:
        return self.spec.pruning.sparsity

    @property
    def achieved(self) -> float:
        """The measured counterpart of `target`, in the same unit."""
        return (
            self.budget_removed
            if self.structured and self.budget_removed is not None
            else self.weight_sparsity
        )

    @property
    def params_removed(self) -> float | None:
        """1 − nonzero parameters ÷ the dense model's: zeros (unstructured) or cut channels
        (structured)."""
        return 1.0 - self.nonzero_params / self.dense.params if self.dense.params else None

    def amount_text(self) -> str:
        """What was pruned, in words, in percent like every share on the pages ("weight sparsity
        80.0%", "flops removed 40.0%")."""
        if self.structured and self.budget_removed is not None:
            return f"{self.unit} removed {self.budget_removed:.1%}" + self.overshoot_text()
        return f"weight sparsity {self.weight_sparsity:.1%}"

    def overshoot_text(self) -> str:
        """Why a structured run removed clearly more than its target (whole channels come in
        steps; rounded to hardware-friendly multiples, in big ones), or nothing."""
        target, achieved = self.target, self.achieved
        if not self.structured or target is None or achieved - target <= OVERSHOOT_SAID:
            return ""
        multiple = self.spec.pruning.channel_multiple
        why = (
            f"channel counts kept to multiples of {multiple}"
            if multiple > 1
            else "whole channels come in steps"
        )
        return f" (target {target:.1%}: {why})"

    def ratio(self, column: str) -> float | None:
        """This run's value of `column` ÷ the dense baseline's (None when either is missing)."""
        mine, dense = getattr(self, column, None), getattr(self.dense, column, None)
        return mine / dense if mine is not None and dense else None

    def with_deployment(self, deployment: Deployment) -> RunResult:
        return replace(self, deployment=deployment)

    # ---- storage
    # ------------------------------------------------------------------------------------
    def without_paths(self) -> RunResult:
        """This result's numbers without its file paths: brought from elsewhere (an import, the demo
        set), they name files on another machine — or anywhere on this one — which the dashboard
        must never serve."""
        deployment = self.deployment
        if deployment is not None:
            deployment = replace(deployment, export_dir=None)
        return replace(self, model_path=None, deployment=deployment)

    def row(self) -> dict:
        """Every scalar column, flat (a DataFrame row; `COLUMNS` names them)."""
        spec = self.spec
        out = {
            "model": spec.baseline.model,
            "dataset": spec.baseline.dataset,
            "strategy": spec.pruning.strategy,
            "granularity": spec.pruning.granularity,
            "scope": spec.pruning.scope,
            "schedule": spec.schedule.kind,
            "mode": spec.mode,
            "budget": spec.pruning.budget if self.structured else None,
            "rank": spec.pruning.rank,
            "unit": self.unit,
            "target": self.target,
            "threshold": spec.pruning.threshold,
            "achieved": self.achieved,
            "params_removed": self.params_removed,
            "pattern": spec.pruning.pattern,
            "regrow": None if spec.pruning.regrow == "none" else spec.pruning.regrow,
        }
        out.update({name: getattr(self, name) for name in _SCALARS})
        out.update({f"dense_{k}": v for k, v in self.dense.to_dict().items()})
        out.update(self.deployment.to_dict() if self.deployment else {})
        return out

    def to_dict(self) -> dict:
        """The stored form: flat scalars, then per-layer numbers, history, events, the recipe."""
        out = {
            "schema": SCHEMA,
            **self.row(),
            "baseline_cached": self.baseline_cached,
            "layer_sparsity": self.layer_sparsity,
            "layer_channels_removed": self.layer_channels_removed,
            "history": self.history,
            "stages": self.stages,
            "pruning_events": [e.to_dict() for e in self.events],
            "distributions": self.distributions,
            "config": self.spec.to_dict(),
        }
        if self.model_path is not None:
            out["model_path"] = self.model_path
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RunResult:
        """A stored result of this schema or an older one; `ResultError` names what is wrong."""
        if not isinstance(data, dict):
            raise ResultError("a run result must be a JSON object")
        try:
            spec = RunSpec.from_dict(data["config"])
        except KeyError:
            raise ResultError("missing the recipe (config)") from None
        except SpecError as exc:
            raise ResultError(f"its recipe is not valid: {exc}") from None
        version = data.get("schema", 1)
        if version not in (1, SCHEMA):
            raise ResultError(f"schema {version!r} is not one this version reads (1 or {SCHEMA})")
        if version == 1:
            data = stored.from_schema_1(data, spec)
        required = stored.REQUIRED + (
            ("budget_removed",)
            if spec.pruning.granularity == "structured"
            else ("weight_sparsity",)
        )
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in _SCALARS:
                values[f.name] = typed(
                    f.name, data.get(f.name), f.metadata["kind"], required=f.name in required
                )
        dense = DenseReference.from_dict(
            {k[len("dense_") :]: v for k, v in data.items() if k.startswith("dense_")}
        )
        if dense.top1 is None:
            raise ResultError("missing or not a number: dense_top1")
        try:
            parsed_events = [
                PruningEvent.from_dict(e)
                for e in stored.checked_list("pruning_events", data.get("pruning_events"))
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultError(f"a pruning event is not valid ({exc})") from None
        model_path = data.get("model_path")
        return cls(
            spec=spec,
            **values,
            baseline_cached=bool(data.get("baseline_cached", False)),
            dense=dense,
            layer_sparsity=stored.number_map("layer_sparsity", data.get("layer_sparsity")),
            layer_channels_removed=stored.number_map(
                "layer_channels_removed", data.get("layer_channels_removed")
            ),
            history=stored.checked_list("history", data.get("history")),
            events=parsed_events,
            stages=stored.stages(data.get("stages")),
            distributions=data.get("distributions")
            if isinstance(data.get("distributions"), dict)
            else {},
            deployment=Deployment.from_dict(data),
            model_path=model_path if isinstance(model_path, str) else None,
        )


_SCALARS = tuple(f.name for f in fields(RunResult) if "label" in f.metadata)
