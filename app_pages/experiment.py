"""Experiment: choose a recipe (or a sweep), see its schedule, queue it as background jobs. What may
combine is the recipe's answer (`prune_core.recipe.options`, asked through `ui.experiment_form`)."""

import math
import time

import streamlit as st

import ui
from prune_core.data import datasets as data
from prune_core.errors import PruneError
from prune_core.learn.glossary import HELP
from prune_core.measured import BEST_SCOPE, BEST_STRATEGY, EXPORT_MINUTES, LATENCY_TABLE_B0_SECONDS
from prune_core.recipe.advice import advice
from prune_core.recipe.patterns import COMMON as PATTERNS
from prune_core.recipe.patterns import Pattern
from prune_core.recipe.regrowth import RigL
from prune_core.recipe.spec import CHANNEL_MULTIPLES, RunSpec, expand, parse_numbers
from prune_core.results import plots
from prune_core.serving import limits
from prune_core.summaries import fraction_below
from ui import experiment_form as form

#: This page's own help texts (the glossary's `HELP` holds the shared ones).
PAGE_HELP = {
    "granularity": "unstructured zeroes single weights (smaller when compressed, not faster); "
    "structured removes whole channels (a smaller, faster dense model).",
    "strategies": "tfmot = TensorFlow Model Optimization's own recipe, the reference.",
    "budget": "With global ranking, the sparsity is the fraction of FLOPs, parameters or LiteRT "
    "latency removed (latency: predicted from a per-layer table, timed once per architecture, "
    f"about {LATENCY_TABLE_B0_SECONDS} s for EfficientNetB0@224); with per-group ranking, the "
    f"fraction of each group's "
    "channels.",
    "thresholds": "Comma-separated: one run each. The slider above sets one from the baseline's "
    "scores.",
    "scope": "layerwise: every layer loses the same fraction; global: one ranking over all layers; "
    "auto: per-layer sparsities (for whole channels, per-group channel counts) chosen from the "
    "measured sensitivity to lose the least accuracy (uses this criterion's profile from Explore, "
    "measured first if there is none: a few minutes more on the compact model).",
    "latency_aware": "At equal importance, remove first the channels whose FLOPs (or parameters) "
    "run slowest in LiteRT: depthwise and element-wise work before 1×1 convolutions.",
    "schedule": "oneshot prunes before fine-tuning; constant and polynomial prune while it runs.",
    "export": f"Adds about {EXPORT_MINUTES} minute(s) per run on the compact model.",
}

ui.start_page()
ui.init_form("experiment", ui.EXPERIMENT_FORM)
state = st.session_state

st.title("Experiment")
st.caption(
    "Pick a model, strategies and how much to prune. Each recipe runs as a background job; "
    "you can leave this page while it runs. The form starts on the best measured recipe "
    f"({BEST_STRATEGY} scores, one {BEST_SCOPE} ranking)."
)
p1, p2, p3 = st.columns(3)
p1.button(
    f"Best measured: {BEST_STRATEGY}, {BEST_SCOPE} ranking",
    on_click=form.best_recipe,
    width="stretch",
)
p2.button(
    "Reference: tfmot's rule (magnitude, per layer)",
    on_click=form.tfmot_reference,
    width="stretch",
    help="magnitude ranked per layer gives exactly tfmot's masks; tfmot's own recipe runs beside "
    "it.",
)
p3.button(
    "tfmot's polynomial recipe (0.5 → 0.8)",
    on_click=form.seed_tfmot_recipe,
    width="stretch",
    help="tfmot's PolynomialDecay from 50 % to 80 % sparsity between fine-tune steps 1000 and "
    "2000, every 100 steps, over 50 epochs.",
)

