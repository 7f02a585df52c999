"""The one place that imports TensorFlow and Keras.

tfmot only works with Keras 2 (`tf_keras`), so `TF_USE_LEGACY_KERAS=1` must be set
before TensorFlow is imported anywhere in the process. Every other module gets
`tf`, `keras` and `tfmot` from here.
"""

import contextlib
import gc
import os
import sys

from prune_core.data.model_storage import extracted_weights

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


@contextlib.contextmanager
def _native_stderr_silenced():
    """TensorFlow's C++ side prints start-up notices (oneDNN, CUDA stubs) before its log level
    applies; hide fd 2 during the import so the CLI's stderr stays readable."""
    if os.environ.get("PRUNE_TF_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


with _native_stderr_silenced():
    import tensorflow as tf  # noqa: E402
    import tf_keras as keras  # noqa: E402

tf.get_logger().setLevel("ERROR")

if os.environ["TF_USE_LEGACY_KERAS"] != "1":  # pragma: no cover - guards a broken environment
    raise RuntimeError("prune_core needs TF_USE_LEGACY_KERAS=1 (tfmot works only with tf_keras)")


# --- A native crash in TensorFlow 2.21's oneDNN kernels, worked around -------------------------
# The gradient of a 1×1 convolution with stride > 1 and "valid" padding, where the stride leaves
# the input's last rows or columns unread (an even 32×32 input at stride 2, say), corrupts the heap
# for some batch sizes and channel counts (glibc aborts with "double free or corruption", or a
# segfault) — in plain `model.fit` as much as here. ResNet shortcuts have this shape, and channel
# pruning makes the unlucky channel counts common. The same convolution, computed on the input's
# every stride-th row and column with stride 1, is the same arithmetic through other kernels.
# tests/engine/test_keras_env.py reproduces the crash in a child process and proves the fix.
_Conv = next(c for c in keras.layers.Conv2D.__mro__ if "convolution_op" in vars(c))
_native_convolution_op = _Conv.convolution_op
_native = {"on": False}


def _sliced_instead(layer) -> bool:
    return (
        not _native["on"]
        and layer.rank == 2
        and tuple(layer.kernel_size) == (1, 1)
        and tuple(layer.strides) != (1, 1)
        and layer.padding == "valid"
        and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
    )


def _convolution_op(self, inputs, kernel):
    if _sliced_instead(self):
        rows, cols = self.strides
        return tf.nn.convolution(
            inputs[:, ::rows, ::cols, :], kernel, strides=1, padding="VALID", name="Conv2D"
        )
    return _native_convolution_op(self, inputs, kernel)


_Conv.convolution_op = _convolution_op


# --- Deep graphs --------------------------------------------------------------------------------
# tf_keras maps a functional graph by recursion, one Python frame per layer on its longest path
# (`functional._build_map_helper`), each time it builds, loads or clones a model: ResNetRS270 and
# deeper pass Python's default limit of 1,000 frames, and its file would not load. Python-to-Python
# calls take no C stack from 3.11 on, so a higher limit costs nothing until a graph uses it.
DEEP_GRAPH_FRAMES = 10_000
sys.setrecursionlimit(max(sys.getrecursionlimit(), DEEP_GRAPH_FRAMES))


@contextlib.contextmanager
def native_convolutions():
    """Convolutions exactly as Keras writes them (for a graph that leaves the process: a TFLite
    export keeps its strided 1×1 convolutions; no gradient is taken there)."""
    before, _native["on"] = _native["on"], True
    try:
        yield
    finally:
        _native["on"] = before


def release() -> None:
    """Free what died in reference cycles: Keras models, optimizers, TFLite converters. Their
    tensors are not Python's memory, so the cyclic collector, counting Python objects, can leave
    gigabytes waiting (a converter: ~2× the model's weights) while the next step allocates more;
    called where a step drops such objects."""
    gc.collect()


def stock_layers() -> dict:
    """Layer classes that stock `tf_keras.applications` models define for themselves rather than in
    `keras.layers` (their code is Keras', not the file's), by the class name a saved model uses."""
    from tf_keras.src.applications.convnext import LayerScale
    from tf_keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    # a `.keras` file names CustomScaleLayer by its registered name, an `.h5` by its class
    return {
        "LayerScale": LayerScale,
        "CustomScaleLayer": CustomScaleLayer,
        "Custom>CustomScaleLayer": CustomScaleLayer,
    }


def load_model(path, weights=None):
    """A saved Keras model, in safe mode (no Lambda bytecode), knowing the stock layers above; a
    `.keras` file's weights read from a file of their own (`model_storage.extracted_weights`;
    `weights`: already extracted)."""

    def load():
        return keras.models.load_model(
            str(path), compile=False, safe_mode=True, custom_objects=stock_layers()
        )

    if not str(path).endswith(".keras"):
        return load()
    with contextlib.nullcontext(weights) if weights else extracted_weights(path) as weights:
        if weights is None:
            return load()
        with _weights_read_from(weights):
            return load()


@contextlib.contextmanager
def _weights_read_from(weights):
    """tf_keras reading a `.keras` archive's weights member from the file `weights` instead (its
    loader opens the member by name; the store it opens it with is swapped for this call)."""
    from tf_keras.src.saving import saving_lib

    stock = saving_lib.H5IOStore

    class Extracted(stock):
        def __init__(self, root_path, archive=None, mode="r"):
            if archive is not None and mode == "r" and root_path == weights.name:
                root_path, archive = str(weights), None
            super().__init__(root_path, archive=archive, mode=mode)

    saving_lib.H5IOStore = Extracted
    try:
        yield
    finally:
        saving_lib.H5IOStore = stock


def tfmot_sparsity():
    """tfmot's Keras sparsity API, imported lazily (it is slow to import)."""
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras


__all__ = ["tf", "keras", "tfmot_sparsity", "native_convolutions", "stock_layers", "load_model"]
