"""Experiment: choose a recipe (or a sweep), see its schedule, queue it as background jobs."""
import math
import time

import streamlit as st

import ui
from prune_core.data import datasets as data
from prune_core.serving import limits
from prune_core.results import plots
from prune_core.errors import PruneError
from prune_core.learn.glossary import HELP
from prune_core.recipe.patterns import COMMON as PATTERNS, Pattern
from prune_core.recipe.regrowth import RigL
from prune_core.recipe.schedules import seed_recipe
from prune_core.recipe.spec import BUDGETS, CHANNEL_MULTIPLES, CRITERIA, RunSpec, expand, parse_numbers
from prune_core.summaries import fraction_below, threshold_removing

ui.start_page()
OTHER = "other…"  # the pattern is typed into a text field

ui.init_form("experiment", ui.EXPERIMENT_FORM)
state = st.session_state


def _tfmot_reference():
    state.update(strategies=["magnitude", "tfmot"], scope="layerwise", granularity="unstructured",
                 mode="target sparsity", schedule="oneshot")


def _seed_recipe():
    seed = seed_recipe()
    state.update(strategies=["tfmot"], granularity="unstructured", scope="layerwise", schedule="polynomial",
                 mode="target sparsity", sparsities="0.8", initial_sparsity=seed.initial_sparsity,
                 begin_step=seed.begin_step, end_step=seed.end_step, frequency=seed.frequency, power=seed.power,
                 fine_tune_epochs=50)


def _threshold_removing_half():
    """Entering threshold mode: start from the threshold that removes half of the baseline's weights by
    the first chosen criterion's scores, when a finished run has them (a fixed 1e-3 removes 99.5 % of
    fisher scores and almost nothing of magnitude's)."""
    if state["mode"] != "threshold" or not state["strategies"]:
        return
    found = ui.baseline_scores(*ui.chosen_model_and_data(), state["strategies"][:1], state["granularity"])
    if found:
        value = threshold_removing(found[1], 0.5)
        if value:
            state["thresholds"] = f"{value:.3g}"


def _threshold_from_slider():
    state["thresholds"] = f"{state['threshold_pick']:.3g}"


