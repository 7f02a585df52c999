"""Experiment: choose a recipe (or a sweep), see its schedule, queue it as background jobs."""
import math
import time

import streamlit as st

import ui
from prune_core import data, plots
from prune_core.summaries import fraction_below
from prune_core.errors import PruneError
from prune_core.schedules import seed_recipe
from prune_core.specs import BUDGETS, CRITERIA, RunSpec, expand, parse_numbers

st.title("Experiment")
st.caption("Pick a model, strategies and how much to prune. Each recipe runs as a background job; "
           "you can leave this page while it runs.")

if st.button("Preset: the seed's tfmot recipe (PolynomialDecay 0.5 → 0.8, steps 1000–2000)"):
    seed = seed_recipe()
    st.session_state.update(schedule="polynomial", mode="target sparsity", sparsities="0.8",
                            initial_sparsity=seed.initial_sparsity, begin_step=seed.begin_step,
                            end_step=seed.end_step, frequency=seed.frequency, power=seed.power,
                            fine_tune_epochs=50)

default = RunSpec()
left, right = st.columns(2)
with left:
    st.subheader("Model and data")
    model = st.selectbox("Model", ["efficientnet-compact", "efficientnet-b0", "tiny-cnn", "my own file"],
                         help="The compact EfficientNet is the CPU default; B0 is the full-size network.")
    if model == "my own file":
        model = "file:" + st.text_input("Path to a .keras or .h5 model", placeholder="/path/to/model.keras")
    dataset = st.selectbox("Dataset", ["digits", "synthetic", "cifar10", "image folder"],
                           help="digits ships with scikit-learn (no download); cifar10 needs the internet.")
    if dataset == "image folder":
        dataset = "folder:" + st.text_input("Folder with one sub-folder per class", placeholder="/path/to/images")
    st.subheader("Strategy")
    strategies = st.multiselect("Strategies to compare", list(CRITERIA) + ["tfmot"], default=["magnitude"],
                                help="tfmot = TensorFlow Model Optimization's own recipe, the reference.")
    granularity = st.radio("Granularity", ["unstructured", "structured"], horizontal=True, key="granularity",
                           help="unstructured zeroes single weights (smaller when compressed, not faster); "
                                "structured removes whole channels (a smaller, faster dense model).")
    budget, multiple, rank = default.pruning.budget, default.pruning.channel_multiple, default.pruning.rank
    if granularity == "structured":
        b1, b2 = st.columns(2)
        budget = b1.radio("Global target counts", list(BUDGETS), horizontal=True,
                          help="With global ranking, the sparsity is the fraction of FLOPs, parameters or LiteRT "
                               "latency removed (latency: predicted from a per-layer table, timed once per "
                               "architecture, about 35 s for EfficientNetB0@224); with per-group ranking, the "
                               "fraction of each group's channels.")
        multiple = b2.selectbox("Keep channel counts multiples of", [1, 2, 4, 8, 16, 32], index=0)
    mode = st.radio("Amount", ["target sparsity", "threshold"], horizontal=True, key="mode")
    if mode == "target sparsity":
        amounts_text = st.text_input("Target sparsities (comma-separated: one run each)", "0.5, 0.8", key="sparsities")
        threshold_text = None
    else:
        threshold_text = st.text_input("Thresholds (remove weights scoring below)", "1e-3", key="thresholds")
        amounts_text = None
    scope = st.radio("Ranking", ["layerwise", "global"], horizontal=True,
                     help="layerwise: every layer loses the same fraction; global: one ranking over all layers.")
    if granularity == "structured":
        usable = scope == "global" and mode == "target sparsity" and budget != "latency"
        latency_aware = st.checkbox("Latency-aware ranking", value=False, disabled=not usable,
                                    help="At equal importance, remove first the channels whose FLOPs (or "
                                         "parameters) run slowest in LiteRT: depthwise and element-wise work "
                                         "before 1×1 convolutions. Needs global ranking, a target and a FLOPs "
                                         "or parameter budget (a latency budget already counts LiteRT time).")
        rank = "latency" if latency_aware and usable else "importance"
