"""The Explore page's lower sections: every layer's allocation and sensitivity, and "Fine-tune this
point" (the page script keeps the profile, the sliders and the curves)."""

import streamlit as st

from prune_core.errors import PruneError
from prune_core.learn.glossary import GLOSSARY, HELP
from prune_core.results import explore, explore_plots
from ui.forms import EXPERIMENT_FORM
from ui.submission import queue
from ui.text import escape_md


def layers(profile, chosen: list, target: float, all_points, simple: bool) -> None:
    """Per-layer sparsity each ranking gives at the slider's target, and the sensitivity heatmap."""
    dense = profile.dense
    st.subheader("Layers")
    # a simple view keeps its first look light (two charts of every layer are the page's heaviest);
    # the full comparison shows them at once
    if st.toggle(
        "Show every layer: the allocation at the slider and each layer's sensitivity",
        value=not simple,
        key=f"explore_layers_{'simple' if simple else 'full'}",
        help="Per-layer sparsity each ranking gives at the slider's target, and the sensitivity "
        "heatmap: every layer pruned alone.",
    ):
        focus = st.selectbox("Criterion", chosen, key="explore_focus", help=HELP["explore_focus"])
        try:
            chosen_allocation = explore.allocation_for(profile, focus, target)
            table = explore.layer_table(profile, focus, target, chosen_allocation)
        except PruneError as exc:
            st.error(escape_md(str(exc).capitalize()))
        else:
            st.plotly_chart(explore_plots.allocation_bars(table), width="stretch")
            auto_top1 = all_points[
                (all_points["criterion"] == focus) & (all_points["scope"] == "auto")
            ]["top1"]
            st.caption(
                f"Per-layer sparsity at {target:.0%} overall. Automatic: the layers whose "
                "measured curves say removal is cheap give up more (a Lagrangian allocation over "
                "each layer's sensitivity curve, assuming the losses of single layers add up). "
                "Summing single-layer losses predicts a validation loss increase of "
                f"{chosen_allocation.predicted_loss_increase:.3f} and a top-1 drop of "
                f"{chosen_allocation.predicted_top1_drop:.1%}"
                + (
                    "; measured before fine-tuning, the whole allocation reaches top-1 "
                    f"{auto_top1.iloc[0]:.1%} "
                    f"(dense {dense['top1']:.1%}): layers interact."
                    if len(auto_top1)
                    else "."
                )
            )
        st.plotly_chart(
            explore_plots.sensitivity_heatmap(explore.sensitivity_frame(profile, focus)),
            width="stretch",
        )
        st.caption(
            "Each cell: this layer alone pruned to that sparsity by the criterion's scores, every "
            "other layer dense, no BatchNorm re-estimation; colour = validation top-1 lost."
        )


def fine_tune_point(base, chosen: list, channels, target: float, removed) -> None:
    """Queue the point under the sliders as an ordinary run (`removed`: the FLOPs slider, or None
    where no channel curve was measured)."""
    st.subheader("Fine-tune this point")
    f1, f2, f3, f4 = st.columns([1, 1, 1, 1])
    criterion = f1.selectbox(
        "Criterion", chosen, key="explore_ft_criterion", help=GLOSSARY["criterion (score)"]
    )
    rankings = ["auto", "global", "layerwise"] + (
        sorted(set(channels["scope"]), key=list(explore.CHANNEL_LABELS).index)
        if not channels.empty
        else []
    )
    scope = f2.selectbox(
        "Ranking",
        rankings,
        key="explore_ft_scope",
        format_func=lambda s: (
            explore.SCOPE_LABELS.get(s) or f"{explore.CHANNEL_LABELS[s]} (FLOPs slider)"
        ),
        help=HELP["finetune_scope"],
    )
    epochs = f3.number_input(
        "Fine-tune epochs",
        1,
        1000,
        value=EXPERIMENT_FORM["fine_tune_epochs"],
        key="explore_ft_epochs",
        help=HELP["finetune_epochs"],
    )
    if scope in explore.CHANNEL_LABELS:
        spec = base.with_(
            strategy=criterion,
            sparsity=round(removed, 4),
            scope=explore.CHANNEL_RECIPE_SCOPES[scope],
            granularity="structured",
            fine_tune_epochs=int(epochs),
            distill=EXPERIMENT_FORM["distill"],
        )
    else:
        spec = base.with_(
            strategy=criterion,
            sparsity=round(target, 4),
            scope=scope,
            fine_tune_epochs=int(epochs),
            distill=EXPERIMENT_FORM["distill"],
        )
    f4.write("")
    if f4.button("Queue this run", type="primary", width="stretch"):
        queue([spec])
    st.caption(
        f"**{escape_md(spec.label())}**, fine-tuned {int(epochs)} epochs: an ordinary run (Runs, "
        f"Compare, "
        "Run detail); when it completes, its fine-tuned accuracy appears on the curves above as a "
        "cross. Headless:"
    )
    st.code(spec.command(), language="bash")
