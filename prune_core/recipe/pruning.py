"""How a recipe prunes (`PruningSpec`): criterion, amount, granularity, ranking, pattern, regrowth
and the optional second (single-weight) stage of a combined recipe — every combination checked when
the recipe is made, so a bad one is refused before anything runs. Part of `prune_core.recipe.spec`
(which re-exports it); pure Python."""

from __future__ import annotations

from dataclasses import dataclass

from prune_core.errors import SpecError
from prune_core.recipe import patterns
from prune_core.recipe.fields import (
    MAX_CALIBRATION,
    option,
)
from prune_core.recipe.fields import (
    check_choice as _check_choice,
)
from prune_core.recipe.fields import (
    check_int as _check_int,
)

#: Criteria that score weights (see `prune_core.engine.criteria`), plus tfmot's own reference
#: recipe.
CRITERIA = ("magnitude", "gradient", "taylor", "fisher", "wanda", "random")
STRATEGIES = CRITERIA + ("tfmot",)
GRANULARITIES = ("unstructured", "structured")
#: "auto": per-layer sparsities chosen from the criterion's measured layer sensitivity (a profile,
#: `prune_core.results.allocation`) to lose the least predicted accuracy within the target.
SCOPES = ("layerwise", "global", "auto")
#: What a structured global target removes a fraction of ("latency": LiteRT ms predicted from a
#: per-layer table measured once per architecture, see `prune_core.engine.latency_table`).
BUDGETS = ("flops", "params", "latency")
#: How a structured global target ranks channels: importance alone, or importance × budget per
#: LiteRT ms (at equal importance, remove the work that runs slowest on the device first).
RANKINGS = ("importance", "latency")
CHANNEL_MULTIPLES = (1, 2, 4, 8, 16, 32)
#: Dynamic sparse training during fine-tuning ("rigl": drop the smallest weights, regrow where the
#: dense gradient is largest; `prune_core.engine.regrowth`).
REGROWTH = ("none", "rigl")


