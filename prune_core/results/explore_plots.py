"""The Explore page's figures: every criterion's one-shot curves, the layer-sensitivity heatmap and
the per-layer allocation (plotly from plain data; the page only calls and draws them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from prune_core.results.explore import CHANNEL_LABELS, SCOPE_LABELS
from prune_core.results.frame import AXES
from prune_core.results.plots import COLOURS

EXPLORE_DASH = {
    "auto": "solid",
    "global": "dot",
    "layerwise": "dash",
    "channels": "dashdot",
    "channels_auto": "longdash",
}
DASH_WORDS = {
    "solid": "solid",
    "dot": "dotted",
    "dash": "dashed",
    "dashdot": "dash-dot",
    "longdash": "long dashes",
}
#: What a line style (a point's label) means, in the legend's words.
STYLE_LABELS = {**SCOPE_LABELS, **CHANNEL_LABELS}
#: Slider points are labelled with their ranking and top-1 up to this many (more would overlap).
MAX_LABELLED = 5
EXPLORE_AXES = {
    "gzip_bytes": "model size: .h5 gzip bytes (measured)",
    "theoretical_speedup": "theoretical speedup (FLOPs, zeros skipped)",
    "litert_ms_predicted": "LiteRT latency, batch 1, 1 thread (ms, predicted by the per-layer "
    "table)",
    "sparsity": "weight sparsity (measured)",
}


def explore_curves(
    curves: pd.DataFrame,
    points: pd.DataFrame,
    x: str,
    *,
    dense: dict | None = None,
    finetuned: pd.DataFrame | None = None,
    y_range: tuple | None = None,
    dense_x: float | None = None,
):
    """One-shot top-1 against `x`: a colour per criterion, a dash per scope (channel removal
    dash-dot), the sliders' points marked on every line, and (when given) runs fine-tuned from the
    same baseline as crosses. Rows without `x` are left out; `dense_x` draws where the dense model
    (and every unstructured one, on dense kernels) sits on `x`. Built as one figure from plain
    dicts: a slider move redraws it, and trace-by-trace construction (`add_trace`, `add_hline`)
    costs several times more."""
    curves = curves.dropna(subset=[x]) if x in curves else curves.iloc[0:0]
    points = points.dropna(subset=[x]) if x in points else points.iloc[0:0]
    traces, named = [], set()
    for (criterion, scope), group in curves.groupby(["criterion", "scope"], sort=False):
        group = group.sort_values("level")
        name = f"{criterion} · {scope}"
        traces.append(
            dict(  # one legend entry per criterion (colour); the dash says the ranking
                type="scatter",
                x=group[x].tolist(),
                y=group["top1"].tolist(),
                mode="lines",
                name=criterion,
                legendgroup=criterion,
                showlegend=criterion not in named,
                line=dict(
                    color=COLOURS.get(criterion, "#17becf"),
                    dash=EXPLORE_DASH.get(scope, "solid"),
                    width=2,
                ),
                customdata=group["level"].tolist(),
                hovertemplate=f"{name}<br>"
                f"{'FLOPs removed' if scope in CHANNEL_LABELS else 'sparsity'} "
                "%{customdata:.0%}<br>top-1 before fine-tuning %{y:.3f}<br>x %{x:,.3f}"
                "<extra></extra>",
            )
        )
        named.add(criterion)
    for scope in [s for s in EXPLORE_DASH if s in set(curves["scope"])]:
        traces.append(  # the legend says what each line style means
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="lines",
                name=f"{DASH_WORDS[EXPLORE_DASH[scope]]}: {STYLE_LABELS[scope]}",
                legendgroup="styles",
                line=dict(color="gray", dash=EXPLORE_DASH[scope], width=2),
                hoverinfo="skip",
            )
        )
    if not points.empty:
        labelled = len(points) <= MAX_LABELLED
        traces.append(
            dict(
                type="scatter",
                x=points[x].tolist(),
                y=points["top1"].tolist(),
                mode="markers+text" if labelled else "markers",
                text=[
                    f"{STYLE_LABELS.get(scope, scope)}: {top1:.1%}"
                    for scope, top1 in zip(points["scope"], points["top1"])
                ]
                if labelled
                else None,
                textposition="top center",
                textfont=dict(size=11),
                name="at the slider" + (" (labelled)" if labelled else ""),
                hoverinfo="skip",
                marker=dict(
                    size=12,
                    color=[COLOURS.get(c, "#17becf") for c in points["criterion"]],
                    line=dict(color="black", width=1.5),
                ),
            )
        )
    finetuned = finetuned.dropna(subset=[x]) if finetuned is not None and x in finetuned else None
    if finetuned is not None and not finetuned.empty:
        traces.append(
            dict(
                type="scatter",
                x=finetuned[x].tolist(),
                y=finetuned["top1"].tolist(),
                mode="markers",
                name="fine-tuned run (measured, test split)",
                hovertext=finetuned["label"].tolist(),
                hoverinfo="text",
                marker=dict(
                    size=11,
                    symbol="x",
                    color=[COLOURS.get(c, "#17becf") for c in finetuned["strategy"]],
                ),
            )
        )
    shapes, notes = [], []
    if dense and dense.get("top1") is not None:
        shapes.append(
            dict(
                type="line",
                xref="paper",
                x0=0,
                x1=1,
                y0=dense["top1"],
                y1=dense["top1"],
                line=dict(color="gray", dash="dot"),
            )
        )
        notes.append(
            dict(
                xref="paper",
                x=1,
                y=dense["top1"],
                text="dense",
                showarrow=False,
                xanchor="right",
                yanchor="top",
            )
        )
    if dense_x is not None:
        shapes.append(
            dict(
                type="line",
                yref="paper",
                y0=0,
                y1=1,
                x0=dense_x,
                x1=dense_x,
                line=dict(color="gray", dash="dot"),
            )
        )
        notes.append(
            dict(
                yref="paper",
                y=0,
                x=dense_x,
                text="dense, and unstructured",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
            )
        )
    layout = dict(
        xaxis=dict(
            title=EXPLORE_AXES.get(x, AXES.get(x, x)),
            type="log" if x == "gzip_bytes" else None,
            tickformat=".0%" if x == "sparsity" else None,
        ),
        yaxis=dict(
            title="top-1 before fine-tuning (validation)",
            range=list(y_range) if y_range else None,
            tickformat=".0%",
        ),
        height=460,
        margin=dict(l=10, r=10, t=30, b=10),
        shapes=shapes,
        annotations=notes,
        legend=dict(orientation="h", y=-0.22, font=dict(size=11)),
    )
    return go.Figure(data=traces, layout=layout)


def sensitivity_heatmap(frame: pd.DataFrame):
    """Layers × levels, colour = top-1 drop when only that layer is pruned (hover: parameters,
    FLOPs)."""
    layers = list(dict.fromkeys(frame["layer"]))
    levels = sorted(frame["level"].unique())
    drop = (
        frame.pivot(index="layer", columns="level", values="top1_drop").reindex(layers).to_numpy()
    )
    loss = (
        frame.pivot(index="layer", columns="level", values="loss_increase")
        .reindex(layers)
        .to_numpy()
    )
    info = frame.drop_duplicates("layer").set_index("layer").reindex(layers)
    custom = np.stack(
        [
            np.repeat(info[["params"]].to_numpy(float), len(levels), axis=1),
            np.repeat(info[["flops"]].to_numpy(float), len(levels), axis=1),
            loss,
        ],
        axis=-1,
    )
    heat = dict(
        type="heatmap",
        z=drop,
        x=[f"{lv:.0%}" for lv in levels],
        y=layers,
        customdata=custom,
        colorscale="Reds",
        zmin=0,
        zmax=max(0.05, float(np.nanmax(drop))),
        colorbar=dict(title="top-1 drop"),
        hovertemplate="%{y} pruned to %{x}<br>top-1 drop %{z:.3f}<br>loss +%{customdata[2]:.3f}"
        "<br>%{customdata[0]:,.0f} parameters · %{customdata[1]:,.0f} FLOPs<extra></extra>",
    )
    return go.Figure(
        data=[heat],
        layout=dict(
            xaxis=dict(title="this layer's sparsity (all others dense)", type="category"),
            yaxis=dict(autorange="reversed", dtick=1, tickfont=dict(size=10)),
            height=max(320, 18 * len(layers)),
            margin=dict(l=10, r=10, t=10, b=10),
        ),
    )


def allocation_bars(table: pd.DataFrame):
    """Per-layer sparsity under each scope at one overall sparsity."""
    bars = []
    for scope, colour in (("layerwise", "#bbbbbb"), ("global", "#7f7f7f"), ("auto", "#2ca02c")):
        if scope in table and table[scope].notna().any():
            bars.append(
                dict(
                    type="bar",
                    x=table["layer"].tolist(),
                    y=table[scope].to_numpy(float),
                    name=SCOPE_LABELS[scope],
                    marker=dict(color=colour),
                    customdata=table["params"].to_numpy(float),
                    hovertemplate="%{x}: %{y:.1%} of %{customdata:,.0f} weights<extra>"
                    f"{SCOPE_LABELS[scope]}</extra>",
                )
            )
    return go.Figure(
        data=bars,
        layout=dict(
            barmode="group",
            yaxis=dict(title="layer sparsity", range=[0, 1]),
            height=340,
            margin=dict(l=10, r=10, t=10, b=10),
            legend=dict(orientation="h", y=1.1),
        ),
    )
