"""Small helpers the Streamlit pages share: the job store, submitting, formatting.
Streamlit-side only; never imports TensorFlow."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import streamlit as st

from prune_core.jobs import dispatcher
from prune_core.jobs.store import JobStore, db_path
from prune_core.recipe.spec import RunSpec
from ui import access

_routed = {"checked": False}


def start_page():
    """The first call of every page: route it through app.py and let only a permitted visitor in
    (`access.gate`). Returns the visitor."""
    through_router()
    return access.gate()


def through_router() -> None:
    """Run this page through app.py's navigation. Streamlit treats an app with a `pages/` folder as a
    legacy multipage app until its entry point has run once in this server process: a first request
    for `/compare` on a fresh server would run pages/compare.py alone, with the legacy sidebar and no
    page config. Marking the app as navigation-based and rerunning sends the request through app.py,
    which resolves `/compare` itself. Checked once per process (the flag then stays set)."""
    from streamlit.runtime.pages_manager import PagesManager

    if _routed["checked"]:
        return
    _routed["checked"] = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@])")


def escape_md(text) -> str:
    """User text (paths, sweep names, error messages that quote them) as literal Markdown: no links,
    emphasis, code spans, LaTeX or Streamlit directives can come out of a folder or file name."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
                "completed": ":material/check_circle:", "failed": ":material/error:",
                "canceled": ":material/cancel:", "interrupted": ":material/warning:"}


@st.cache_resource(show_spinner=False)
def _store(path: str) -> JobStore:
    return JobStore(Path(path))


def store() -> JobStore:
    """The job store of this $PRUNE_HOME, opened once per server process (each call opens its own
    short-lived SQLite connection, so one store object serves every session)."""
    return _store(str(db_path()))


@st.cache_data(max_entries=4, show_spinner=False)
def _completed_frame(path: str, fingerprint: tuple):
    from prune_core.results import frame as results

    return results.frame(_completed_runs(path, fingerprint, ("run",)))


def completed_frame():
    """Every completed run as a DataFrame (from the same parsed runs as `completed_runs`); re-read only
    when the set of completed jobs changes."""
    jobs = store()
    return _completed_frame(str(jobs.path), jobs.fingerprint())


@st.cache_resource(max_entries=4, show_spinner=False)
def _completed_runs(path: str, fingerprint: tuple, kinds: tuple) -> list:
    from prune_core.errors import ResultError

    jobs = []
    for job in JobStore(Path(path)).list(status=("completed",)):
        if job.kind not in kinds or not job.result_json:
            continue
        try:
            job.profile if job.kind == "profile" else job.run_result  # parsed once, kept with the job
        except (ResultError, ValueError):
            continue
        jobs.append(job)
    return jobs


def completed_runs(kinds: tuple = ("run",)) -> list:
    """Completed jobs of `kinds` whose result reads as a `RunResult` (a `Profile` for profile jobs;
    others are left out, never a traceback). Scoring runs made for the threshold preview are kind "scores", not results to compare.
    Read again only when the set of completed jobs changes."""
    jobs = store()
    return _completed_runs(str(jobs.path), jobs.fingerprint(), tuple(kinds))


def check_inputs(specs: list[RunSpec]) -> None:
    """What the jobs would refuse about a user's files, checked before anything is queued (no
    TensorFlow): the path under the configured roots, every image of a folder dataset, and a model
    file's config against the allow-lists.
    Raises the PruneError a job would fail with."""
    from prune_core.data import datasets as data, model_files
    from prune_core.serving import limits

    for value in sorted({s.baseline.dataset for s in specs if s.baseline.dataset.startswith("folder:")}):
        limits.check_path(value[len("folder:"):], "image folder")
        data.check_folder(value[len("folder:"):])
    for value in sorted({s.baseline.model for s in specs if s.baseline.model.startswith("file:")}):
        limits.check_path(value[len("file:"):], "model file")
        path = model_files.checked_path(value[len("file:"):])
        model_files.check_config(model_files.read_config(path), path.name)


