"""Learn: what pruning does, one idea per section, each with a figure that moves. Small exact
examples (`prune_core.learn.lessons`) and this project's measured results; nothing is queued, no
TensorFlow."""

import numpy as np
import pandas as pd
import streamlit as st

import ui
from prune_core.errors import SpecError
from prune_core.learn import figures as lesson_plots
from prune_core.learn import lessons
from prune_core.learn.glossary import GLOSSARY, HELP
from prune_core.recipe.schedules import Schedule, aligned_end_step, seed_recipe
from prune_core.results import demo, plots


def learn_results() -> tuple[list, str]:
    """(run results, where they come from) for Learn's measured numbers: this dashboard's completed
    runs, else the bundled demo results straight from their files (no waiting, nothing stored)."""
    jobs = ui.completed_runs()
    if jobs:
        demos = sum(job.demo for job in jobs)
        return [job.run_result for job in jobs], (
            f"{len(jobs)} completed run(s) on this dashboard"
            + (f", {demos} of them bundled demo results" if demos else "")
        )
    return list(
        demo.runs()
    ), "the bundled demo results (compact EfficientNet on digits, measured by this project)"


ui.start_page()
state = st.session_state

st.title("Learn: what pruning does")
st.markdown(
    "##### Pruning removes the weights a trained network needs least, so the model gets smaller "
    "— and faster when whole channels go — while keeping as much of its accuracy as it can."
)
st.caption(
    "Five short sections, each with a figure you can move. The examples are small and exact; the "
    "measured numbers come from runs on this dashboard (or its bundled demo results). Nothing here "
    "starts a job."
)
results, source = learn_results()

# ---- 1
# ----------------------------------------------------------------------------------------------
st.header("1. Magnitude and a threshold")
weights, origin = lessons.lesson_weights()
x = lessons.sample_input(weights.shape[0])
largest = float(np.abs(weights).max())
threshold = st.slider(
    "Remove weights with |w| below",
    0.0,
    round(largest, 3),
    key="learn_threshold",
    value=round(float(np.median(np.abs(weights))), 3),
    step=round(largest / 200, 4) or 0.001,
    format="%.3f",
    help="Magnitude pruning: a weight close to zero contributes little, so it goes first.",
)
cut = lessons.threshold_cut(weights, threshold, x)
st.markdown(
    f"At **{threshold:.3f}**, **{cut['sparsity']:.0%}** of this layer's weights are zero, and "
    f"its output "
    f"on a sample input moves by **{cut['output_change']:.1%}** (relative L2): the smallest "
    f"weights carry the "
    "least, so the first ones removed cost little — and each further step costs more."
)
left, right = st.columns(2)
left.plotly_chart(
    lesson_plots.weights_heatmap(weights, cut["mask"], "weights kept (blank: removed)"),
    width="stretch",
    key="learn-weights",
)
right.plotly_chart(
    lesson_plots.outputs(cut["dense_output"], cut["pruned_output"]),
    width="stretch",
    key="learn-outputs",
)
st.caption(f"The weights: {origin}.")
st.page_link(
    "app_pages/experiment.py",
    label="Prune a whole model by magnitude (Experiment)",
    icon=":material/science:",
)

# ---- 2
# ----------------------------------------------------------------------------------------------
st.header("2. Gradient and Fisher information")
st.markdown(
    "Magnitude ignores how much the loss cares about a weight. Gradient criteria ask the loss. "
    "A worked example: two parameters whose Fisher information matrix is diag(10, 1); with a "
    "threshold of 5 on its eigenvalues, θ₂ is removed (1 < 5). The Fisher *saliency* this "
    "project uses, ½·F·w², is the loss a removal costs on the quadratic approximation of the "
    "loss — it looks at the weight too."
)


def _seed_example():
    seed = lessons.SEED_FISHER
    state.update(
        learn_w1=seed["w"][0],
        learn_w2=seed["w"][1],
        learn_f1=seed["fisher"][0],
        learn_f2=seed["fisher"][1],
        learn_fisher_threshold=seed["threshold"],
    )


if "learn_w1" not in state:
    _seed_example()
