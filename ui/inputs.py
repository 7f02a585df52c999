"""The model and dataset pickers. A local dashboard takes a path to the user's model file or image
folder (under the configured roots); a shared one takes no server paths at all: the visitor uploads
the model file or a zip of class folders, which is stored and checked at once
(`prune_core.serving.uploads`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from prune_core.data import preflight
from prune_core.data.image_folders import MIN_PER_CLASS
from prune_core.errors import PruneError
from prune_core.learn.glossary import HELP
from prune_core.recipe.spec import PIXEL_RANGES
from prune_core.serving import access, limits, uploads
from ui import access as ui_access
from ui.session import store
from ui.text import escape_md

MODEL_CHOICES = ["efficientnet-compact", "efficientnet-b0", "tiny-cnn", "my own file"]
DATASET_CHOICES = ["digits", "shapes", "synthetic", "cifar10", "image folder"]


#: The path fields (or uploads) of a user's own model and images: one value for every page,
#: remembered under `_SAVED` while no page shows the field (Streamlit drops a widget's value then).
MODEL_PATH, DATASET_PATH = "model_path", "dataset_path"
_SAVED = "paths:saved"


def model_and_data_inputs(prefix: str = "", container=st) -> tuple[str, str]:
    """The model and dataset pickers (a path field, or an upload, for a user's file or folder);
    returns recipe names. The pickers are the page's own (`prefix`); the paths are shared."""
    model = container.selectbox(
        "Model",
        MODEL_CHOICES,
        key=f"{prefix}model_choice",
        help="The compact EfficientNet is the CPU default; B0 is the full-size network.",
    )
    if model == "my own file":
        if access.shared():
            model = "file:" + _upload(
                container,
                "Your model file (.keras or .h5)",
                ["keras", "h5"],
                MODEL_PATH,
                uploads.store_model,
                "Built-in Keras layers only; layers that run code named in the file "
                "(Lambda, custom objects) are refused.",
            )
        else:
            model = "file:" + _path_field(
                container,
                "Path to a .keras or .h5 model",
                MODEL_PATH,
                "/path/to/model.keras",
                HELP["model_path"],
            )
    dataset = container.selectbox(
        "Dataset",
        DATASET_CHOICES,
        key=f"{prefix}dataset_choice",
        help="digits ships with scikit-learn (no download); shapes is drawn here (ten coloured "
        "figures, 5,000 images, no download; harder than digits); cifar10 needs the internet.",
    )
    if dataset == "image folder":
        if access.shared():
            dataset = "folder:" + _upload(
                container,
                "A zip of your images, one folder per class",
                ["zip"],
                DATASET_PATH,
                uploads.store_images,
                "PNG, JPEG, BMP or GIF files in one sub-folder per class, at least "
                f"{MIN_PER_CLASS} per class.",
            )
        else:
            dataset = "folder:" + _path_field(
                container,
                "Folder with one sub-folder per class",
                DATASET_PATH,
                "/path/to/images",
                HELP["dataset_path"],
            )
    return model, dataset


PIXELS_HELP = (
    "The range of pixel values your model was trained on. Images are read as 0–255 and mapped "
    "to it. A model that starts with a Rescaling layer usually takes 0–255."
)


def pixels_input(model: str, prefix: str = "", container=st) -> str:
    """The pixel range a user's model file was trained on (a recipe field); built-in models take
    0–255 and show nothing."""
    if not model.startswith("file:"):
        return PIXEL_RANGES[0]
    return container.selectbox(
        "Pixels it was trained on",
        PIXEL_RANGES,
        format_func=preflight.PIXEL_NAMES.get,
        key=f"{prefix}pixels",
        help=PIXELS_HELP,
    )


def _absolute(key: str) -> None:
    """A relative path is read from the folder the dashboard was started in: made absolute as it
    is typed, so the page (and the job) says which file it means."""
    text = st.session_state.get(key, "").strip()
    st.session_state[f"{key}:relative"] = None
    if text and not Path(text).expanduser().is_absolute():
        st.session_state[key] = str(Path.cwd() / text)
        st.session_state[f"{key}:relative"] = text
    st.session_state.setdefault(_SAVED, {})[key] = st.session_state[key]


def _pick_recent(key: str) -> None:
    chosen = st.session_state.get(f"{key}:recent")
    if chosen:
        st.session_state[key] = chosen
        st.session_state.setdefault(_SAVED, {})[key] = chosen
        st.session_state[f"{key}:relative"] = None
    st.session_state[f"{key}:recent"] = None


def recent_paths(prefix: str) -> list:
    """The paths of earlier jobs' own model files ("file:") or image folders ("folder:"), newest
    first: what a person typed before, on this page or the other. Read again only when jobs are
    queued or complete (the fields are drawn on every rerun of two pages)."""
    jobs = store()
    changed = (jobs.fingerprint("queued"), jobs.fingerprint("completed"))
    return _recent_paths(str(jobs.path), prefix, changed)


@st.cache_data(max_entries=8, show_spinner=False)
def _recent_paths(path: str, prefix: str, changed: tuple) -> list:
    seen = []
    for job in store().list(limit=200):
        for name in (job.spec.baseline.model, job.spec.baseline.dataset):
            if name.startswith(prefix) and (path := name[len(prefix) :]) not in seen:
                seen.append(path)
    return seen[:8]


def _path_field(container, label: str, key: str, placeholder: str, help: str) -> str:
    """A path field shared by Experiment and Explore (one value, kept across pages), with the
    recent paths offered under it and a relative path made absolute."""
    # Streamlit forgets a field's value on a page that does not draw it, and a page that drew it
    # once may hand back an empty one: the value lives in `_SAVED` (written by the callbacks as the
    # field changes) and is given to the field on every run that draws it
    st.session_state[key] = st.session_state.setdefault(_SAVED, {}).get(key, "")
    value = container.text_input(
        label, key=key, placeholder=placeholder, help=help, on_change=_absolute, args=(key,)
    )

    if relative := st.session_state.get(f"{key}:relative"):
        container.caption(
            f"{escape_md(relative)} was read from the folder the dashboard was started in: "
            f"{escape_md(value)}"
        )
    recent = [p for p in recent_paths("file:" if key == MODEL_PATH else "folder:") if p != value]
    if recent:
        container.selectbox(
            "Recent",
            recent,
            index=None,
            key=f"{key}:recent",
            placeholder="Recent paths…",
            label_visibility="collapsed",
            on_change=_pick_recent,
            args=(key,),
            help="Paths given to earlier runs on this dashboard.",
        )
    return value


def _upload(container, label: str, types: list, path_key: str, keep, help: str) -> str:
    """An upload stored and checked once per file (`keep`: the `uploads` function); returns where it
    was stored, "" while there is none or it was refused (the reason is shown under the widget). The
    path also goes under `path_key` in the session, where `chosen_model_and_data` reads it."""
    limit = limits.max_upload_mb()
    file = container.file_uploader(
        f"{label}, up to {limit} MB",
        type=types,
        max_upload_size=limit,
        key=f"{path_key}_upload",
        help=help,
    )
    stored = ""
    if file is not None:
        checked = st.session_state.setdefault("_checked_uploads", {})
        if file.file_id not in checked:
            try:
                with st.spinner(f"Checking {file.name}…"):
                    checked[file.file_id] = (
                        "ok",
                        str(keep(file.getvalue(), file.name, ui_access.current().name)),
                    )
            except PruneError as exc:
                checked[file.file_id] = ("refused", str(exc))
        outcome, text = checked[file.file_id]
        if outcome == "ok":
            stored = text
            container.caption(
                f":material/check_circle: {escape_md(file.name)} is checked and stored."
            )
        else:
            container.error(f"Refused: {escape_md(text)}")
    st.session_state[path_key] = stored
    return stored


def missing_input(model: str, dataset: str) -> str | None:
    """What the visitor still has to give before a recipe exists ("my own file" chosen, none
    given)."""
    how = "upload" if access.shared() else "give the path of"
    if model == "file:":
        return f"To prune your own model, {how} its .keras or .h5 file above."
    if dataset == "folder:":
        return (
            f"To train on your own images, {how} {'a zip of ' if access.shared() else ''}the "
            f"folder with one "
            "sub-folder per class above."
        )
    return None


def chosen_model_and_data(prefix: str = "") -> tuple[str, str]:
    """What `model_and_data_inputs` returned, read from the session (for callbacks that run before
    it)."""
    state = st.session_state
    model, dataset = state[f"{prefix}model_choice"], state[f"{prefix}dataset_choice"]
    model = "file:" + state.get(MODEL_PATH, "") if model == "my own file" else model
    dataset = "folder:" + state.get(DATASET_PATH, "") if dataset == "image folder" else dataset
    return model, dataset


def _stamp(name: str) -> float:
    """When a file or folder named in a recipe last changed (0 for built-in names)."""
    try:
        return Path(name.split(":", 1)[1]).expanduser().stat().st_mtime if ":" in name else 0.0
    except (OSError, ValueError):
        return 0.0


@st.cache_data(max_entries=32, ttl=60, show_spinner=False)
def _preflight(model: str, dataset: str, pixels: str, stamps: tuple) -> preflight.Preflight:
    return preflight.check(model, dataset, pixels)


def show_what_was_read(model: str, dataset: str, container=st, pixels: str = "0-255") -> bool:
    """Beside the pickers: what the user's model file and image folder hold, or why they cannot be
    used (the jobs' own checks, and a class-count mismatch), before anything is queued. Returns
    whether they can."""
    own = [(v, w) for v, w in ((model, "model file"), (dataset, "image folder")) if ":" in v]
    if not own:
        return True
    try:
        for value, what in own:
            limits.check_path(value.split(":", 1)[1], what)
    except PruneError as exc:
        container.error(escape_md(str(exc).capitalize()))
        return False
    found = _preflight(model, dataset, pixels, (_stamp(model), _stamp(dataset)))
    for line in found.read:
        container.caption(f":material/check_circle: {escape_md(line)}")
    if found.problem:
        container.error(escape_md(found.problem[0].upper() + found.problem[1:]))
    for note in found.notes:
        container.warning(escape_md(note), icon=":material/info:")
    return found.problem is None
