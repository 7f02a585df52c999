"""Form memory: a page's fields keep their values while the visitor is on another page."""

from __future__ import annotations

import copy

import streamlit as st

from prune_core.measured import BEST_DISTILL, BEST_SCOPE, BEST_STRATEGY, DEFAULT_SPARSITIES

#: The Experiment form's fields and their defaults: the best measured recipe
#: (`prune_core.measured`).
#: Their values live in session state, so they survive a visit to another page.
EXPERIMENT_FORM = {
    "model_choice": "efficientnet-compact",
    "dataset_choice": "digits",
    "granularity": "unstructured",
    "strategies": [BEST_STRATEGY],
    "budget": "flops",
    "channel_multiple": 1,
    "mode": "target sparsity",
    "sparsities": ", ".join(f"{s:.0%}" for s in DEFAULT_SPARSITIES),
    "thresholds": "1e-3",
    "scope": BEST_SCOPE,
    "latency_aware": False,
    "schedule": "oneshot",
    "initial_sparsity": 0.0,
    "power": 3.0,
    "begin_step": 0,
    "end_step": 200,
    "frequency": 20,
    "fine_tune_epochs": 8,
    "learning_rate": 1e-3,
    "reconstruct": False,
    "distill": BEST_DISTILL,
    "temperature": 4.0,
    "seed": 0,
    "export": False,
    "pattern": "unstructured",
    "pattern_text": "3:8",
    "rigl": False,
    "combined": False,
    "then_sparsity": 0.5,
    "regrow_fraction": 0.3,
    "regrow_every": 100,
}


def init_form(name: str, defaults: dict) -> None:
    """Give every field of form `name` its value before its widgets are drawn: the one this session
    last saw (`save_form`), else the default. Streamlit drops a widget's value while its page is not
    shown; the copy under a plain session key survives the visit to another page."""
    saved = st.session_state.get(f"form:{name}", {})
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = copy.copy(saved.get(key, value))


def save_form(name: str, defaults: dict) -> None:
    """Keep the current values of form `name` (call after its widgets are drawn)."""
    st.session_state[f"form:{name}"] = {
        k: st.session_state[k] for k in defaults if k in st.session_state
    }
