"""Helpers shared by the tests of prune_core.engine: a small model for latency tables and
channels."""

import numpy as np

from prune_core.engine import models
from prune_core.engine.channel_allocation import silence
from prune_core.engine.keras_env import keras


def small_model(width=16, seed=0):
    """conv_a (16, prunable) → swish → depthwise → conv_b (8, prunable) → relu → GAP → head."""
    keras.utils.set_random_seed(seed)
    L = keras.layers
    x = keras.Input((16, 16, 3), name="image")
    h = L.Conv2D(width, 3, padding="same", name="conv_a")(x)
    h = L.BatchNormalization(name="bn_a")(h)
    h = L.Activation("swish", name="act_a")(h)
    h = L.DepthwiseConv2D(3, padding="same", name="dw")(h)
    h = L.Conv2D(8, 1, name="conv_b")(h)
    h = L.Activation("relu", name="act_b")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, L.Dense(4, name="head")(h), name="small")


def silence_removed_channels(model, plan):
    """The oracle of structured surgery: a copy of `model` whose removed channels output zero
    (producers' kernels and biases, members' per-channel weights; BatchNorm's moving statistics
    kept)."""
    zeroed = models.clone(model)
    silence(zeroed, [(g, np.setdiff1d(np.arange(g.size), plan.kept(g))) for g in plan.groups])
    return zeroed
