"""Tests for engine/keras_env.py: the strided 1×1 convolution whose oneDNN gradient corrupts the
heap. Each crash runs in a child process (a heap corruption would take pytest down with it)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from prune_core.engine.keras_env import keras, native_convolutions, tf
from prune_core.paths import PROJECT_ROOT

# A batch, input and channel counts that crash TensorFlow 2.21's oneDNN gradient (found by a
# sweep: 1×1 kernel, stride 2, "valid" padding, an even input size; batch 9, 12 → 24 channels).
CRASH = dict(batch=9, size=32, channels_in=12, channels_out=24)


def _child(body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        import numpy as np
        from prune_core.engine.keras_env import keras, native_convolutions, tf
        batch, size, cin, cout = {CRASH["batch"]}, {CRASH["size"]}, {CRASH["channels_in"]}, \
            {CRASH["channels_out"]}
        x = tf.constant(np.random.default_rng(0).random((batch, size, size, cin), np.float32))
        """
    ) + textwrap.dedent(body)
    env = {"TF_ENABLE_ONEDNN_OPTS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def _train_a_strided_shortcut(native: bool) -> str:
    return f"""
        layer = keras.layers.Conv2D(cout, 1, strides=2)
        layer.build(x.shape)
        with {"native_convolutions()" if native else "open('/dev/null')"}:
            for _ in range(6):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_sum(layer(x))
                tape.gradient(loss, layer.trainable_variables)
        print("trained")
        """


def test_the_native_gradient_crashes_and_the_workaround_trains():
    native = _child(_train_a_strided_shortcut(native=True))
    if native.returncode == 0:
        pytest.skip("this TensorFlow build's oneDNN gradient no longer crashes on these shapes")
    assert native.returncode < 0 or native.returncode >= 128, native.returncode  # by a signal
    ours = _child(_train_a_strided_shortcut(native=False))
    assert ours.returncode == 0 and "trained" in ours.stdout, ours.stderr[-2000:]


def test_the_workaround_computes_exactly_what_keras_does():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.random((3, 10, 10, 5), np.float32))
    for strides in ((2, 2), (3, 2)):
        layer = keras.layers.Conv2D(4, 1, strides=strides)
        layer.build(x.shape)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = layer(x)
            loss = tf.reduce_sum(ours * ours)
        with native_convolutions(), tf.GradientTape(persistent=True) as native_tape:
            native_tape.watch(x)
            native = layer(x)
            native_loss = tf.reduce_sum(native * native)
        np.testing.assert_allclose(ours.numpy(), native.numpy(), rtol=1e-6)
        for a, b in zip(
            tape.gradient(loss, [x, layer.kernel, layer.bias]),
            native_tape.gradient(native_loss, [x, layer.kernel, layer.bias]),
        ):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_an_export_keeps_keras_own_strided_convolution():
    from prune_core.engine import deploy

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 1, strides=2)(inputs))
    content = deploy.to_tflite(model)
    from ai_edge_litert.interpreter import Interpreter

    ops = {op["op_name"] for op in Interpreter(model_content=content)._get_ops_details()}
    assert "CONV_2D" in ops and "STRIDED_SLICE" not in ops