@dataclass(frozen=True)
class PruningSpec:
    """How to prune: criterion, amount (a target sparsity or a score threshold) and granularity."""

    strategy: str = option("magnitude", "criterion, or tfmot's own recipe", STRATEGIES)
    sparsity: float | None = option(
        0.5, "target sparsity in [0, 1) (structured + global: fraction of --budget)"
    )
    threshold: float | None = option(None, "remove weights (channels) scoring below this")
    granularity: str = option(
        "unstructured", "single weights, or whole channels physically removed", GRANULARITIES
    )
    scope: str = option(
        "layerwise",
        "unstructured: per-kernel, one global ranking, or auto (per-layer "
        "sparsities from the measured layer sensitivity: profiles the baseline "
        "once); structured: the same fraction of every channel group, a global "
        "target fraction of --budget, or auto (per-group channel counts from each "
        "group's measured sensitivity, meeting the --budget target)",
        SCOPES,
    )
    budget: str = option(
        "flops",
        "structured + global: remove this fraction of FLOPs, of parameters, or of "
        "LiteRT latency (predicted from a per-layer table timed once per architecture)",
        BUDGETS,
    )
    rank: str = option(
        "importance",
        "structured + global: rank channels by importance, or by importance x "
        "budget per LiteRT ms (at equal importance, cut the work that runs slowest "
        "on the device first)",
        RANKINGS,
    )
    channel_multiple: int = option(
        1, "structured: keep channel counts multiples of this", CHANNEL_MULTIPLES
    )
    prune_head: bool = option(False, "also prune the classifier head")
    prune_depthwise: bool = option(False, "also prune depthwise kernels")
    calibration_examples: int = option(
        256, "training examples the gradient criteria and reconstruction look at"
    )
    reconstruct: bool = option(
        False,
        "after a one-shot cut, refit each pruned layer's remaining weights by least squares so "
        "its outputs match the dense layer's on calibration images",
    )
    pattern: str = option(
        "unstructured",
        "unstructured | N:M (N of every M consecutive input-channel weights "
        "removed; 2:4 is what NVIDIA's sparse tensor cores run fast) | "
        "block:HxW (blocks of the kernel matrix removed together, e.g. block:1x4)",
    )
    then_sparsity: float | None = option(
        None,
        "structured, then single weights: after the channels are cut, "
        "remove this share of the remaining weights (ranked globally, or "
        "the --pattern's way) — one combined recipe, one-shot",
    )
    regrow: str = option(
        "none",
        "rigl: during fine-tuning, drop the smallest weights and regrow as many where the "
        "dense gradient is largest, at a fraction decaying to zero by three quarters of the steps",
        REGROWTH,
    )
    regrow_fraction: float = option(
        0.3, "rigl: fraction of each layer's kept weights moved at the first update"
    )
    regrow_every: int = option(100, "rigl: fine-tune steps between updates")

    def __post_init__(self):
        _check_choice(self.strategy, STRATEGIES, "strategy")
        _check_choice(self.granularity, GRANULARITIES, "granularity")
        _check_choice(self.scope, SCOPES, "scope")
        _check_choice(self.budget, BUDGETS, "budget")
        _check_choice(self.rank, RANKINGS, "rank")
        if self.granularity == "structured" and self.strategy == "tfmot":
            raise SpecError(
                "tfmot's recipe prunes single weights only; use another strategy for structured "
                "pruning"
            )
        if self.rank == "latency":
            if (
                self.granularity != "structured"
                or self.scope != "global"
                or self.threshold is not None
            ):
                raise SpecError(
                    "latency ranking applies to structured pruning with a global target "
                    "(--granularity structured --scope global --sparsity S)"
                )
            if self.budget == "latency":
                raise SpecError(
                    "a latency budget already counts LiteRT time; latency ranking applies to "
                    "a flops or params budget"
                )
        if self.channel_multiple not in CHANNEL_MULTIPLES:
            raise SpecError(
                f"channel multiple must be 1, 2, 4, 8, 16 or 32, got {self.channel_multiple}"
            )
        if (self.sparsity is None) == (self.threshold is None):
            raise SpecError("give exactly one of a target sparsity or a threshold")
        if self.sparsity is not None and not (0.0 <= self.sparsity < 1.0):
            raise SpecError(f"sparsity must be in [0, 1), got {self.sparsity}")
        if self.threshold is not None:
            if not self.threshold < float("inf"):
                raise SpecError(f"threshold must be a finite number, got {self.threshold}")
            if self.threshold < 0:
                raise SpecError(
                    f"threshold must be >= 0 (scores are non-negative), got {self.threshold}"
                )
            if self.strategy == "tfmot":
                raise SpecError(
                    "tfmot's recipe prunes to a target sparsity; give --sparsity instead of "
                    "--threshold"
                )
        if self.scope == "auto":
            if self.threshold is not None:
                raise SpecError("the automatic allocation needs a target sparsity, not a threshold")
        if self.reconstruct and self.strategy == "tfmot":
            raise SpecError(
                "tfmot's recipe prunes inside its own training; reconstruction refits after a "
                "criterion's one-shot cut"
            )
        if self.strategy == "tfmot" and self.scope != "layerwise":
            raise SpecError("tfmot's recipe ranks weights per layer; use --scope layerwise")
        _check_int("calibration_examples", self.calibration_examples, 1, MAX_CALIBRATION)
        # "2:4", "block:1x4"
        object.__setattr__(self, "pattern", str(patterns.Pattern.parse(self.pattern)))
        self._check_pattern()
        self._check_regrowth()

    @property
    def sparsity_pattern(self) -> patterns.Pattern:
        """The pattern as a value (the field holds its normalised text)."""
        return patterns.Pattern.parse(self.pattern)

    def _check_pattern(self) -> None:
        combined = self.then_sparsity is not None
        if combined:
            if self.granularity != "structured":
                raise SpecError(
                    "a second, single-weight stage follows a structured (channel) stage; use "
                    "structured "
                    "granularity, or the sparsity alone for single weights"
                )
            if not isinstance(self.then_sparsity, float) or not 0.0 < self.then_sparsity < 1.0:
                raise SpecError(
                    f"the weight stage's sparsity must be in (0, 1), got {self.then_sparsity!r}"
                )
        pattern = self.sparsity_pattern
        if pattern.kind == patterns.UNSTRUCTURED:
            return
        if self.granularity == "structured" and not combined:
            raise SpecError(
                f"the {pattern} pattern chooses single weights; structured pruning removes whole "
                "channels (use unstructured granularity with a pattern, or add a weight stage "
                "after "
                "the channels)"
            )
        if self.strategy == "tfmot":
            raise SpecError(
                f"tfmot's recipe here prunes without a pattern; use the magnitude criterion with "
                f"{pattern}"
            )
        if pattern.kind == "n:m" and combined:
            if abs(self.then_sparsity - pattern.sparsity) > 1e-9:
                raise SpecError(
                    f"{pattern} removes exactly {pattern.sparsity:.0%} of the remaining weights; "
                    f"set the "
                    f"weight stage's sparsity to {pattern.sparsity:g}"
                )
        elif pattern.kind == "n:m":
            if self.threshold is not None:
                raise SpecError(
                    f"{pattern} fixes what every group of {pattern.m} loses; give the sparsity "
                    f"{pattern.sparsity:g} instead of a threshold"
                )
            if abs(self.sparsity - pattern.sparsity) > 1e-9:
                raise SpecError(
                    f"{pattern} removes exactly {pattern.sparsity:.0%} of the weights; set the "
                    f"sparsity "
                    f"to {pattern.sparsity:g}"
                )
            if self.scope != "layerwise":
                raise SpecError(
                    f"{pattern} chooses inside each group of {pattern.m} weights; use the "
                    f"layerwise scope"
                )

    def _check_regrowth(self) -> None:
        _check_choice(self.regrow, REGROWTH, "regrowth")
        _check_int("regrow_every", self.regrow_every, 1, 1_000_000)
        if (
            not isinstance(self.regrow_fraction, (int, float))
            or not 0.0 < self.regrow_fraction < 1.0
        ):
            raise SpecError(f"regrow fraction must be in (0, 1), got {self.regrow_fraction!r}")
        if self.regrow == "none":
            return
        if (
            self.granularity == "structured"
            or self.strategy == "tfmot"
            or self.pattern != patterns.UNSTRUCTURED
        ):
            raise SpecError(
                "RigL regrows single weights: use it with unstructured pruning, no pattern, and a "
                "criterion (not tfmot's recipe)"
            )
        if self.threshold is not None:
            raise SpecError(
                "RigL keeps a target sparsity while it moves weights; give a sparsity, not a "
                "threshold"
            )

    @property
    def mode(self) -> str:
        return "threshold" if self.threshold is not None else "target"

    @property
    def unit(self) -> str:
        """What the target counts: "weights" (unstructured), or the structured budget."""
        return self.budget if self.granularity == "structured" else "weights"
