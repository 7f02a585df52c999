"""Home: what the tool does and how to run a recipe today (the interactive pages come next)."""
import streamlit as st

from prune_core.schedules import seed_recipe
from prune_core.specs import CRITERIA, RunSpec

st.title("Pruning trade-offs")
st.write(
    "Shrink a Keras model by pruning, fine-tune it, and measure what it costs: top-1 before and after "
    "fine-tuning, parameters and nonzeros, FLOPs, file and gzip bytes, latency and throughput."
)
st.info("The interactive experiment, runs and compare pages are being built. Until then, run recipes "
        "from the command line; results are JSON Lines, one object per run.")
st.subheader("Run a sweep")
st.code("python -m prune_core sweep --strategies magnitude,gradient,taylor,fisher,random "
        "--sparsities 0.5,0.8,0.9 --out results.jsonl", language="bash")
st.subheader("Criteria")
st.write(", ".join(CRITERIA) + " — plus `tfmot`, TensorFlow Model Optimization's own recipe, as the reference.")
st.subheader("Default recipe")
st.json(RunSpec().to_dict())
schedule = seed_recipe()
st.caption(f"The seed's recipe: polynomial decay {schedule.initial_sparsity} → {schedule.final_sparsity} "
           f"between steps {schedule.begin_step} and {schedule.end_step}.")