def submit(specs: list[RunSpec], sweep: str | None = None, kind: str = "run") -> tuple[list[int], dict]:
    """Queue recipes and make sure a dispatcher is draining the queue. A recipe already queued,
    running or submitted in the last two minutes is not queued again; a submission over the limits
    (`prune_core.serving.limits`), or a user's image folder or model file that a job would refuse, is refused
    here, and nothing is queued (PruneError). Returns (new job
    ids, {recipe label: id of the job that already has it})."""
    jobs, who = store(), access.current()
    _check_limits(len(specs))
    check_inputs(specs)
    ids, skipped = [], {}
    for spec in specs:
        existing = jobs.duplicate_of(spec, kind=kind)
        if existing is not None:
            skipped[spec.label()] = existing
        else:
            ids.append(jobs.submit(spec, sweep, kind, owner=who.name))
    if ids:
        resume_queue()
    return ids, skipped


def _check_limits(new: int) -> None:
    """Refuse `new` jobs over the queue's limits, counting this visitor's own waiting jobs in shared mode."""
    from prune_core.serving import limits

    jobs, who = store(), access.current()
    mine = jobs.counts(who.name).get("queued", 0) if who.owner_filter is not None else None
    limits.check_submission(new, jobs.counts().get("queued", 0), mine)


def queue_export(job) -> None:
    """Queue the deployment export of a completed run (its owner's, or an admin's; within the limits)."""
    from prune_core.errors import AccessError

    who = access.current()
    if not who.may_manage(job.owner):
        raise AccessError(f"job {job.id} belongs to {job.owner or 'the server'}; only they or an admin can export it")
    _check_limits(1)
    store().submit_export(job.id, owner=who.name)
    resume_queue()


def retry(job_id: int) -> int:
    """Queue a finished job again (its owner, or an admin; within the limits)."""
    who = access.current()
    _check_limits(1)
    new = store().retry(job_id, only_owner=who.owner_filter)
    resume_queue()
    return new


def queue(specs: list[RunSpec], sweep: str | None = None, kind: str = "run") -> bool:
    """Submit and say what happened on the page: what was queued, or why nothing was."""
    from prune_core.errors import PruneError

    try:
        ids, skipped = submit(specs, sweep, kind)
    except PruneError as exc:
        st.error(f"Nothing was queued: {escape_md(exc)}")
        return False
    report_submitted(ids, skipped)
    return bool(ids)


def report_submitted(ids: list[int], skipped: dict) -> None:
    """Say what was queued (and what was not, because it already is), with a link to follow it."""
    if ids:
        st.success(f"Queued {len(ids)} job(s): {', '.join(map(str, ids))}.")
    if skipped:
        st.warning("Already queued or just submitted, so not queued again: "
                   + "; ".join(f"{escape_md(label)} (job {job})" for label, job in skipped.items()) + ".")
    st.page_link("app_pages/runs.py", label="Follow them on the Runs page", icon=":material/pending_actions:")


