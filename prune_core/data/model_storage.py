"""A model file's bytes, read safely before anything in it is trusted: its architecture config
read with its size bounded (checked from the zip directory before a byte of it is read), and its
weights all inside it — an HDF5 dataset stored in another file, a virtual dataset or an external
link would let a file read a server file into the weights a visitor downloads. No TensorFlow;
h5py only walks the file."""

from __future__ import annotations

import contextlib
import json
import tempfile
import zipfile
from pathlib import Path

from prune_core.errors import ModelError

#: The largest architecture config read (a `.keras` member or an `.h5` attribute): a real one is
#: a few hundred kB; a small compressed file must not unpack to gigabytes in the server's memory.
MAX_CONFIG_BYTES = 4 * 2**20
#: How deep an HDF5 file's groups may nest (Keras' own files: under 10).
MAX_H5_DEPTH = 32
#: The weights file inside a `.keras` archive.
KERAS_WEIGHTS = "model.weights.h5"


def read_config(path: Path) -> dict:
    """The architecture config stored in a .keras or .h5 file, read without building anything: its
    declared size checked before a byte of it is read, and never more than `MAX_CONFIG_BYTES`."""
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                _check_config_size(archive.getinfo("config.json").file_size, path.name)
                with archive.open("config.json") as member:
                    raw = member.read(MAX_CONFIG_BYTES + 1)  # the directory may lie
                _check_config_size(len(raw), path.name)
                return json.loads(raw)
        import h5py

        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise ModelError(
                    f"{path.name} holds no model architecture (weights only?); save the whole model"
                )
            # a fixed-length attribute's size is known before it is read; a variable-length one
            # is bounded only by the file (itself within the upload limit), so check it after
            _check_config_size(f.attrs.get_id("model_config").get_storage_size(), path.name)
            raw = f.attrs["model_config"]
            _check_config_size(len(raw), path.name)
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except ModelError:
        raise
    except Exception:
        raise ModelError(f"{path.name} is not a Keras model file (.keras or .h5)") from None


def _check_config_size(size: int, filename: str) -> None:
    if size > MAX_CONFIG_BYTES:
        raise ModelError(
            f"{filename}: its architecture config is {size / 2**20:,.1f} MB, over the "
            f"{MAX_CONFIG_BYTES / 2**20:.0f} MB a model's config may have"
        )


@contextlib.contextmanager
def extracted_weights(path: Path):
    """The HDF5 weights inside a `.keras` archive as a file of their own, in a temporary folder
    removed afterwards; None when the archive holds none, or holds them compressed (then read them
    from the archive). Why: h5py reads an archive member through zipfile, and before Python 3.12
    every backward seek there re-reads the member from its start, so a 0.5 GB file (ResNetRS270)
    took over ten minutes to load (keras-team/keras#19793; Keras 3 extracts them the same way).
    Only a stored member is extracted: its size is bounded by the archive's own. None too for a
    file that is no `.keras` archive (its checks say what it is)."""
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        yield None
        return
    with zipfile.ZipFile(path) as archive:
        info = next((i for i in archive.infolist() if i.filename == KERAS_WEIGHTS), None)
        if info is None or info.compress_type != zipfile.ZIP_STORED:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="prune-weights-") as folder:
            yield Path(archive.extract(info, folder))


def check_storage(path: Path, weights: Path | None = None) -> None:
    """Refuse a model file whose weights are not all inside it: an HDF5 dataset stored in another
    file (external raw storage), a virtual dataset, or an external link would let the file read
    bytes from anywhere on the server into the weights a visitor downloads. Walks the `.h5` itself,
    or the weights file inside a `.keras`, without following any link; `weights`: that file
    already extracted (`extracted_weights`), so that what is checked is what is then loaded."""
    import h5py

    try:
        if path.suffix == ".keras":
            with (
                contextlib.nullcontext(weights) if weights else extracted_weights(path) as weights,
                zipfile.ZipFile(path) as archive,
            ):
                if KERAS_WEIGHTS not in archive.namelist():
                    return
                with (
                    (
                        contextlib.nullcontext(weights) if weights else archive.open(KERAS_WEIGHTS)
                    ) as member,
                    h5py.File(member, "r") as f,
                ):
                    _walk(f, path.name, 0)
            return
        with h5py.File(path, "r") as f:
            _walk(f, path.name, 0)
    except ModelError:
        raise
    except Exception:
        raise ModelError(f"{path.name} is not a Keras model file (.keras or .h5)") from None


def _walk(group, filename: str, depth: int) -> None:
    import h5py

    if depth > MAX_H5_DEPTH:
        raise ModelError(f"{filename}: its groups nest deeper than {MAX_H5_DEPTH} levels")
    for name in group:
        where = f"{group.name.rstrip('/')}/{name}"
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            raise ModelError(
                f"{filename}: {where} links to another file ({link.filename[:80]!r}); a model file "
                "must hold all its weights itself"
            )
        if isinstance(link, h5py.SoftLink):
            continue  # a path inside this file: what it names is checked where it lives
        item = group[name]
        if isinstance(item, h5py.Dataset):
            if item.external:
                raise ModelError(
                    f"{filename}: dataset {where} keeps its bytes in another file; a model file "
                    "must hold all its weights itself"
                )
            if item.is_virtual:
                raise ModelError(
                    f"{filename}: dataset {where} is a virtual dataset mapped from other files; a "
                    "model file must hold all its weights itself"
                )
        elif isinstance(item, h5py.Group):
            _walk(item, filename, depth + 1)
