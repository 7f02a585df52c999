"""From a chart point or a table row to the page about that run."""

from __future__ import annotations

import streamlit as st

RUN_DETAIL = "app_pages/run_detail.py"


def selected_job(event, jobs: list | None = None) -> int | None:
    """The job a selection names: a chart point's `customdata` (its job id), or a table row's
    position in `jobs`; None when nothing is selected."""
    selection = (event or {}).get("selection") or {}
    for point in selection.get("points") or []:
        data = point.get("customdata")
        if isinstance(data, list):  # plotly sends a point's customdata as a list when it is one
            data = data[0] if data else None
        if data is not None:
            return int(data)
    rows = selection.get("rows") or []
    if rows and jobs is not None and 0 <= rows[0] < len(jobs):
        return int(jobs[rows[0]])
    return None


def open_selected(event, jobs: list | None = None) -> None:
    """Opens Run detail on the run a click selected (nothing when none is)."""
    job = selected_job(event, jobs)
    if job is not None:
        st.switch_page(RUN_DETAIL, query_params={"job": job})
