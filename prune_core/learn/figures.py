"""The Learn page's figures, from `prune_core.learn.lessons`' numbers (plotly only; built from plain
dicts so a slider move redraws at once)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from prune_core.results.plots import COLOURS

_MARGIN = dict(l=10, r=10, t=40, b=10)


def _cells(matrix: np.ndarray, keep: np.ndarray | None = None) -> list:
    """Heatmap values: removed cells as None (drawn blank)."""
    values = matrix.astype(float).copy()
    if keep is not None:
        values = np.where(keep, values, np.nan)
    return [[None if np.isnan(v) else v for v in row] for row in values]


def weights_heatmap(weights: np.ndarray, keep: np.ndarray, title: str):
    limit = float(np.abs(weights).max())
    heat = dict(
        type="heatmap",
        z=_cells(weights, keep),
        colorscale="RdBu",
        zmid=0,
        zmin=-limit,
        zmax=limit,
        xgap=1,
        ygap=1,
        colorbar=dict(title="w"),
        hovertemplate="input %{y}, output %{x}<br>w = %{z:.4f}<extra></extra>",
    )
    return go.Figure(
        data=[heat],
        layout=dict(
            title=dict(text=title, font=dict(size=14)),
            height=380,
            margin=_MARGIN,
            plot_bgcolor="#eeeeee",
            xaxis=dict(title="output channel", dtick=1, showgrid=False),
            yaxis=dict(title="input channel", dtick=1, autorange="reversed", showgrid=False),
        ),
    )


def pattern_heatmap(weights: np.ndarray, cut: dict):
    """The kernel with a pattern's removed cells blank and its groups outlined (N:M: every M inputs
    of each output; blocks: H inputs × W outputs)."""
    pattern = cut["pattern"]
    fig = weights_heatmap(weights, cut["keep"], f"{pattern}: {cut['sparsity']:.0%} removed")
    rows, cols = weights.shape
    step_y = (
        pattern.m if pattern.kind == "n:m" else pattern.height if pattern.kind == "block" else 0
    )
    step_x = pattern.width if pattern.kind == "block" else 1 if pattern.kind == "n:m" else 0
    line = dict(color="#222", width=2)
    for y in range(step_y, rows, step_y) if step_y > 1 else ():
        fig.add_shape(type="line", x0=-0.5, x1=cols - 0.5, y0=y - 0.5, y1=y - 0.5, line=line)
    for x in range(step_x, cols, step_x) if step_x > 1 else ():
        fig.add_shape(type="line", x0=x - 0.5, x1=x - 0.5, y0=-0.5, y1=rows - 0.5, line=line)
    return fig


def outputs(dense: np.ndarray, pruned: np.ndarray):
    """The layer's 16 outputs on the sample input, dense and pruned."""
    index = list(range(len(dense)))
    return go.Figure(
        data=[
            dict(
                type="bar",
                x=index,
                y=list(map(float, dense)),
                name="dense",
                marker=dict(color="#bbbbbb"),
            ),
            dict(
                type="bar",
                x=index,
                y=list(map(float, pruned)),
                name="pruned",
                marker=dict(color="#1f77b4"),
            ),
        ],
        layout=dict(
            barmode="group",
            height=300,
            margin=_MARGIN,
            title=dict(text="outputs on a sample input", font=dict(size=14)),
            xaxis=dict(title="output channel", dtick=1),
            yaxis=dict(title="value"),
            legend=dict(orientation="h", y=1.12, x=1, xanchor="right"),
        ),
    )


