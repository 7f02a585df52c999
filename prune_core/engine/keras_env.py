"""The one place that imports TensorFlow and Keras.

tfmot only works with Keras 2 (`tf_keras`), so `TF_USE_LEGACY_KERAS=1` must be set
before TensorFlow is imported anywhere in the process. Every other module gets
`tf`, `keras` and `tfmot` from here.
"""

import contextlib
import os
import sys

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


def tfmot_sparsity():
    """tfmot's Keras sparsity API, imported lazily (it is slow to import)."""
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras


__all__ = ["tf", "keras", "tfmot_sparsity"]