c = st.columns(5)
w1 = c[0].number_input(
    "w₁ (trained θ₁)", -10.0, 10.0, step=0.1, key="learn_w1", help=HELP["learn_w"]
)
w2 = c[1].number_input(
    "w₂ (trained θ₂)", -10.0, 10.0, step=0.1, key="learn_w2", help=HELP["learn_w"]
)
f1 = c[2].number_input("F₁₁", 0.0, 100.0, step=0.5, key="learn_f1", help=HELP["learn_f"])
f2 = c[3].number_input("F₂₂", 0.0, 100.0, step=0.5, key="learn_f2", help=HELP["learn_f"])
fisher_threshold = c[4].number_input(
    "Threshold", 0.0, 100.0, step=0.5, key="learn_fisher_threshold", help=HELP["learn_threshold"]
)
st.button(
    "The worked example: F = diag(10, 1), threshold 5",
    on_click=_seed_example,
    key="learn-seed-fisher",
)
choice = lessons.fisher_example((w1, w2), (f1, f2), fisher_threshold)
names = ["θ₁", "θ₂"]
st.dataframe(
    pd.DataFrame(
        {
            "parameter": names,
            "w": choice["w"],
            "Fisher F (eigenvalue)": choice["fisher"],
            f"threshold rule: F < {fisher_threshold:g}": [
                "removed" if i in choice["seed_removes"] else "kept" for i in range(2)
            ],
            "½·F·w² = loss if removed": choice["saliency"],
            "|w|": choice["magnitude"],
        }
    ),
    hide_index=True,
    placeholder="–",
    width="stretch",
)
seed_says = ", ".join(names[i] for i in choice["seed_removes"]) or "nothing"
st.markdown(
    f"- **Threshold rule** (eigenvalue below {fisher_threshold:g}) removes **{seed_says}**.\n"
    f"- **Fisher saliency** (remove one of two) removes **{names[choice['saliency_removes']]}**: "
    f"its removal "
    f"costs {choice['loss_if_removed'][choice['saliency_removes']]:.3g} of loss, the other "
    f"{choice['loss_if_removed'][1 - choice['saliency_removes']]:.3g}.\n"
    f"- **Magnitude** removes **{names[choice['magnitude_removes']]}** (the smaller |w|)"
    + (
        " — the same choice."
        if choice["magnitude_removes"] == choice["saliency_removes"]
        else f" — a different choice, costing "
        f"{choice['loss_if_removed'][choice['magnitude_removes']]:.3g} "
        "of loss instead."
    )
)
st.plotly_chart(
    lesson_plots.loss_contours(lessons.loss_surface((w1, w2), (f1, f2)), (w1, w2), choice),
    width="stretch",
    key="learn-contours",
)
st.page_link(
    "app_pages/explore.py",
    label="See every criterion's curve before fine-tuning on a real model (Explore)",
    icon=":material/tune:",
)

# ---- 3
# ----------------------------------------------------------------------------------------------
st.header("3. Single weights or whole channels")
share = st.slider(
    "Share removed",
    0.0,
    0.9,
    0.5,
    0.05,
    key="learn_share",
    format="percent",
    help=HELP["learn_share"],
)
cut = lessons.channel_cut(weights, share)
st.plotly_chart(lesson_plots.channel_pictures(weights, cut), width="stretch", key="learn-channels")
st.markdown(
    "Removing single weights leaves a matrix of the same shape with zeros in it: dense hardware "
    "multiplies "
    "by those zeros just as fast, so the model is smaller once compressed but not faster. "
    "Removing whole "
    "output channels leaves a smaller dense matrix — less work on any hardware (and the next layer "
    "loses the matching inputs)."
)
speed = lessons.speed_rows(results)
if speed:
    st.dataframe(
        pd.DataFrame(speed),
        hide_index=True,
        placeholder="–",
        width="stretch",
        column_config={
            "FLOPs speedup in theory": st.column_config.NumberColumn(format="%.2f×"),
            "measured speedup": st.column_config.NumberColumn(format="%.2f×"),
        },
    )
    st.caption(
        f"Measured: {source}. A speedup counts only when its whole band (lowest to highest "
        f"measurement "
        "round) leaves 1.0; 'within noise' means no measurable change."
    )
st.subheader("Patterns that hardware can use")
chosen = st.radio(
    "Pattern",
    ["2:4", "block:1x4", "block:4x1", "unstructured"],
    horizontal=True,
    key="learn_pattern",
    help=HELP["learn_pattern"],
)
st.plotly_chart(
    lesson_plots.pattern_heatmap(weights, lessons.pattern_cut(weights, chosen)),
    width="stretch",
    key="learn-pattern",
)
st.markdown(
    "Scattered zeros are hard for hardware to skip. **2:4** keeps two of every four consecutive "
    "inputs of "
    "each output (the outlined groups): NVIDIA's sparse tensor cores (A100, H100, RTX 30 and 40 "
    "series) "
    "multiply such a matrix about twice as fast, while this CPU and LiteRT treat it like any "
    "zeros. "
    "**Blocks** (1×4: one input, four neighbouring outputs) let sparse kernels skip whole "
    "vectors and "
    "store one index per block, so the file shrinks further once compressed."
)
st.page_link(
    "app_pages/compare.py",
    label="Accuracy against size and latency for every run (Compare)",
    icon=":material/scatter_plot:",
)