def loss_contours(surface: dict, w, choices: dict):
    """The quadratic loss increase around the trained weights, with the two one-parameter
    removals."""
    points = [
        ("trained weights", w[0], w[1], "black", "star"),
        (f"θ₁ removed: loss +{choices['loss_if_removed'][0]:.3g}", 0.0, w[1], "#d62728", "x"),
        (f"θ₂ removed: loss +{choices['loss_if_removed'][1]:.3g}", w[0], 0.0, "#1f77b4", "x"),
    ]
    traces = [
        dict(
            type="contour",
            x=surface["theta1"].tolist(),
            y=surface["theta2"].tolist(),
            z=surface["loss"].tolist(),
            colorscale="Blues",
            reversescale=True,
            showscale=False,
            opacity=0.8,
            contours=dict(showlabels=True, labelfont=dict(size=10)),
            ncontours=14,
            hoverinfo="skip",
        )
    ]
    for name, x, y, colour, symbol in points:
        traces.append(
            dict(
                type="scatter",
                x=[x],
                y=[y],
                mode="markers",
                name=name,
                marker=dict(
                    size=15, color=colour, symbol=symbol, line=dict(color="white", width=1)
                ),
                hoverinfo="text",
                hovertext=name,
            )
        )
    return go.Figure(
        data=traces,
        layout=dict(
            height=420,
            margin=_MARGIN,
            title=dict(text="loss increase ΔL = ½·F₁₁(θ₁−w₁)² + ½·F₂₂(θ₂−w₂)²", font=dict(size=14)),
            legend=dict(orientation="h", y=-0.18),
            xaxis=dict(title="θ₁", zeroline=True, zerolinecolor="#888"),
            yaxis=dict(title="θ₂", zeroline=True, zerolinecolor="#888"),
        ),
    )


def channel_pictures(weights: np.ndarray, cut: dict):
    """Scattered zeros (same shape) beside whole output channels removed (a narrower matrix)."""
    from plotly.subplots import make_subplots

    rows, cols = cut["smaller_shape"]
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[16, max(cols, 1)],
        horizontal_spacing=0.08,
        subplot_titles=(
            f"single weights: {weights.shape[0]}×{weights.shape[1]}, zeros scattered",
            f"whole channels: {rows}×{cols}, dense",
        ),
    )
    limit = float(np.abs(weights).max())
    common = dict(
        colorscale="RdBu", zmid=0, zmin=-limit, zmax=limit, xgap=1, ygap=1, showscale=False
    )
    fig.add_trace(
        go.Heatmap(
            z=_cells(weights, cut["scattered_mask"]),
            **common,
            hovertemplate="input %{y}, output %{x}<br>w = %{z:.4f}<extra></extra>",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Heatmap(
            z=_cells(cut["smaller"]),
            x=[str(c) for c in cut["kept_channels"]],
            **common,
            hovertemplate="input %{y}, output %{x}<br>w = %{z:.4f}<extra></extra>",
        ),
        1,
        2,
    )
    fig.update_yaxes(autorange="reversed", dtick=1, showgrid=False)
    fig.update_xaxes(showgrid=False)
    fig.update_xaxes(type="category", row=1, col=2)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="#eeeeee")
    return fig


def before_after(rows: list):
    """Top-1 before and after fine-tuning against the amount pruned, a colour per strategy."""
    traces, shown = [], set()
    for strategy in sorted({r["strategy"] for r in rows}):
        mine = sorted((r for r in rows if r["strategy"] == strategy), key=lambda r: r["amount"])
        colour = COLOURS.get(strategy, "#17becf")
        for key, dash, label in (
            ("top1_before", "dot", "before fine-tuning"),
            ("top1", "solid", "after fine-tuning"),
        ):
            traces.append(
                dict(
                    type="scatter",
                    x=[r["amount"] for r in mine],
                    y=[r[key] for r in mine],
                    mode="lines+markers",
                    name=f"{strategy} · {label}",
                    legendgroup=strategy,
                    line=dict(color=colour, dash=dash),
                    marker=dict(size=8),
                    hovertemplate=f"{strategy}, {label}<br>%{{x:.0%}} removed<br>top-1 %{{y:.3f}}"
                    "<extra></extra>",
                )
            )
        shown.add(strategy)
    dense = [r["dense"] for r in rows if r.get("dense") is not None]
    shapes = (
        [
            dict(
                type="line",
                xref="paper",
                x0=0,
                x1=1,
                y0=dense[0],
                y1=dense[0],
                line=dict(color="gray", dash="dot"),
            )
        ]
        if dense
        else []
    )
    return go.Figure(
        data=traces,
        layout=dict(
            height=420,
            margin=_MARGIN,
            shapes=shapes,
            xaxis=dict(title="weights removed", tickformat=".0%"),
            yaxis=dict(title="test top-1", tickformat=".0%"),
            legend=dict(orientation="h", y=-0.25, font=dict(size=11)),
        ),
    )
