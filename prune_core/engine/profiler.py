"""Measure a baseline's pruning profile (`prune_core.results.profile`): score once per criterion,
then apply masks and evaluate with no fine-tuning.

Per criterion, in this order:
1. **score** the dense baseline once (one calibration pass; no re-scoring per level);
2. **layer sensitivity**: each prunable layer alone at each layer level (its lowest-scored weights),
   validation top-1 and loss as pruned (BatchNorm untouched: the layer's own damage);
3. **one-shot curves** for `layerwise`, `global` and `auto` (the allocation
   `prune_core.results.allocation` computes from step 2): at each level the masks are applied to the
   dense weights, the model is evaluated, its .h5 is gzipped (measured), BatchNorm statistics are
   re-estimated on training images and it is evaluated again. The dense weights are put back after
   every point.

The validation split is what a profile evaluates (the test split stays for runs), so choosing an
allocation from it does not tune on the numbers Compare shows. Results are cached per (baseline
weights, criterion, levels, calibration) under `$PRUNE_HOME/profiles/`.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from prune_core import paths
from prune_core.engine import (
    channel_allocation,
    channel_profile,
    criteria,
    metrics,
    run_inputs,
    selection,
    structure,
)
from prune_core.engine.deploy import model_digest
from prune_core.engine.training import batchnorm_recalibrator
from prune_core.errors import ModelError, ResultError
from prune_core.progress import Progress, check_cancel
from prune_core.recipe.baseline_cache import recipe_key
from prune_core.results import allocation
from prune_core.results.profile import (
    CURVE_KEYS,
    LAYER_LEVELS,
    LEVELS,
    STRUCTURED_LEVELS,
    CriterionProfile,
    Layer,
    Profile,
    check_criteria,
    check_levels,
)

PHASE = "profiling"


def _cache_file(
    root: Path, baseline_key: str, criterion: str, spec, levels, layer_levels, structured_levels=()
) -> Path:
    recipe = json.dumps(
        [
            # the baseline's own training constants: a retrained baseline is profiled again
            recipe_key(spec),
            criterion,
            list(levels),
            list(layer_levels),
            list(structured_levels),
            # the channel sensitivity's levels (a profile from before it was measured re-measures)
            list(channel_allocation.LEVELS) if structured_levels else [],
            spec.pruning.calibration_examples,
            spec.pruning.prune_head,
            spec.pruning.prune_depthwise,
            spec.training.seed,
        ]
        # the data a file model is measured on (left out at 0–255: the keys from before)
        + ([spec.baseline.pixels] if spec.baseline.pixels != "0-255" else [])
        # channel counts rounded to a multiple shape the channel curves (left out at 1, as above)
        + (
            [f"multiple={spec.pruning.channel_multiple}"]
            if structured_levels and spec.pruning.channel_multiple != 1
            else []
        )
    )
    return (
        paths.profiles_dir(root)
        / baseline_key
        / f"{criterion}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.json"
    )


class Profiler:
    """One baseline, its targets, a compiled evaluator and BatchNorm re-estimator; profiles
    criteria."""

    def __init__(
        self,
        spec,
        baseline,
        dataset,
        *,
        levels=LEVELS,
        layer_levels=LAYER_LEVELS,
        structured_levels=STRUCTURED_LEVELS,
        root=None,
        on_progress=lambda p: None,
        should_cancel=lambda: False,
    ):
        self.spec, self.model, self.dataset = spec, baseline, dataset
        self.levels = check_levels(levels)
        self.layer_levels = check_levels(layer_levels, "layer levels")
        self.structured_levels = (
            check_levels(structured_levels, "channel levels") if structured_levels else ()
        )
        # the per-layer LiteRT table, measured (once per architecture) for structured curves
        self.times = None
        self.root = root or paths.home()
        self.on_progress, self.should_cancel = on_progress, should_cancel
        pruning = spec.pruning
        self.targets = criteria.find_targets(
            baseline, prune_head=pruning.prune_head, prune_depthwise=pruning.prune_depthwise
        )
        if not self.targets:
            raise ModelError("the model has no Conv2D or Dense kernel to profile")
        self.dense_weights = baseline.get_weights()
        self.kernels = [t.variable.numpy() for t in self.targets]
        self.evaluate = metrics.evaluator(baseline, dataset.x_val, dataset.y_val)
        # 10 batches of 64 at momentum 0.7 (2.8 % of the old statistics left): as accurate as the
        # runs'
        # 30 × 32 at 0.9 on the compact model (within ±3 pp at 80 % sparsity, either way) in 40 % of
        # the time
        self.recalibrate = batchnorm_recalibrator(
            baseline,
            dataset.x_train,
            batch_size=64,
            batches=10,
            momentum=0.7,
            seed=spec.training.seed,
        )
        flops = {layer.name: metrics._layer_flops(layer)[0] for layer in baseline.layers}
        self.layers = tuple(Layer(t.name, t.size, int(flops.get(t.name, 0))) for t in self.targets)
        self.key = model_digest(baseline)
        self.dense = {
            **self.evaluate(),
            **metrics.param_counts(baseline),
            **metrics.file_sizes(baseline),
            "flops": metrics.flops(baseline)["flops"],
        }
        self.done, self.total = 0, 0

    # ---- bookkeeping
    # ------------------------------------------------------------------------------
    def tick(self, message: str) -> None:
        check_cancel(self.should_cancel)
        self.done += 1
        self.on_progress(Progress(PHASE, step=self.done, steps=self.total, message=message))

    def _restore(self) -> None:
        self.model.set_weights(self.dense_weights)

    def _apply(self, masks) -> None:
        for target, kernel, mask in zip(self.targets, self.kernels, masks):
            target.variable.assign(kernel * mask)

    def baseline_info(self) -> dict:
        b = self.spec.baseline
        return {
            "key": self.key,
            "recipe_key": self.spec.baseline_key(),
            "model": b.model,
            "dataset": b.dataset,
            "image_size": b.image_size,
            "weights": b.weights,
            "baseline_epochs": b.baseline_epochs,
        }

    # ---- measuring -------------------------------------------------------------------------------
    def profile(self, names) -> Profile:
        """The profile for `names` (criteria), each from the cache or measured now."""
        cached, todo = {}, []
        for name in names:
            path = _cache_file(
                self.root,
                self.key,
                name,
                self.spec,
                self.levels,
                self.layer_levels,
                self.structured_levels,
            )
            try:
                cached[name] = Profile.from_dict(json.loads(path.read_text())).criteria[name]
            # missing, or not a profile we wrote: measure
            except (OSError, ValueError, KeyError, ResultError):
                todo.append((name, path))
        groups = (
            sum(g.prunable for g in structure.trace(self.model)) if self.structured_levels else 0
        )
        per_criterion = (
            len(self.targets) * len(self.layer_levels)
            + 3 * len(self.levels)
            + 1
            + 2 * len(self.structured_levels)
            + groups * len(channel_allocation.LEVELS)
        )
        self.total, self.done = per_criterion * len(todo), 0
        for name, path in todo:
            measured = self.criterion(name)
            single = Profile(
                self.baseline_info(),
                self.levels,
                self.layer_levels,
                self.dense,
                self.layers,
                {name: measured},
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(".tmp-" + path.name)
            tmp.write_text(json.dumps(single.to_dict()))
            tmp.replace(path)
            cached[name] = measured
        return Profile(
            self.baseline_info(),
            self.levels,
            self.layer_levels,
            self.dense,
            self.layers,
            {name: cached[name] for name in names},
        )

    def criterion(self, name: str) -> CriterionProfile:
        seconds = {}
        start = time.perf_counter()
        calibration = (
            run_inputs.calibration_set(self.spec, self.dataset)
            if name in criteria.NEEDS_DATA
            else None
        )
        scores = criteria.score(
            name, self.model, self.targets, calibration, self.spec.training.seed
        )
        seconds["scoring"] = time.perf_counter() - start
        self.tick(f"{name}: scored {len(self.targets)} layers")

        ranking = selection.Ranking(scores)  # sorted once: every level's masks are prefixes
        start = time.perf_counter()
        top1, loss = self.sensitivity(name, ranking)
        seconds["sensitivity"] = time.perf_counter() - start
        loss_increase = np.asarray(loss) - self.dense["loss"]
        top1_drop = self.dense["top1"] - np.asarray(top1)
        sizes = np.array([t.size for t in self.targets], dtype=float)

        def masks_for(scope, level):
            if scope == "global":
                return ranking.global_(level)
            if scope == "auto":
                chosen = allocation.allocate(
                    sizes, self.layer_levels, loss_increase, level, top1_drop=top1_drop
                )
                return ranking.layerwise(chosen.sparsities)
            return ranking.layerwise(level)

        curves = {}
        for scope in ("layerwise", "global", "auto"):
            parts = {}
            curves[scope] = self.curve(name, scope, masks_for, parts)
            seconds.update({f"{scope}_{part}": t for part, t in parts.items()})
        channel_sensitivity = None
        if self.structured_levels:
            start = time.perf_counter()
            channel_sensitivity = channel_profile.measure(self, name, calibration, curves)
            seconds["structured"] = time.perf_counter() - start
        return CriterionProfile(
            name,
            curves,
            np.asarray(top1).tolist(),
            np.asarray(loss).tolist(),
            seconds,
            channel_sensitivity.to_dict() if channel_sensitivity else None,
        )

    def sensitivity(self, name: str, ranking) -> tuple[list, list]:
        """[layer][level] validation top-1 and loss with only that layer pruned."""
        top1, loss = [], []
        for i, (target, kernel) in enumerate(zip(self.targets, self.kernels)):
            row_top1, row_loss = [], []
            for level in self.layer_levels:
                mask = ranking.layer(i, level)
                target.variable.assign(kernel * mask)
                measured = self.evaluate()
                row_top1.append(measured["top1"])
                row_loss.append(measured["loss"])
                self.tick(f"{name}: layer {i + 1}/{len(self.targets)} at {level:.0%}")
            target.variable.assign(kernel)
            top1.append(row_top1)
            loss.append(row_loss)
        return top1, loss

    def curve(self, name: str, scope: str, masks_for, seconds: dict) -> dict:
        """One scope's one-shot curve; `seconds` receives the time of each part (masks, evaluate,
        size: the .h5 gzipped, batchnorm: re-estimation and its evaluation)."""
        out = {k: [] for k in (*CURVE_KEYS, "layer_sparsity")}
        clock = _Clock(seconds)
        try:
            for level in self.levels:
                with clock("masks"):
                    masks = masks_for(scope, level)
                    self._apply(masks)
                with clock("evaluate"):
                    raw = self.evaluate()
                with clock("size"):
                    sizes = metrics.file_sizes(self.model)
                    counts = metrics.param_counts(self.model)
                    speedup = metrics.flops(self.model)["theoretical_speedup"]
                with clock("batchnorm"):
                    self.recalibrate()
                    recalibrated = self.evaluate()
                self._restore()
                out["level"].append(level)
                out["sparsity"].append(selection.sparsity_of(masks))
                out["layer_sparsity"].append(
                    [1.0 - float(np.count_nonzero(m)) / m.size for m in masks]
                )
                for key in ("top1", "top5", "loss"):
                    out[key].append(raw[key])
                    out[f"{key}_bn"].append(recalibrated[key])
                out["nonzero_params"].append(counts["nonzero_params"])
                out["gzip_bytes"].append(sizes["gzip_bytes"])
                out["theoretical_speedup"].append(speedup)
                self.tick(
                    f"{name}: {scope} one-shot at {level:.0%} — top-1 {raw['top1']:.3f}, "
                    f"{recalibrated['top1']:.3f} with BatchNorm re-estimated"
                )
        finally:
            self._restore()
        return out


class _Clock:
    """`with clock("part"):` adds the block's wall time to seconds["part"]."""

    def __init__(self, seconds: dict):
        self.seconds, self.part, self.start = seconds, None, 0.0

    def __call__(self, part: str):
        self.part = part
        return self

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.seconds[self.part] = (
            self.seconds.get(self.part, 0.0) + time.perf_counter() - self.start
        )
        return False


def run(
    spec,
    names,
    *,
    levels=LEVELS,
    layer_levels=LAYER_LEVELS,
    structured_levels=STRUCTURED_LEVELS,
    root=None,
    on_progress=lambda p: None,
    should_cancel=lambda: False,
) -> Profile:
    """The recipe's baseline (cached, or trained now) profiled for criteria `names` (no structured
    curve when `structured_levels` is empty)."""
    names = check_criteria(names)
    levels = check_levels(levels)
    layer_levels = check_levels(layer_levels, "layer levels")
    structured_levels = (
        check_levels(structured_levels, "channel levels") if structured_levels else ()
    )
    dataset, user_model = run_inputs.check(spec)
    baseline, _, _ = run_inputs.baseline_for(
        spec, dataset, user_model, root, on_progress, should_cancel
    )
    check_cancel(should_cancel)
    profiler = Profiler(
        spec,
        baseline,
        dataset,
        levels=levels,
        layer_levels=layer_levels,
        structured_levels=structured_levels,
        root=root,
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
    return profiler.profile(list(names))