# ---- 4
# ----------------------------------------------------------------------------------------------
st.header("4. Schedules: prune gradually")
st.markdown(
    "Pruning everything at once (one-shot) can shock a network; tfmot's polynomial decay raises "
    "the "
    "sparsity step by step while fine-tuning recovers:"
)
st.latex(
    r"s(t) = s_f + (s_i - s_f)\left(1 - \frac{t - t_0}{t_1 - t_0}\right)^{p}, \quad t_0 \le t "
    r"\le t_1"
)


def _seed_schedule():
    seed = seed_recipe()
    state.update(
        learn_initial=seed.initial_sparsity,
        learn_final=seed.final_sparsity,
        learn_steps=(seed.begin_step, seed.end_step),
        learn_power=seed.power,
        learn_frequency=seed.frequency,
    )


if "learn_initial" not in state:
    _seed_schedule()
c = st.columns(3)
initial = c[0].slider(
    "Initial sparsity sᵢ",
    0.0,
    0.95,
    step=0.05,
    format="percent",
    key="learn_initial",
    help=HELP["learn_schedule"],
)
final = c[1].slider(
    "Final sparsity s_f",
    0.05,
    0.95,
    step=0.05,
    format="percent",
    key="learn_final",
    help=HELP["learn_schedule"],
)
power = c[2].slider("Power p", 0.5, 6.0, step=0.5, key="learn_power", help=HELP["learn_schedule"])
begin, end = c[0].slider(
    "Begin and end step t₀, t₁", 0, 4000, step=100, key="learn_steps", help=HELP["learn_schedule"]
)
frequency = c[1].select_slider(
    "Prune every (steps)",
    [10, 20, 50, 100, 200],
    key="learn_frequency",
    help=HELP["learn_schedule"],
)
c[2].button(
    "tfmot's polynomial recipe (0.5 → 0.8, steps 1000–2000)",
    on_click=_seed_schedule,
    key="learn-seed-schedule",
)
# The sliders can cross (initial above final, an end step between two pruning steps): the figure
# clamps them to the nearest valid schedule and says so, instead of showing a validation error.
taken = []
if initial > final:
    initial = final
    taken.append(f"initial sparsity taken as {final:.2f} (it may not exceed the final one)")
aligned = aligned_end_step(begin, max(end, begin + frequency), frequency)
if aligned != end:
    end = aligned
    taken.append(f"end step taken as {end} (a whole number of pruning intervals after the begin)")
try:
    schedule = Schedule(
        "polynomial",
        final_sparsity=final,
        initial_sparsity=initial,
        begin_step=begin,
        end_step=end,
        frequency=frequency,
        power=power,
    )
    steps, values = schedule.preview(end + 500)
    st.plotly_chart(plots.schedule_curve(steps, values), width="stretch", key="learn-schedule")
    st.caption(
        f"Masks are recomputed {schedule.count_pruning_steps(end + 500)} times, every "
        f"{frequency} steps from step {begin} to {end}; a higher power prunes harder early, while "
        "the network is still plastic."
        + (f" Shown with the {' and the '.join(taken)}." if taken else "")
    )
except SpecError as exc:
    st.error(ui.escape_md(str(exc).capitalize()))
st.page_link(
    "app_pages/experiment.py",
    label="Run a gradual schedule (Experiment → Schedule)",
    icon=":material/science:",
)

# ---- 5
# ----------------------------------------------------------------------------------------------
st.header("5. Train → prune → fine-tune → evaluate")
st.markdown(
    "The dense baseline is trained once. Pruning it costs accuracy — more the more is "
    "removed "
    "and the worse the criterion — and a few epochs of fine-tuning with the masks held usually "
    "win it back. "
    "Not always: a criterion that empties a layer the network needs leaves nothing for "
    "fine-tuning to "
    "recover (look for a solid line that stays low)."
)
rows = lessons.pipeline_rows(results)
if rows:
    st.plotly_chart(lesson_plots.before_after(rows), width="stretch", key="learn-pipeline")
    st.caption(
        f"Dotted: top-1 right after pruning (BatchNorm statistics re-estimated); solid: after "
        f"fine-tuning; "
        f"grey: the dense baseline. {source.capitalize()}."
    )
else:
    st.info(
        "No finished runs to show yet. Load the demo results on the Home page, or queue the demo "
        "sweep."
    )
st.page_link(
    "app_pages/runs.py",
    label="Follow runs as they train, prune and fine-tune (Runs)",
    icon=":material/pending_actions:",
)

# ---- glossary
# ---------------------------------------------------------------------------------------
with st.expander("Glossary", icon=":material/menu_book:"):
    st.markdown("\n".join(f"- **{term}** — {meaning}" for term, meaning in GLOSSARY.items()))
