"""The one place that imports TensorFlow and Keras.

tfmot only works with Keras 2 (`tf_keras`), so `TF_USE_LEGACY_KERAS=1` must be set
before TensorFlow is imported anywhere in the process. Every other module gets
`tf`, `keras` and `tfmot` from here.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

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
