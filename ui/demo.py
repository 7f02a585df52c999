"""The demo, offered on the pages: the bundled results to load or remove, and the demo sweep to
run."""

from __future__ import annotations

import streamlit as st

from prune_core.measured import DEMO_SWEEP_MINUTES
from prune_core.recipe.spec import RunSpec
from prune_core.results import demo
from ui import access
from ui.session import store
from ui.submission import queue


def demo_specs() -> list[RunSpec]:
    """The demo sweep: every criterion at 50 / 80 / 90 % on the default model and data, plus taylor
    removing whole channels (30 and 50 % of the FLOPs), the runs that move latency."""
    return [
        RunSpec.of(strategy=s, sparsity=p, scope="global")
        for s in ("magnitude", "taylor", "fisher", "random")
        for p in (0.5, 0.8, 0.9)
    ] + [
        RunSpec.of(strategy="taylor", sparsity=p, scope="global", granularity="structured")
        for p in (0.3, 0.5)
    ]


def demo_button(key: str) -> None:
    if st.button(
        "Run the demo sweep",
        type="primary",
        key=key,
        help="magnitude, taylor, fisher and random at 50, 80 and 90 % sparsity, and taylor "
        "removing "
        "whole channels (30 and 50 % of the FLOPs), on the compact EfficientNet and the bundled "
        f"digits (about {DEMO_SWEEP_MINUTES} minutes on 2 cores)",
    ):
        queue(demo_specs(), sweep="demo")


def demo_panel(key: str) -> None:
    """Offer the bundled demo results (an empty store: load them in one click) or their removal, to
    a visitor who may change the store (the local user, or an admin)."""
    jobs, who = store(), access.current()
    count = jobs.demo_count()
    if count:
        st.caption(
            f":material/info: {count} bundled demo result(s) are shown beside your own, marked "
            f"\u201c{demo.SWEEP}\u201d."
        )
        if who.owner_filter is None and st.button(
            "Remove the demo results",
            key=f"{key}-remove-demo",
            help="Deletes only the bundled demo results; your runs stay.",
        ):
            demo.remove(jobs)
            st.rerun()
    elif demo.available() and who.owner_filter is None:
        if st.button(
            "Load the demo results",
            key=f"{key}-load-demo",
            type="primary",
            help="14 real runs (every criterion at 50/80/90 %, channel removal with a TFLite "
            "export) and "
            "a five-criterion profile of the compact EfficientNet on digits, measured by this "
            "project's own commands. Marked as demo, removable in one click.",
        ):
            demo.load(jobs)
            st.rerun()
