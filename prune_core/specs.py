"""Run recipes: frozen, validated, JSON round-trip. One format for the CLI, the dashboard and jobs.

Pure Python: the dashboard builds and validates recipes without importing TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace

from prune_core.errors import SpecError
from prune_core.schedules import SCHEDULE_KINDS, Schedule

#: Criteria that score weights (see `prune_core.criteria`), plus tfmot's own reference recipe.
CRITERIA = ("magnitude", "gradient", "taylor", "fisher", "random")
STRATEGIES = CRITERIA + ("tfmot",)
GRANULARITIES = ("unstructured", "structured")
SCOPES = ("layerwise", "global")
MODELS = ("efficientnet-compact", "efficientnet-b0", "tiny-cnn")
DATASETS = ("digits", "cifar10", "synthetic")
WEIGHTS = ("none", "imagenet")
#: What a structured global target removes a fraction of ("latency": LiteRT ms predicted from a
#: per-layer table measured once per architecture, see `prune_core.latency_table`).
BUDGETS = ("flops", "params", "latency")
#: How a structured global target ranks channels: importance alone, or importance × budget per
#: LiteRT ms (at equal importance, remove the work that runs slowest on the device first).
RANKINGS = ("importance", "latency")
#: Deployable exports measured after a run ("tflite": float, sparse and int8 TFLite + LiteRT latency).
EXPORTS = ("none", "tflite")


def _check_prefixed(value: str, known: tuple, prefixes: tuple, what: str) -> None:
    if value in known or any(value.startswith(p) and len(value) > len(p) for p in prefixes):
        return
    choices = ", ".join(known + tuple(p + "PATH" for p in prefixes))
    raise SpecError(f"unknown {what} {value!r}; choose one of {choices}")


@dataclass(frozen=True)
class RunSpec:
    """One pruning run: model × dataset × strategy × sparsity (or threshold) × schedule × budget."""

    model: str = "efficientnet-compact"
    dataset: str = "digits"
    strategy: str = "magnitude"
    granularity: str = "unstructured"
    sparsity: float | None = 0.5
    threshold: float | None = None
    scope: str = "layerwise"
    schedule: str = "oneshot"
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int = -1
    frequency: int = 100
    power: float = 3.0
    fine_tune_epochs: int = 8
    learning_rate: float = 1e-3
    batch_size: int = 32
    baseline_epochs: int = 40
    calibration_examples: int = 256
    seed: int = 0
    weights: str = "none"
    image_size: int = 32
    prune_head: bool = False
    prune_depthwise: bool = False
    budget: str = "flops"
    channel_multiple: int = 1
    rank: str = "importance"
    export: str = "none"

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise SpecError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.granularity not in GRANULARITIES:
            raise SpecError(f"unknown granularity {self.granularity!r}; choose one of {', '.join(GRANULARITIES)}")
        if self.granularity == "structured" and self.strategy == "tfmot":
            raise SpecError("tfmot's recipe prunes single weights only; use another strategy for structured pruning")
        if self.export not in EXPORTS:
            raise SpecError(f"unknown export {self.export!r}; choose one of {', '.join(EXPORTS)}")
        if self.budget not in BUDGETS:
            raise SpecError(f"unknown budget {self.budget!r}; choose one of {', '.join(BUDGETS)}")
        if self.rank not in RANKINGS:
            raise SpecError(f"unknown rank {self.rank!r}; choose one of {', '.join(RANKINGS)}")
        if self.rank == "latency":
            if self.granularity != "structured" or self.scope != "global" or self.threshold is not None:
                raise SpecError("latency ranking applies to structured pruning with a global target "
                                "(--granularity structured --scope global --sparsity S)")
            if self.budget == "latency":
                raise SpecError("a latency budget already counts LiteRT time; latency ranking applies to "
                                "a flops or params budget")
        if self.channel_multiple not in (1, 2, 4, 8, 16, 32):
            raise SpecError(f"channel multiple must be 1, 2, 4, 8, 16 or 32, got {self.channel_multiple}")
        if self.scope not in SCOPES:
            raise SpecError(f"unknown scope {self.scope!r}; choose one of {', '.join(SCOPES)}")
        if self.schedule not in SCHEDULE_KINDS:
            raise SpecError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULE_KINDS)}")
        _check_prefixed(self.model, MODELS, ("file:",), "model")
        _check_prefixed(self.dataset, DATASETS, ("folder:",), "dataset")
        _check_prefixed(self.weights, WEIGHTS, ("file:",), "weights")
        if (self.sparsity is None) == (self.threshold is None):
            raise SpecError("give exactly one of a target sparsity or a threshold")
        if self.sparsity is not None and not (0.0 <= self.sparsity < 1.0):
            raise SpecError(f"sparsity must be in [0, 1), got {self.sparsity}")
        if self.threshold is not None:
            if not self.threshold < float("inf"):
                raise SpecError(f"threshold must be a finite number, got {self.threshold}")
            if self.threshold < 0:
                raise SpecError(f"threshold must be >= 0 (scores are non-negative), got {self.threshold}")
            if self.schedule != "oneshot":
                raise SpecError("threshold mode prunes once; use --schedule oneshot or give --sparsity instead")
            if self.strategy == "tfmot":
                raise SpecError("tfmot's recipe prunes to a target sparsity; give --sparsity instead of --threshold")
        if self.strategy == "tfmot" and self.fine_tune_epochs == 0:
            raise SpecError("tfmot's recipe prunes during fine-tuning; give --fine-tune-epochs of at least 1")
        if self.strategy == "tfmot" and self.scope != "layerwise":
            raise SpecError("tfmot's recipe ranks weights per layer; use --scope layerwise")
        for name, low in (("fine_tune_epochs", 0), ("baseline_epochs", 1), ("batch_size", 1),
                          ("calibration_examples", 1), ("image_size", 8)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise SpecError(f"{name.replace('_', ' ')} must be an integer >= {low}, got {value!r}")
        if not (0.0 < self.learning_rate < 1.0):
            raise SpecError(f"learning rate must be in (0, 1), got {self.learning_rate}")
        self.schedule_obj()  # validates the schedule's own parameters

    # ---- derived -------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return "threshold" if self.threshold is not None else "target"

    def schedule_obj(self) -> Schedule:
        return Schedule(kind=self.schedule, final_sparsity=self.sparsity or 0.0,
                        initial_sparsity=self.initial_sparsity, begin_step=self.begin_step,
                        end_step=self.end_step, frequency=self.frequency, power=self.power)

    def baseline_key(self) -> str:
        """Cache key of the baseline this run starts from: model, data, seed and training settings."""
        parts = {k: getattr(self, k) for k in ("model", "dataset", "seed", "weights", "image_size",
                                               "baseline_epochs", "batch_size")}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def label(self) -> str:
        amount = f"t={self.threshold:g}" if self.threshold is not None else f"s={self.sparsity:g}"
        return f"{self.strategy} {amount} {self.scope} {self.schedule}"

    # ---- (de)serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "RunSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown recipe field(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"recipe is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise SpecError("recipe must be a JSON object")
        return cls.from_dict(data)

    def with_(self, **changes) -> "RunSpec":
        return replace(self, **changes)
