"""Tests for ui.text: a running job's progress line."""

from prune_core.recipe.spec import RunSpec


def test_a_running_jobs_progress_says_its_phase_and_the_time_left():
    import ui
    from prune_core.jobs.store import Job

    def job(progress):
        return Job(
            id=1,
            spec=RunSpec(),
            label="",
            sweep=None,
            status="running",
            created_at=0.0,
            started_at=None,
            finished_at=None,
            pid=None,
            cancel_requested=False,
            progress=progress,
            error=None,
            result_json=None,
        )

    fraction, text = ui.progress_text(
        job(
            {
                "phase": "fine-tuning",
                "step": 100,
                "steps": 400,
                "epoch": 3,
                "epochs": 8,
                "phase_seconds": 50.0,
            }
        )
    )
    assert fraction == 0.25 and "fine-tuning" in text and "about 2.5 min left in this phase" in text
    fraction, text = ui.progress_text(
        job({"phase": "loading baseline", "message": "using the cached baseline"})
    )
    assert fraction is None and text.startswith("loading baseline · using the cached baseline")


def test_sizes_are_in_decimal_units_like_the_charts():
    from ui.text import bytes_text

    assert [bytes_text(n) for n in (None, 999, 1000, 986_700, 1_200_000)] == [
        "–",
        "999 B",
        "1.0 kB",
        "986.7 kB",
        "1.2 MB",
    ]