prefer = form.preferred(ui.EXPERIMENT_FORM)
opts, pattern_error = form.settle(state, prefer)  # the recipe's answer, written into the form
problems: list[str] = []
left, right = st.columns(2)
with left:
    st.subheader("Model and data")
    model, dataset = ui.model_and_data_inputs()
    pixels = ui.pixels_input(model)
    if missing := ui.missing_input(model, dataset):
        st.info(missing)
        problems.append("files")
    elif not ui.show_what_was_read(model, dataset, pixels=pixels):
        problems.append("files")
    st.subheader("Strategy")
    form.radio("Granularity", opts, "granularity", help=PAGE_HELP["granularity"])
    strategies = st.multiselect(
        "Strategies to compare",
        opts["strategy"].choices,
        key="strategies",
        help=form.help_text(PAGE_HELP["strategies"], opts["strategy"]),
    )
    if opts["budget"].used:
        b1, b2 = st.columns(2)
        form.radio("Global target counts", opts, "budget", help=PAGE_HELP["budget"], at=b1)
        b2.selectbox(
            "Keep channel counts multiples of",
            CHANNEL_MULTIPLES,
            key="channel_multiple",
            help=HELP["channel_multiple"],
        )
    if opts["combined"].enabled or state["combined"]:
        form.checkbox(
            "Then remove single weights of what remains (combined recipe)",
            opts,
            "combined",
            help=HELP["then_sparsity"],
        )
    pattern = Pattern.parse(opts["pattern"].value)
    if opts["pattern"].enabled or pattern_error or state["pattern"] != PATTERNS[0]:
        offered = [p for p in PATTERNS if p in opts["pattern"].choices] + [form.OTHER]
        if (
            st.selectbox("Sparsity pattern", offered, key="pattern", help=HELP["pattern"])
            == form.OTHER
        ):
            st.text_input("Pattern (N:M or block:HxW)", key="pattern_text", help=HELP["pattern"])
        if pattern_error:
            st.error(ui.escape_md(str(pattern_error).capitalize()))
            problems.append("pattern")
        if pattern.kind == "n:m":
            st.caption(
                f"{pattern} removes exactly {pattern.sparsity:.0%} of the weights (the target "
                "is set to it). Hardware: NVIDIA's sparse tensor cores (A100, H100, RTX 30 "
                "and 40 series, through TensorRT or cuSPARSELt) run 2:4 about twice as fast. "
                "This CPU, TFLite and LiteRT do not: expect dense latency here; the gain here "
                "is the compressed size."
            )
        elif pattern.kind == "block":
            st.caption(
                f"Blocks of {pattern.height}×{pattern.width} weights go together, ranked by "
                "their mean score. Sparse kernels (XNNPACK, TFLite's sparse encoding) skip "
                "whole blocks; export the run to compare int8 gzip bytes with unstructured "
                "at the same sparsity."
            )
    if opts["then_sparsity"].used:
        form.number(
            "Share of the remaining weights to remove (0.5 = 50%)",
            opts,
            "then_sparsity",
            0.05,
            0.95,
            step=0.05,
            help=HELP["then_sparsity"],
        )
    mode = form.radio(
        "Amount", opts, "mode", on_change=form.threshold_removing_half, help=HELP["amount"]
    )
    sparsities = thresholds = None
    try:
        if mode == "target sparsity":
            text = st.text_input(
                "Target sparsities (comma-separated, one run each: 50%, 80% or 0.5, 0.8)",
                key="sparsities",
                disabled=not opts["sparsity"].enabled,
                help=form.help_text(HELP["sparsities"], opts["sparsity"]),
            )
            sparsities = parse_numbers(text, "target sparsities", percent=True)
            for value in sparsities:  # the recipe's own range check, said under this field
                RunSpec.of(sparsity=value)
        else:
            form.threshold_slider(model, dataset)
            text = st.text_input(
                "Thresholds (remove weights scoring below)",
                key="thresholds",
                help=PAGE_HELP["thresholds"],
            )
            thresholds = parse_numbers(text, "thresholds")
        if not (sparsities or thresholds):
            raise PruneError(
                f"give at least one {'sparsity' if thresholds is None else 'threshold'}"
            )
    except PruneError as exc:
        st.error(ui.escape_md(str(exc).capitalize()))
        problems.append("amounts")
    form.radio("Ranking", opts, "scope", help=PAGE_HELP["scope"])
    if opts["budget"].used:
        form.checkbox(
            "Latency-aware ranking", opts, "latency_aware", help=PAGE_HELP["latency_aware"]
        )
    form.checkbox(
        "Refit the remaining weights after the cut (reconstruction)",
        opts,
        "reconstruct",
        help=HELP["reconstruct"],
    )
    form.checkbox(
        "Dynamic sparse training (RigL): move the mask while fine-tuning",
        opts,
        "rigl",
        help=HELP["regrow"],
    )
    if opts["regrow_fraction"].used:
        r1, r2 = st.columns(2)
        form.number(
            "Share moved at the first update",
            opts,
            "regrow_fraction",
            0.01,
            0.99,
            step=0.05,
            help=HELP["regrow_fraction"],
            at=r1,
        )
        form.number(
            "Steps between updates",
            opts,
            "regrow_every",
            1,
            10**6,
            help=HELP["regrow_every"],
            at=r2,
        )
    common = {**form.batch_recipe(opts, state, model, dataset), "pixels": pixels}
    tfmot, notes = form.reference_run(opts, prefer) if "tfmot" in strategies else (None, [])
    for note in notes:
        st.caption(note)
