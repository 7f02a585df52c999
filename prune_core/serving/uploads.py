"""Files visitors upload to a shared dashboard: a model file (.keras / .h5) or a zip of class
folders.

A shared dashboard takes no server paths from the browser: what a visitor wants pruned comes in as
an upload, is stored under `$PRUNE_HOME/uploads/<visitor>/<content digest>/` and is checked there —
the model file against the allow-lists of `model_files`, the images like any image folder — before
anything is queued. The zip is unpacked by the project itself: only folders and image files, no
absolute paths, no `..`, no links, at most `MAX_MEMBERS` entries and twice the upload limit in all.
An upload that fails any check leaves nothing behind; the same content uploaded twice is stored
once."""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import zipfile
import zlib
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path, PurePosixPath

from prune_core import paths
from prune_core.data import datasets as data
from prune_core.data import model_files
from prune_core.data.image_folders import IMAGE_SUFFIXES
from prune_core.errors import DataError, ModelError, PruneError
from prune_core.serving import limits

MODEL_SUFFIXES = (".keras", ".h5")
#: The most entries a zip of images may hold (folders included).
MAX_MEMBERS = 100_000


def _folder(owner: str | None, content: bytes, kind: str) -> Path:
    who = hashlib.sha256((owner or "local").encode()).hexdigest()[:12]
    return paths.uploads_dir() / who / f"{kind}-{hashlib.sha256(content).hexdigest()[:20]}"


def _check_size(content: bytes, filename: str) -> None:
    limit = limits.max_upload_mb()
    if len(content) > limit * 1024 * 1024:
        raise PruneError(
            f"{filename[:80]} is {len(content) / 2**20:,.1f} MB; uploads may be at most {limit} MB"
        )
    if not content:
        raise PruneError(f"{filename[:80]} is empty")


def public_name(name: str) -> str:
    """A recipe's model or dataset name as a shared dashboard shows it to everyone: a user's file
    or folder by its own name, never its path on the server (`file:model.keras`)."""
    for prefix in ("file:", "folder:"):
        if name.startswith(prefix):
            return prefix + Path(name[len(prefix) :]).name
    return name


def public_text(text: str) -> str:
    """A message (a job's error) as a shared dashboard shows it to everyone: every path into the
    uploads folder cut to its last part, so no visitor learns where another's files live."""
    root = re.escape(str(paths.uploads_dir()))
    return re.sub(root + r"/[^\s'\"]*/([^/\s'\"]+)", r"\1", str(text))


def store_model(content: bytes, filename: str, owner: str | None) -> Path:
    """Keep an uploaded model file and check it; returns its path (ModelError, storing nothing, when
    it is refused)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelError(f"{filename[:80]} is not a model file: upload a .keras or .h5 file")
    _check_size(content, filename)
    folder = _folder(owner, content, "model")
    path = folder / f"model{suffix}"
    if path.is_file():
        return path
    with _all_or_nothing(folder, filename):
        path.write_bytes(content)
        model_files.checked_config(path, filename[:80])
    return path


def store_images(content: bytes, filename: str, owner: str | None) -> Path:
    """Unpack an uploaded zip of class folders and check every image; returns the folder to train on
    (DataError, storing nothing, when it is refused)."""
    if Path(filename).suffix.lower() != ".zip":
        raise DataError(f"{filename[:80]} is not a zip file: upload a .zip of one folder per class")
    _check_size(content, filename)
    folder = _folder(owner, content, "images")
    if (folder / ".checked").is_file():
        return _classes_root(folder)
    with _all_or_nothing(folder, filename):
        _unpack(content, filename, folder)
        root = _classes_root(folder)
        try:
            data.check_folder(str(root))
        except DataError as exc:  # say the zip's name, not where it was unpacked
            raise DataError(
                str(exc).replace(f"image folder {str(root)!r}", filename[:80])
            ) from None
        (folder / ".checked").touch()
    return root


@contextmanager
def _all_or_nothing(folder: Path, filename: str):
    """A fresh `folder` for one upload, removed again if anything in the block fails (a full disk
    is said in one line)."""
    # an earlier upload of this content that was cut short
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.mkdir(parents=True)
        yield
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise PruneError(
                f"{filename[:80]} could not be stored ({exc.strerror or type(exc).__name__})"
            ) from None
        raise


def _unpack(content: bytes, filename: str, folder: Path) -> None:
    name = filename[:80]
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise DataError(f"{name} is not a readable zip file") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise DataError(
                f"{name} holds {len(members):,} entries; at most {MAX_MEMBERS:,} are unpacked"
            )
        budget = 2 * limits.max_upload_mb() * 1024 * 1024
        if sum(m.file_size for m in members) > budget:
            raise DataError(
                f"{name} unpacks to more than {budget // 2**20:,} MB; upload fewer or smaller "
                f"images"
            )
        for member in members:
            parts = PurePosixPath(member.filename.replace("\\", "/")).parts
            if (
                member.filename.startswith(("/", "\\"))
                or ".." in parts
                or (parts and ":" in parts[0])
            ):
                raise DataError(
                    f"{name}: entry {member.filename[:80]!r} points outside the zip; nothing was "
                    f"unpacked"
                )
            if stat.S_ISLNK(member.external_attr >> 16):
                raise DataError(
                    f"{name}: entry {member.filename[:80]!r} is a link; links are not unpacked"
                )
            if member.is_dir() or not parts or any(p.startswith((".", "__MACOSX")) for p in parts):
                continue  # folders are made as needed; hidden files and macOS metadata are skipped
            if PurePosixPath(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
                continue  # a README or a labels file beside the images is not needed
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            _extract(archive, member, target, name)


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, name: str) -> None:
    written = 0
    try:
        with archive.open(member) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > member.file_size:  # a header that lies about the size it unpacks to
                    raise DataError(
                        f"{name}: entry {member.filename[:80]!r} is larger than it says"
                    )
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DataError(
            f"{name}: entry {member.filename[:80]!r} cannot be unpacked "
            f"({str(exc)[:80] or type(exc).__name__})"
        ) from None


def _classes_root(folder: Path) -> Path:
    """The folder whose sub-folders are the classes: the zip's root, or its single top folder (a zip
    of one folder `flowers/` holding `daisy/`, `rose/`, … is what most tools make)."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        inner = [p for p in entries[0].iterdir() if p.is_dir() and not p.name.startswith(".")]
        if inner:
            return entries[0]
    return folder