with right:
    st.subheader("Schedule and budget")
    schedule = st.radio("Schedule", ["oneshot", "constant", "polynomial"], horizontal=True, key="schedule")
    c1, c2 = st.columns(2)
    initial = c1.number_input("Initial sparsity", 0.0, 0.99, 0.0, 0.05, key="initial_sparsity",
                              disabled=schedule != "polynomial")
    power = c2.number_input("Power", 0.5, 10.0, 3.0, 0.5, key="power", disabled=schedule != "polynomial")
    begin = c1.number_input("Begin step", 0, 10**7, 0, key="begin_step", disabled=schedule == "oneshot")
    end = c2.number_input("End step (-1: never stop)", -1, 10**7, 200, key="end_step", disabled=schedule == "oneshot")
    frequency = c1.number_input("Frequency (steps)", 1, 10**6, 20, key="frequency", disabled=schedule == "oneshot")
    epochs = c2.number_input("Fine-tune epochs", 0, 1000, default.training.fine_tune_epochs, key="fine_tune_epochs")
    lr = c1.number_input("Learning rate", 1e-6, 0.5, default.training.learning_rate, format="%.5f", key="learning_rate")
    seed = c2.number_input("Seed", 0, 10**6, 0, key="seed")
    export = st.checkbox("Also export for deployment (TFLite float / sparse / int8, LiteRT latency)", value=False,
                         help="Adds about a minute per run on the compact model.")


specs, problem, total, steps_per_epoch = [], None, 0, 1
try:
    if not strategies:
        raise PruneError("choose at least one strategy")
    sparsities = parse_numbers(amounts_text, "target sparsities") if amounts_text is not None else None
    thresholds = parse_numbers(threshold_text, "thresholds") if threshold_text is not None else None
    if not (sparsities or thresholds):
        raise PruneError("give at least one sparsity or threshold")
    common = dict(model=model, dataset=dataset, granularity=granularity, scope=scope, schedule=schedule,
                  budget=budget, channel_multiple=int(multiple), rank=rank, export="tflite" if export else "none",
                  initial_sparsity=float(initial), begin_step=int(begin), end_step=int(end),
                  frequency=int(frequency), power=float(power), fine_tune_epochs=int(epochs),
                  learning_rate=float(lr), seed=int(seed))
    candidates = expand(common, strategies, sparsities, thresholds)
    steps_per_epoch = math.ceil(data.train_size(dataset) / default.training.batch_size)
    total = int(epochs) * steps_per_epoch
    for spec in candidates:
        spec.schedule.validate_for(total, steps_per_epoch)
    specs = candidates
except PruneError as exc:
    problem = str(exc)
except OSError as exc:
    problem = f"Could not read {dataset!r}: {exc.strerror or exc}"

st.subheader("Schedule preview")
if specs:
    preview = specs[-1].schedule
    steps, values = preview.preview(total)
    st.plotly_chart(plots.schedule_curve(steps, values, steps_per_epoch), use_container_width=True)
    st.caption(f"{total} fine-tune steps ({steps_per_epoch} per epoch × {int(epochs)} epochs); masks are "
               f"recomputed at {len(preview.pruning_steps(total))} step(s). Curve shown for the last target.")
if problem:
    st.error(problem)
else:
    st.success(f"{len(specs)} run(s) ready: " + ", ".join(s.label() for s in specs[:6]) +
               (" …" if len(specs) > 6 else ""))

if mode == "threshold" and specs:
    similar = [j for j in ui.completed_runs()
               if j.spec.model == model and j.spec.dataset == dataset
               and j.spec.strategy in strategies and j.spec.granularity == granularity
               and j.run_result.distributions.get("scores", {}).get("quantiles")]
    if similar:
        job = similar[0]
        scores = job.run_result.distributions["scores"]
        for spec in specs:
            if spec.strategy == job.spec.strategy:
                st.write(f"Threshold {spec.threshold:g} on **{spec.strategy}** scores would remove about "
                         f"**{fraction_below(scores, spec.threshold):.1%}** of the prunable weights "
                         f"(scores of job {job.id}'s baseline).")
        if scores.get("hist_edges"):
            st.plotly_chart(plots.histogram(scores, threshold=specs[0].threshold,
                                            title=f"{job.spec.strategy} scores of the baseline"),
                            use_container_width=True)
    else:
        st.info("No scores for this model, data and strategy yet. Queue a quick scoring run (sparsity 0, no "
                "fine-tuning) to see the score histogram and what each threshold would remove.")
        if st.button("Queue a scoring run"):
            ui.submit([specs[0].with_(threshold=None, sparsity=0.0, fine_tune_epochs=0, schedule="oneshot")],
                      sweep="scores")
            st.success("Queued. Come back when it has completed.")

if st.button(f"Queue {len(specs)} run(s)" if len(specs) != 1 else "Queue run", type="primary",
             disabled=bool(problem) or not specs):
    sweep = time.strftime("sweep %Y-%m-%d %H:%M:%S") if len(specs) > 1 else None
    ids = ui.submit(specs, sweep=sweep)
    st.success(f"Queued job(s) {', '.join(map(str, ids))}. Follow them on the Runs page.")
