"""Helpers shared by the tests of prune_core.results: the schema-1 results, a frame of rows."""

import json

import pandas as pd

from prune_core.results import frame as results
from prune_core.results import plots
from tests.conftest import SCHEMA_1


def _old():
    return [json.loads(line) for line in SCHEMA_1.read_text().splitlines()]


def _df(rows):
    base = {c: None for c in results.COLUMNS}
    return pd.DataFrame([{**base, **r} for r in rows], columns=results.COLUMNS)


def _tradeoff(df, column: str):
    """The trade-off figure of `df` as one taylor · global series, on the `column` axis."""
    one_series = dict(strategy="taylor", scope="global", schedule="oneshot", sweep="s")
    fixed = dict(granularity="unstructured", rank="importance", achieved=0.5, hover="")
    return plots.tradeoff(df.assign(**one_series, **fixed), column)