def _threshold_slider(model: str, dataset: str) -> None:
    """Threshold mode with a finished run's scores of this baseline: a log-scale slider over the scores'
    histogram bins (snapping to them), each step saying what share of weights it removes."""
    found = ui.baseline_scores(model, dataset, state["strategies"][:1], state["granularity"]) \
        if state["strategies"] else None
    edges = [e for e in (found[1].get("hist_edges") or []) if e > 0] if found else []
    if len(edges) < 2:
        return
    scores = found[1]
    try:
        wanted = float(state["thresholds"].split(",")[0])
    except ValueError:
        wanted = edges[len(edges) // 2]
    if state.get("threshold_pick") not in edges:
        state["threshold_pick"] = min(edges, key=lambda e: abs(math.log(e) - math.log(max(wanted, 1e-30))))
    st.select_slider(f"Threshold on the baseline's {found[0].spec.strategy} scores (log scale)", options=edges,
                     key="threshold_pick", on_change=_threshold_from_slider,
                     format_func=lambda t: f"{t:.3g}: removes {fraction_below(scores, t):.0%}",
                     help="Each step is one bin of the score histogram below; the label says the share of prunable "
                          "weights scoring below it.")


def _best_recipe():
    state.update({k: v for k, v in ui.EXPERIMENT_FORM.items() if k not in ("model_choice", "model_path",
                                                                             "dataset_choice", "dataset_path")})


st.title("Experiment")
st.caption("Pick a model, strategies and how much to prune. Each recipe runs as a background job; "
           "you can leave this page while it runs. The form starts on the best measured recipe (taylor "
           "scores, one global ranking).")
p1, p2, p3 = st.columns(3)
p1.button("Best measured: taylor, global ranking", on_click=_best_recipe, width="stretch")
p2.button("Reference: tfmot's rule (magnitude, per layer)", on_click=_tfmot_reference, width="stretch",
          help="magnitude ranked per layer gives exactly tfmot's masks; tfmot's own recipe runs beside it.")
p3.button("The seed's tfmot recipe (0.5 → 0.8)", on_click=_seed_recipe, width="stretch",
          help="tfmot's PolynomialDecay from 50 % to 80 % sparsity between fine-tune steps 1000 and 2000, "
               "every 100 steps, over 50 epochs.")

default = RunSpec()
problems: list[str] = []
left, right = st.columns(2)
with left:
    st.subheader("Model and data")
    model, dataset = ui.model_and_data_inputs()
    if missing := ui.missing_input(model, dataset):
        st.info(missing)
        problems.append("files")
    st.subheader("Strategy")
    granularity = st.radio("Granularity", ["unstructured", "structured"], horizontal=True, key="granularity",
                           help="unstructured zeroes single weights (smaller when compressed, not faster); "
                                "structured removes whole channels (a smaller, faster dense model).")
    offered = list(CRITERIA) + (["tfmot"] if granularity == "unstructured" else [])
    state["strategies"] = [s for s in state["strategies"] if s in offered]
    strategies = st.multiselect("Strategies to compare", offered, key="strategies",
                                help="tfmot = TensorFlow Model Optimization's own recipe, the reference (single "
                                     "weights only, so it is not offered for channel pruning).")
    budget, multiple, rank = default.pruning.budget, default.pruning.channel_multiple, default.pruning.rank
    if granularity == "structured":
        b1, b2 = st.columns(2)
        budget = b1.radio("Global target counts", list(BUDGETS), horizontal=True, key="budget",
                          help="With global ranking, the sparsity is the fraction of FLOPs, parameters or LiteRT "
                               "latency removed (latency: predicted from a per-layer table, timed once per "
                               "architecture, about 35 s for EfficientNetB0@224); with per-group ranking, the "
                               "fraction of each group's channels.")
        multiple = b2.selectbox("Keep channel counts multiples of", list(CHANNEL_MULTIPLES), key="channel_multiple",
                                help=HELP["channel_multiple"])
    pattern, then = Pattern(), None
    combined = granularity == "structured" and st.checkbox(
        "Then remove single weights of what remains (combined recipe)", key="combined", help=HELP["then_sparsity"])
    if granularity == "unstructured" or combined:
        try:
            chosen = st.selectbox("Sparsity pattern", PATTERNS + (OTHER,), key="pattern", help=HELP["pattern"])
            if chosen == OTHER:
                chosen = st.text_input("Pattern (N:M or block:HxW)", key="pattern_text", help=HELP["pattern"])
            pattern = Pattern.parse(chosen)
        except PruneError as exc:
            st.error(ui.escape_md(str(exc).capitalize()))
            problems.append("pattern")
        if pattern.kind == "n:m":
            st.caption(f"{pattern} removes exactly {pattern.sparsity:.0%} of the weights (the target is set to it). "
                       "Hardware: NVIDIA's sparse tensor cores (A100, H100, RTX 30 and 40 series, through TensorRT "
                       "or cuSPARSELt) run 2:4 about twice as fast. This CPU, TFLite and LiteRT do not: expect dense "
                       "latency here; the gain here is the compressed size.")
            if combined:
                state["then_sparsity"] = pattern.sparsity
            else:
                state["mode"], state["sparsities"] = "target sparsity", f"{pattern.sparsity:g}"
                state["scope"] = "layerwise"  # N:M chooses inside each group
        elif pattern.kind == "block":
            st.caption(f"Blocks of {pattern.height}×{pattern.width} weights go together, ranked by their mean "
                       "score. Sparse kernels (XNNPACK, TFLite's sparse encoding) skip whole blocks; export the run to "
                       "compare int8 gzip bytes with unstructured at the same sparsity.")
    if combined:
        state["mode"] = "target sparsity"  # channels to a target, then weights, both before fine-tuning
        then = st.number_input("Share of the remaining weights to remove", 0.05, 0.95, step=0.05, key="then_sparsity",
                               help=HELP["then_sparsity"], disabled=pattern.kind == "n:m")
    nm_alone = pattern.kind == "n:m" and then is None
    mode = st.radio("Amount", ["target sparsity", "threshold"], horizontal=True, key="mode", help=HELP["amount"],
                    on_change=_threshold_removing_half, disabled=nm_alone or then is not None)
    sparsities = thresholds = None
    try:
        if mode == "target sparsity":
            sparsities = parse_numbers(st.text_input("Target sparsities (comma-separated: one run each)",
                                                     key="sparsities", help=HELP["sparsities"]), "target sparsities")
        else:
            _threshold_slider(model, dataset)
            thresholds = parse_numbers(st.text_input("Thresholds (remove weights scoring below)", key="thresholds",
                                                     help="Comma-separated: one run each. The slider above sets "
                                                          "one from the baseline's scores."),
                                       "thresholds")
        if not (sparsities or thresholds):
            raise PruneError(f"give at least one {'sparsity' if mode == 'target sparsity' else 'threshold'}")
    except PruneError as exc:
        st.error(ui.escape_md(str(exc).capitalize()))
        problems.append("amounts")
    scopes = ["layerwise", "global"] + (["auto"] if granularity == "unstructured" and mode == "target sparsity" else [])
    if state["scope"] not in scopes:
        state["scope"] = "global"
    scope = st.radio("Ranking", scopes, horizontal=True, key="scope", disabled=nm_alone,
                     help="layerwise: every layer loses the same fraction; global: one ranking over all layers; "
                          "auto: per-layer sparsities chosen from the measured layer sensitivity to lose the least "
                          "accuracy (uses this criterion's profile from Explore, measured first if there is none: "
                          "about a minute more on the compact model).")
    if granularity == "structured":
        usable = scope == "global" and mode == "target sparsity" and budget != "latency"
        latency_aware = st.checkbox("Latency-aware ranking", key="latency_aware", disabled=not usable,
                                    help="At equal importance, remove first the channels whose FLOPs (or "
                                         "parameters) run slowest in LiteRT: depthwise and element-wise work "
                                         "before 1×1 convolutions. Needs global ranking, a target and a FLOPs "
                                         "or parameter budget (a latency budget already counts LiteRT time).")
        rank = "latency" if latency_aware and usable else "importance"
    rigl_usable = granularity == "unstructured" and pattern.kind == "unstructured" and mode == "target sparsity"
    rigl = st.checkbox("Dynamic sparse training (RigL): move the mask while fine-tuning", key="rigl",
                       disabled=not rigl_usable, help=HELP["regrow"] + " Needs single weights, no pattern, a target "
                                                                     "sparsity and the one-shot schedule.")
    rigl = rigl and rigl_usable
    regrow_fraction, regrow_every = state["regrow_fraction"], state["regrow_every"]
    if rigl:
        r1, r2 = st.columns(2)
        regrow_fraction = r1.number_input("Share moved at the first update", 0.01, 0.99, step=0.05,
                                          key="regrow_fraction", help=HELP["regrow_fraction"])
        regrow_every = r2.number_input("Steps between updates", 1, 10**6, key="regrow_every", help=HELP["regrow_every"])
    notes = []
    if "tfmot" in strategies and scope != "layerwise" and mode == "target sparsity":
        notes.append("tfmot's recipe ranks each layer on its own: its runs use per-layer ranking.")
    if "tfmot" in strategies and (pattern.kind != "unstructured" or rigl):
        notes.append("tfmot's recipe runs as the reference: single weights, no pattern, no regrowth.")
    if "tfmot" in strategies and mode == "threshold":
        notes.append("tfmot's recipe prunes to a target sparsity, not a threshold: it is left out of this batch.")
    for note in notes:
        st.caption(note)
with right:
    st.subheader("Schedule and budget")
    threshold_mode = mode == "threshold"
    if threshold_mode or rigl or then is not None:
        state["schedule"] = "oneshot"
    schedule = st.radio("Schedule", ["oneshot", "constant", "polynomial"], horizontal=True, key="schedule",
                        disabled=threshold_mode or rigl or then is not None,
                        help="A threshold prunes once, before fine-tuning." if threshold_mode else
                        "RigL prunes to the target once, then moves weights while fine-tuning." if rigl else
                        "A combined recipe cuts channels, then weights, both before fine-tuning." if then is not None
                        else None)
    c1, c2 = st.columns(2)
    initial = c1.number_input("Initial sparsity", 0.0, 0.99, step=0.05, key="initial_sparsity", help=HELP["initial_sparsity"],
                              disabled=schedule != "polynomial")
    power = c2.number_input("Power", 0.5, 10.0, step=0.5, key="power", help=HELP["power"], disabled=schedule != "polynomial")
    begin = c1.number_input("Begin step", 0, 10**7, key="begin_step", help=HELP["begin_step"], disabled=schedule == "oneshot")
    end = c2.number_input("End step (-1: never stop)", -1, 10**7, key="end_step", help=HELP["end_step"], disabled=schedule == "oneshot")
    frequency = c1.number_input("Frequency (steps)", 1, 10**6, key="frequency", help=HELP["frequency"], disabled=schedule == "oneshot")
    epochs = c2.number_input("Fine-tune epochs", 0, 1000, key="fine_tune_epochs", help=HELP["fine_tune_epochs"])
    lr = c1.number_input("Learning rate", 1e-6, 0.5, format="%.5f", key="learning_rate", help=HELP["learning_rate"])
    seed = c2.number_input("Seed", 0, 10**6, key="seed", help=HELP["seed"])
    export = st.checkbox("Also export for deployment (TFLite float / sparse / int8, LiteRT latency)", key="export",
                         help="Adds about a minute per run on the compact model.")
    steps_per_epoch, total = 1, 0
    try:
        if dataset != "folder:":  # (no folder given yet: said beside the field)
            if dataset.startswith("folder:"):  # nothing outside the configured roots is even listed
                limits.check_path(dataset[len("folder:"):], "image folder")
            steps_per_epoch = math.ceil(data.train_size(dataset) / default.training.batch_size)
            total = int(epochs) * steps_per_epoch
            final = max(sparsities) if sparsities else 0.0
            RunSpec.of(schedule=schedule, sparsity=final, initial_sparsity=float(initial), begin_step=int(begin),
                       end_step=int(end), frequency=int(frequency), power=float(power)).schedule.validate_for(
                total, steps_per_epoch)
            if rigl:
                RigL(float(regrow_fraction), int(regrow_every)).validate_for(total)
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
        common = dict(model=model, dataset=dataset, granularity=granularity, scope=scope, schedule=schedule,
                      budget=budget, channel_multiple=int(multiple), rank=rank, export="tflite" if export else "none",
                      initial_sparsity=float(initial), begin_step=int(begin), end_step=int(end),
                      frequency=int(frequency), power=float(power), fine_tune_epochs=int(epochs),
                      learning_rate=float(lr), seed=int(seed), pattern=str(pattern),
                      then_sparsity=float(then) if then is not None else None,
                      regrow="rigl" if rigl else "none", regrow_fraction=float(regrow_fraction),
                      regrow_every=int(regrow_every))
        ours = [s for s in strategies if s != "tfmot"]
        if ours:
            specs += expand(common, ours, sparsities, thresholds)
        if "tfmot" in strategies and not thresholds:  # the reference: no pattern, no regrowth
            specs += expand({**common, "scope": "layerwise", "pattern": "unstructured", "regrow": "none"}, ["tfmot"],
                            sparsities)
        if not specs:
            raise PruneError("nothing to queue: tfmot's recipe needs target sparsities")
    except PruneError as exc:
        problem = str(exc)
        specs = []

st.subheader("Schedule preview")
if specs:
    preview = specs[-1].schedule
    steps, values = preview.preview(total)
    st.plotly_chart(plots.schedule_curve(steps, values, steps_per_epoch), width="stretch")
    st.caption(f"{total} fine-tune steps ({steps_per_epoch} per epoch × {int(epochs)} epochs); masks are "
               f"recomputed at {preview.count_pruning_steps(total):,} step(s). Curve shown for the last target.")
if problem:
    st.error(ui.escape_md(problem.capitalize()))
elif specs:
    st.success(f"{len(specs)} run(s) ready: " + ", ".join(s.label() for s in specs[:6]) +
               (" …" if len(specs) > 6 else ""))
else:
    st.info("Fix the fields marked above to see the runs this recipe makes.")

if mode == "threshold" and specs:
    found = ui.baseline_scores(model, dataset, strategies, granularity)
    if found:
        job, scores = found
        for spec in specs:
            if spec.strategy == job.spec.strategy:
                st.write(f"Threshold {spec.threshold:g} on **{spec.strategy}** scores would remove about "
                         f"**{fraction_below(scores, spec.threshold):.1%}** of the prunable weights "
                         f"(scores of job {job.id}'s baseline).")
        if scores.get("hist_edges"):
            st.plotly_chart(plots.histogram(scores, threshold=specs[0].threshold,
                                            title=f"{job.spec.strategy} scores of the baseline"),
                            width="stretch")
    else:
        st.info("No scores for this model, data and strategy yet. Queue a quick scoring run (sparsity 0, no "
                "fine-tuning) to see the score histogram and what each threshold would remove.")
        if st.button("Queue a scoring run"):
            ui.queue([specs[0].with_(threshold=None, sparsity=0.0, fine_tune_epochs=0, schedule="oneshot")],
                     sweep="scores", kind="scores")

if st.button(f"Queue {len(specs)} run(s)" if len(specs) != 1 else "Queue run", type="primary",
             disabled=not specs):
    sweep = time.strftime("sweep %Y-%m-%d %H:%M:%S") if len(specs) > 1 else None
    ui.queue(specs, sweep=sweep)
