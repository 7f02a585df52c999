"""Plotly figures from plain data (pure functions; the pages only call and draw them)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from prune_core.results.demo import SWEEP as DEMO_SWEEP
from prune_core.results.deployment import FORMATS
from prune_core.results.frame import AXES, band, pareto_mask

#: One colour per strategy, the same on every chart.
COLOURS = {
    "magnitude": "#1f77b4",
    "gradient": "#ff7f0e",
    "taylor": "#2ca02c",
    "fisher": "#d62728",
    "random": "#e377c2",  # not grey: grey is the dense model on every chart
    "tfmot": "#9467bd",
    "wanda": "#8c564b",
}


#: Axes that are shares of a whole (drawn in percent).
FRACTIONS = {"achieved", "weight_sparsity", "params_removed", "budget_removed", "target"}

SCOPE_MARKER = {"layerwise": "circle", "global": "diamond"}
SCOPE_DASH = {"layerwise": "solid", "global": "dot"}


def tradeoff(
    df: pd.DataFrame,
    x: str,
    y: str = "top1",
    dense: dict | None = None,
    log_x: bool = False,
    y_range: tuple | None = None,
):
    """Accuracy against one cost axis: a line per sweep, a colour per strategy, the Pareto front
    dashed, the dense baseline as a star and a dotted line. `y_range`: the accuracy axis's range
    (default: plotly's own)."""
    fig = go.Figure()
    bounds = band(df, x)  # a measured latency's band: error bars, and ties within it on the front
    shown = set()
    # One line per sweep and recipe variant; colour = strategy, marker = ranking scope.
    keys = [
        "strategy",
        "scope",
        "schedule",
        "sweep",
        "granularity",
        "rank",
        "budget",
        "pattern",
        "regrow",
    ]
    # Only the columns drawn: a run's frame has ~100, and grouping and sorting string columns
    # of all of them was most of a Compare page's time (profiled under a class of sessions).
    drawn = dict.fromkeys([*keys, x, y, "achieved", "hover", "job", *(bounds or ())])
    data = df[[c for c in drawn if c in df]].dropna(subset=[x, y])
    for (
        strategy,
        scope,
        schedule,
        sweep,
        granularity,
        rank,
        budget,
        pattern,
        regrow,
    ), group in data.fillna({k: "" for k in keys}).groupby(keys):
        group = group.sort_values("achieved")
        name = (
            f"{strategy} · {scope}"
            + (f" · channels ({budget})" if granularity == "structured" else "")
            + (f" · {pattern}" if pattern not in ("", "unstructured") else "")
            + (f" · {regrow}" if regrow not in ("", "none") else "")
            + (" · latency-aware" if rank == "latency" else "")
            + ("" if schedule == "oneshot" else f" · {schedule}")
            + (" · demo" if sweep == DEMO_SWEEP else "")
        )
        fig.add_trace(
            go.Scatter(
                x=group[x].to_numpy(dtype=float),  # arrays: plotly reads a Series far slower
                y=group[y].to_numpy(dtype=float),
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=name not in shown,
                line=dict(
                    color=COLOURS.get(strategy, "#17becf"), dash=SCOPE_DASH.get(scope, "solid")
                ),
                marker=dict(size=9, symbol=SCOPE_MARKER.get(scope, "circle")),
                error_x=_error_bars(group, x, bounds),
                hovertext=group["hover"].tolist(),
                hoverinfo="text",
                customdata=group["job"].tolist(),  # a click opens this run's detail
            )
        )
        shown.add(name)
    front = data.iloc[0:0]
    if len(data) >= 2:
        reference = (dense.get(x), dense.get("top1")) if dense else None
        front = data[pareto_mask(data, x, y, reference=reference)].sort_values(x)
    if len(front):
        fig.add_trace(
            go.Scatter(
                x=front[x].to_numpy(dtype=float),
                y=front[y].to_numpy(dtype=float),
                mode="lines+markers",
                name="Pareto front",
                hoverinfo="skip",
                line=dict(color="rgba(0,0,0,0.55)", dash="dash", width=2),
                marker=dict(size=15, symbol="circle-open", color="rgba(0,0,0,0.55)"),
            )
        )
    if dense and dense.get(y if y != "top1" else "top1") is not None:
        fig.add_hline(
            y=dense["top1"],
            line=dict(color="gray", dash="dot"),
            annotation_text="dense",
            annotation_position="bottom right",
        )
        if dense.get(x) is not None:
            fig.add_trace(
                go.Scatter(
                    x=[dense[x]],
                    y=[dense["top1"]],
                    mode="markers",
                    name="dense baseline",
                    marker=dict(symbol="star", size=14, color="black"),
                )
            )
    fig.update_layout(
        xaxis_title=AXES.get(x, x),
        yaxis_title=AXES.get(y, y),
        height=420,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", y=-0.25),
        hoverlabel=dict(font_size=11),
        yaxis_range=list(y_range) if y_range else None,
    )
    below = data[data[y] < y_range[0]] if y_range else data.iloc[0:0]
    if len(below):
        fig.add_annotation(
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            text=f"▼ {len(below)} run(s) below this axis "
            f"({', '.join(f'{v:.1%}' for v in below[y])}): "
            "see the full axis",
            font=dict(size=11, color="#b22222"),
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.update_xaxes(exponentformat="power")
    if x in FRACTIONS:  # every share reads in percent, on every page
        fig.update_xaxes(tickformat=".0%")
    if y == "top1":
        fig.update_yaxes(tickformat=".1%" if y_range and y_range[1] - y_range[0] < 0.1 else ".0%")
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def _error_bars(group: pd.DataFrame, x: str, bounds) -> dict | None:
    """Horizontal error bars from a band's (low, high) columns (none where a run has no band)."""
    if bounds is None:
        return None
    low, high = group[bounds[0]], group[bounds[1]]
    return dict(
        type="data",
        symmetric=False,
        array=(high - group[x]).clip(lower=0).fillna(0).tolist(),
        arrayminus=(group[x] - low).clip(lower=0).fillna(0).tolist(),
        thickness=1.2,
        width=3,
    )


def schedule_curve(steps: list, values: list, steps_per_epoch: int | None = None):
    """The sparsity the masks will hold at each fine-tune step."""
    fig = go.Figure(
        go.Scatter(
            x=steps, y=values, mode="lines", line=dict(shape="hv", color="#1f77b4"), name="sparsity"
        )
    )
    # a line per epoch, while they are few
    if steps_per_epoch and steps and steps[-1] / steps_per_epoch <= 50:
        for epoch_end in range(steps_per_epoch, (steps[-1] if steps else 0) + 1, steps_per_epoch):
            fig.add_vline(x=epoch_end, line=dict(color="lightgray", width=1))
    fig.update_layout(
        xaxis_title="fine-tune step",
        yaxis_title="sparsity",
        yaxis_range=[0, 1],
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
    )
    return fig


def histogram(summary: dict, threshold: float | None = None, title: str = ""):
    """A log-scale histogram from `metrics.distribution`'s summary, with an optional threshold
    line."""
    edges, counts = summary.get("hist_edges", []), summary.get("hist_counts", [])
    centers = [(a * b) ** 0.5 for a, b in zip(edges[:-1], edges[1:])]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure(
        go.Bar(x=centers, y=counts, width=widths, marker_color="#1f77b4", name="weights")
    )
    if threshold is not None and threshold > 0:
        fig.add_vline(x=threshold, line=dict(color="red", dash="dash"), annotation_text="threshold")
    zeros = summary.get("zeros", 0)
    text = title + (f"<br><sup>{zeros:,} exact zeros not shown</sup>" if zeros else "")
    fig.update_layout(
        title=dict(text=text, font=dict(size=14)),
        height=300,
        margin=dict(l=10, r=10, t=50 if zeros else (30 if title else 10), b=10),
        bargap=0,
        xaxis_title="value (log scale)",
        yaxis_title="count",
    )
    fig.update_xaxes(type="log", exponentformat="power")  # 10⁻¹⁵, not SI prefixes such as "1f"
    return fig


def training_curves(history: list):
    df = pd.DataFrame(history)
    fig = go.Figure()
    if not df.empty:
        fig.add_trace(go.Scatter(x=df["epoch"], y=df["loss"], name="loss", yaxis="y1"))
        fig.add_trace(
            go.Scatter(x=df["epoch"], y=df["accuracy"], name="train accuracy", yaxis="y2")
        )
    fig.update_layout(
        xaxis_title="epoch",
        yaxis=dict(title="loss"),
        yaxis2=dict(
            title="train accuracy", overlaying="y", side="right", range=[0, 1.02], dtick=0.2
        ),
        height=300,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", y=1.12, x=1, xanchor="right"),
    )
    return fig


def layer_bars(values: dict, title: str = "sparsity"):
    """One bar per layer (its sparsity, or for channel pruning the share of its channels removed),
    every layer named under its bar and on hover."""
    names = list(values)
    fig = go.Figure(
        go.Bar(
            y=names,
            x=[values[n] for n in names],
            orientation="h",
            marker_color="#1f77b4",
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=dict(title=title, range=[0, 1], tickformat=".0%", side="top"),
        height=max(320, 16 * len(names) + 60),
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(
            tickmode="array",
            tickvals=names,
            ticktext=names,
            autorange="reversed",
            tickfont=dict(size=10),
            automargin=True,
        ),
    )
    return fig


def format_sizes(deployment):
    """Bytes and gzip bytes of each exported format, side by side (`result.Deployment`)."""
    present = [f for f in FORMATS if deployment.get(f.key, "bytes") is not None]
    labels = [f.label for f in present]
    fig = go.Figure(
        [
            go.Bar(
                name="file",
                x=labels,
                y=[deployment.get(f.key, "bytes") for f in present],
                marker_color="#1f77b4",
            ),
            go.Bar(
                name="gzip",
                x=labels,
                y=[deployment.get(f.key, "gzip_bytes") for f in present],
                marker_color="#2ca02c",
            ),
        ]
    )
    fig.update_layout(
        barmode="group", yaxis_title="bytes", height=300, margin=dict(l=10, r=10, t=10, b=10)
    )
    return fig