#: The Experiment form's fields and their defaults: the best measured recipe (taylor, global ranking;
#: README engine benchmark). Their values live in session state, so they survive a visit to another page.
EXPERIMENT_FORM = {
    "model_choice": "efficientnet-compact", "model_path": "", "dataset_choice": "digits", "dataset_path": "",
    "granularity": "unstructured", "strategies": ["taylor"], "budget": "flops", "channel_multiple": 1,
    "mode": "target sparsity", "sparsities": "0.5, 0.8", "thresholds": "1e-3", "scope": "global",
    "latency_aware": False, "schedule": "oneshot", "initial_sparsity": 0.0, "power": 3.0, "begin_step": 0,
    "end_step": 200, "frequency": 20, "fine_tune_epochs": 8, "learning_rate": 1e-3, "seed": 0, "export": False,
    "pattern": "unstructured", "pattern_text": "3:8", "rigl": False, "combined": False, "then_sparsity": 0.5, "regrow_fraction": 0.3, "regrow_every": 100,
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
    st.session_state[f"form:{name}"] = {k: st.session_state[k] for k in defaults if k in st.session_state}


def resume_queue() -> None:
    dispatcher.ensure_dispatcher(store().path.parent)


def demo_specs() -> list[RunSpec]:
    """The demo sweep: every criterion at 50 / 80 / 90 % on the default model and data, plus taylor
    removing whole channels (30 and 50 % of the FLOPs), the runs that move latency."""
    return ([RunSpec.of(strategy=s, sparsity=p, scope="global")
             for s in ("magnitude", "taylor", "fisher", "random") for p in (0.5, 0.8, 0.9)]
            + [RunSpec.of(strategy="taylor", sparsity=p, scope="global", granularity="structured") for p in (0.3, 0.5)])


def demo_button(key: str) -> None:
    if st.button("Run the demo sweep", type="primary", key=key,
                 help="magnitude, taylor, fisher and random at 50, 80 and 90 % sparsity, and taylor removing "
                      "whole channels (30 and 50 % of the FLOPs), on the compact EfficientNet and the bundled "
                      "digits (about 15 minutes on 2 cores)"):
        queue(demo_specs(), sweep="demo")


def learn_results() -> tuple[list, str]:
    """(run results, where they come from) for Learn's measured numbers: this dashboard's completed
    runs, else the bundled demo results straight from their files (no waiting, nothing stored)."""
    from prune_core.results import demo

    jobs = completed_runs()
    if jobs:
        demos = sum(job.demo for job in jobs)
        return [job.run_result for job in jobs], (f"{len(jobs)} completed run(s) on this dashboard"
                                                  + (f", {demos} of them bundled demo results" if demos else ""))
    return list(demo.runs()), "the bundled demo results (compact EfficientNet on digits, measured by this project)"


def demo_panel(key: str) -> None:
    """Offer the bundled demo results (an empty store: load them in one click) or their removal, to a
    visitor who may change the store (the local user, or an admin)."""
    from prune_core.results import demo

    jobs, who = store(), access.current()
    count = jobs.demo_count()
    if count:
        st.caption(f":material/info: {count} bundled demo result(s) are shown beside your own, marked "
                   f"\u201c{demo.SWEEP}\u201d.")
        if who.owner_filter is None and st.button("Remove the demo results", key=f"{key}-remove-demo",
                                                  help="Deletes only the bundled demo results; your runs stay."):
            demo.remove(jobs)
            st.rerun()
    elif demo.available() and who.owner_filter is None:
        if st.button("Load the demo results", key=f"{key}-load-demo", type="primary",
                     help="14 real runs (every criterion at 50/80/90 %, channel removal with a TFLite export) and "
                          "a five-criterion profile of the compact EfficientNet on digits, measured by this "
                          "project's own commands. Marked as demo, removable in one click."):
            demo.load(jobs)
            st.rerun()


def baseline_scores(model: str, dataset: str, strategies: list, granularity: str):
    """(job, score summary) of the newest completed run (or scoring run) on this model and data with one of
    `strategies`: its scores of the unpruned baseline, to read thresholds off. None when there is none."""
    for job in completed_runs(kinds=("run", "scores")):
        if (job.spec.baseline.model, job.spec.baseline.dataset, job.spec.pruning.granularity) == (model, dataset, granularity) \
                and job.spec.pruning.strategy in strategies:
            scores = job.run_result.distributions.get("scores", {})
            if scores.get("quantiles"):
                return job, scores
    return None


def result_line(job) -> str:
    """One line about a completed job: a run's accuracy against dense, what was pruned, size, time; or
    what a profile measured."""
    from prune_core.errors import ResultError

    try:
        if job.kind == "profile":
            p = job.profile
            return (f"{', '.join(p.criteria)}: {len(p.levels)} one-shot levels × 3 rankings, {len(p.layers)} "
                    f"layers × {len(p.layer_levels)} sensitivity levels · dense top-1 "
                    f"{p.dense.get('top1', float('nan')):.4f} (validation) · {job.elapsed:.0f} s")
        r = job.run_result
    except (ResultError, ValueError) as exc:
        return f"the stored result cannot be read ({exc})"
    return (f"top-1 **{r.top1:.4f}** (dense {r.dense.top1:.4f}, before fine-tune {r.top1_before_finetune:.4f}) · "
            f"{r.amount_text()} · gzip {bytes_text(r.gzip_bytes)} · {job.elapsed:.0f} s")


def speedup_delta(speedup, low, high, single_ratio=None) -> tuple[str | None, str, str]:
    """(delta text, delta colour, explanation) for a latency against dense: a difference is shown only
    when it leaves the measurement band; results timed once (before bands existed) say so."""
    from prune_core.timing import verdict

    if speedup is None:
        if single_ratio is None:
            return None, "off", ""
        return (f"{100 * (single_ratio - 1):+.0f} % vs dense (one timing)", "off",
                "Timed once, not against the dense model: differences under ±30 % are noise on this machine.")
    band = f"{low:.2f}–{high:.2f}×"
    found = verdict(low, high)
    note = (f"Timed in alternation with the dense model, round by round: speedup {speedup:.2f}× "
            f"(lowest–highest round {band}; named only when every round agrees).")
    if found == "within noise":
        return "within measurement noise", "off", note
    return f"{100 * (1 / speedup - 1):+.0f} % vs dense", "inverse", note


#: Phases whose progress is counted in steps (a bar with an estimate of the time left).
_STEPPED = ("baseline training", "timing layers", "profiling", "fine-tuning")


def progress_text(job) -> tuple[float | None, str]:
    """(bar fraction or None, line) for a running job: every phase says what it is doing; phases
    counted in steps get a bar and the time left, estimated from this phase's own pace so far."""
    p = job.progress or {}
    phase = p.get("phase", "starting")
    detail = [phase]
    if p.get("message"):
        detail.append(p["message"])
    if p.get("epochs"):
        detail.append(f"epoch {p.get('epoch')}/{p.get('epochs')}")
    if p.get("sparsity") is not None:
        detail.append(f"sparsity {p['sparsity']:.3f}")
    if p.get("accuracy") is not None:
        detail.append(f"train accuracy {p['accuracy']:.3f}")
    step, steps, spent = p.get("step") or 0, p.get("steps") or 0, p.get("phase_seconds")
    if phase in _STEPPED and steps and step:
        if spent and step < steps:
            detail.append(f"about {duration_text(spent / step * (steps - step))} left in this phase")
        detail.append(f"{job.elapsed:.0f} s in all")
        return min(step / steps, 1.0), " · ".join(detail)
    detail.append(f"{job.elapsed:.0f} s in all")
    return None, " · ".join(detail)


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


def display_order(jobs: list) -> list:
    """Running first, then queued in the order they will run, then finished, newest first."""
    running = sorted((j for j in jobs if j.status == "running"), key=lambda j: j.id)
    queued = sorted((j for j in jobs if j.status == "queued"), key=lambda j: j.id)
    done = sorted((j for j in jobs if j.status not in ("running", "queued")), key=lambda j: -j.id)
    return running + queued + done


def bytes_text(n) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


from ui import inputs, profiles  # noqa: E402  (they use the helpers above)

__all__ = ["access", "inputs", "profiles"]  # submodules the pages reach as ui.<name>

MODEL_CHOICES, DATASET_CHOICES = inputs.MODEL_CHOICES, inputs.DATASET_CHOICES
model_and_data_inputs, chosen_model_and_data = inputs.model_and_data_inputs, inputs.chosen_model_and_data
missing_input = inputs.missing_input
