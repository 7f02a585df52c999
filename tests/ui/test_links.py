"""Tests for ui/links.py: which run a chart click or a table row names."""

from ui.links import selected_job


def test_a_chart_point_names_its_job_through_customdata():
    event = {"selection": {"points": [{"x": 1.2, "y": 0.8, "customdata": 7}]}}
    assert selected_job(event) == 7
    assert selected_job({"selection": {"points": [{"customdata": [9]}]}}) == 9


def test_a_table_row_names_the_job_in_that_row():
    event = {"selection": {"rows": [1], "columns": []}}
    assert selected_job(event, [4, 5, 6]) == 5
    assert selected_job(event) is None  # no jobs to index


def test_nothing_selected_opens_nothing():
    assert selected_job(None) is None
    assert selected_job({"selection": {"points": [], "rows": []}}, [1]) is None
    assert selected_job({"selection": {"points": [{"x": 1}]}}) is None  # the dense star
    assert selected_job({"selection": {"rows": [5]}}, [1]) is None