with right:
    st.subheader("Schedule and budget")
    form.radio("Schedule", opts, "schedule", help=PAGE_HELP["schedule"])
    c1, c2 = st.columns(2)
    form.number(
        "Initial sparsity",
        opts,
        "initial_sparsity",
        0.0,
        0.99,
        step=0.05,
        help=HELP["initial_sparsity"],
        at=c1,
    )
    form.number("Power", opts, "power", 0.5, 10.0, step=0.5, help=HELP["power"], at=c2)
    form.number("Begin step", opts, "begin_step", 0, 10**7, help=HELP["begin_step"], at=c1)
    form.number(
        "End step (-1: never stop)", opts, "end_step", -1, 10**7, help=HELP["end_step"], at=c2
    )
    form.number("Frequency (steps)", opts, "frequency", 1, 10**6, help=HELP["frequency"], at=c1)
    epochs = form.number(
        "Fine-tune epochs", opts, "fine_tune_epochs", 0, 1000, help=HELP["fine_tune_epochs"], at=c2
    )
    c1.number_input(
        "Learning rate", 1e-6, 0.5, format="%.5f", key="learning_rate", help=HELP["learning_rate"]
    )
    c2.number_input("Seed", 0, 10**6, key="seed", help=HELP["seed"])
    form.number(
        "Distil from the dense model (weight, 0: off)",
        opts,
        "distill",
        0.0,
        1.0,
        step=0.1,
        help=HELP["distill"],
        at=c1,
    )
    form.number(
        "Distillation temperature",
        opts,
        "temperature",
        0.5,
        100.0,
        step=0.5,
        help=HELP["temperature"],
        at=c2,
    )
    st.checkbox(
        "Also export for deployment (TFLite float / sparse / int8, LiteRT latency)",
        key="export",
        help=PAGE_HELP["export"],
    )
    steps_per_epoch, total = 1, 0
    try:
        # (no folder given yet, or amounts the recipe refuses: said beside their fields)
        if dataset != "folder:" and "amounts" not in problems:
            if dataset.startswith("folder:"):  # nothing outside the configured roots is even listed
                limits.check_path(dataset[len("folder:") :], "image folder")
            steps_per_epoch = math.ceil(data.train_size(dataset) / RunSpec().training.batch_size)
            total = int(epochs) * steps_per_epoch
            highest = {"sparsity": max(sparsities)} if sparsities else {}  # the furthest schedule
            furthest = RunSpec.from_dict({**common, **highest})
            furthest.schedule.validate_for(total, steps_per_epoch)
            if rigl := RigL.of(furthest.pruning):
                rigl.validate_for(total)
    except PruneError as exc:
        st.error(ui.escape_md(exc))
        problems.append("schedule")
    except OSError as exc:
        st.error(ui.escape_md(f"Could not read {dataset!r}: {exc.strerror or exc}"))
        problems.append("dataset")

ui.save_form("experiment", ui.EXPERIMENT_FORM)

specs, problem = [], None
if not problems:
    try:
        if not strategies:
            raise PruneError("choose at least one strategy")
        if ours := [s for s in strategies if s != "tfmot"]:
            specs += expand(common, ours, sparsities, thresholds)
        if tfmot:
            specs += expand({**common, **tfmot}, ["tfmot"], sparsities)
    except PruneError as exc:
        problem, specs = str(exc), []

st.subheader("Schedule preview")
if specs:
    preview = specs[-1].schedule
    steps, values = preview.preview(total)
    st.plotly_chart(plots.schedule_curve(steps, values, steps_per_epoch), width="stretch")
    st.caption(
        f"{total} fine-tune steps ({steps_per_epoch} per epoch × {int(epochs)} epochs); masks "
        f"are recomputed at {preview.count_pruning_steps(total):,} step(s). Curve shown for "
        "the last target."
    )
if problem:
    st.error(ui.escape_md(problem.capitalize()))
elif specs:
    more = " …" if len(specs) > 6 else ""
    st.success(f"{len(specs)} run(s) ready: " + ", ".join(s.label() for s in specs[:6]) + more)
else:
    st.info("Fix the fields marked above to see the runs this recipe makes.")

if mode == "threshold" and specs:
    found = ui.baseline_scores(model, dataset, strategies, state["granularity"])
    if found:
        job, scores = found
        scored = job.spec.pruning.strategy
        for spec in (s for s in specs if s.pruning.strategy == scored):
            t = spec.pruning.threshold
            st.write(
                f"Threshold {t:g} on **{scored}** scores would remove about "
                f"**{fraction_below(scores, t):.1%}** of the prunable weights (scores of job "
                f"{job.id}'s baseline)."
            )
        if scores.get("hist_edges"):
            figure = plots.histogram(
                scores,
                threshold=specs[0].pruning.threshold,
                title=f"{scored} scores of the baseline",
            )
            st.plotly_chart(figure, width="stretch")
    else:
        st.info(
            "No scores for this model, data and strategy yet. Queue a quick scoring run (sparsity "
            "0, no fine-tuning) to see the score histogram and what each threshold would remove."
        )
        if st.button("Queue a scoring run"):
            scoring = specs[0].with_(
                threshold=None, sparsity=0.0, fine_tune_epochs=0, schedule="oneshot"
            )
            ui.queue([scoring], sweep="scores", kind="scores")

if specs and (note := ui.baseline_note(specs)):
    st.caption(f":material/model_training: {ui.escape_md(note)}")
for line in advice(specs):
    st.caption(f":material/lightbulb: {ui.escape_md(line)}")
label = f"Queue {len(specs)} run(s)" if len(specs) != 1 else "Queue run"
if st.button(label, type="primary", disabled=not specs):
    sweep = time.strftime("sweep %Y-%m-%d %H:%M:%S") if len(specs) > 1 else None
    ui.queue(specs, sweep=sweep)
