"""Streamlit helpers the pages share; never imports TensorFlow. This file only re-exports, so a page
reads `ui.queue(...)`, `ui.escape_md(...)`; each helper lives in the module of its concern:

- `access`: sign-in and who may act; `start_page`, every page's first call
- `session`: the job store and its completed runs, read once per change
- `forms`: form memory across pages
- `submission`: queueing (limits and files checked first), retry, export
- `demo`: the bundled demo results and the demo sweep
- `text`: escaped user text, sizes, durations, progress and result lines, a job's title
- `links`: a chart point or table row → its Run detail
- `inputs`: the model and dataset pickers (paths, or uploads in shared mode)
- `profiles`: what the Explore page reads from the store
- `explore_sections`: the Explore page's layer charts and "Fine-tune this point"
"""

from ui import access, explore_sections, inputs, profiles
from ui.access import start_page
from ui.demo import demo_button, demo_panel, demo_specs
from ui.forms import EXPERIMENT_FORM, init_form, save_form
from ui.inputs import (
    chosen_model_and_data,
    missing_input,
    model_and_data_inputs,
    pixels_input,
    show_what_was_read,
)
from ui.links import open_selected
from ui.session import (
    baseline_scores,
    completed_frame,
    completed_runs,
    shared_figure,
    store,
    tradeoff_chart,
)
from ui.submission import (
    baseline_note,
    queue,
    queue_export,
    report_submitted,
    resume_queue,
    retry,
    submit,
)
from ui.text import bytes_text, duration_text, escape_md, job_title, progress_text

__all__ = [
    "access",
    "explore_sections",
    "inputs",
    "profiles",
    "start_page",
    "demo_button",
    "demo_panel",
    "demo_specs",
    "EXPERIMENT_FORM",
    "init_form",
    "save_form",
    "chosen_model_and_data",
    "missing_input",
    "model_and_data_inputs",
    "pixels_input",
    "show_what_was_read",
    "baseline_scores",
    "completed_frame",
    "completed_runs",
    "shared_figure",
    "store",
    "tradeoff_chart",
    "baseline_note",
    "queue",
    "queue_export",
    "report_submitted",
    "resume_queue",
    "retry",
    "submit",
    "bytes_text",
    "duration_text",
    "escape_md",
    "progress_text",
    "job_title",
    "open_selected",
]
