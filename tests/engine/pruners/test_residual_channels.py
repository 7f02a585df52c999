"""Channel pruning of small hand-made residual networks with odd channel counts, end to end in a
child process: their 1×1 stride-2 projection shortcuts used to abort the process at fine-tune
step 2 (a heap corruption in TensorFlow's oneDNN gradient; see engine/keras_env.py)."""

import json
import os
import subprocess
import sys

import pytest

from prune_core.engine.keras_env import keras
from prune_core.paths import PROJECT_ROOT


def _residual(path, stem: int, wide: int, bias: bool):
    """Conv–BN–ReLU, an identity Add, then a strided block whose shortcut is a 1×1 projection."""
    layers = keras.layers

    def conv(x, filters, kernel=3, strides=1):
        x = layers.Conv2D(filters, kernel, strides, padding="same", use_bias=bias)(x)
        return layers.BatchNormalization()(x)

    inputs = keras.Input((32, 32, 3))
    x = layers.ReLU()(conv(layers.Rescaling(1 / 255)(inputs), stem))
    y = conv(layers.ReLU()(conv(x, stem)), stem)
    x = layers.ReLU()(layers.Add()([x, y]))
    shortcut = layers.BatchNormalization()(layers.Conv2D(wide, 1, strides=2, use_bias=bias)(x))
    y = conv(layers.ReLU()(conv(x, wide, strides=2)), wide)
    x = layers.ReLU()(layers.Add()([y, shortcut]))
    outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.mark.parametrize("stem, wide, bias", [(16, 32, False)])  # crashed without the fix
def test_a_residual_network_loses_channels_and_fine_tunes_without_crashing(
    tmp_path, stem, wide, bias
):
    model = _residual(tmp_path / "residual.keras", stem, wide, bias)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "prune_core",
            "run",
            f"--model=file:{model}",
            "--dataset=digits",  # 1,257 training images: the last batch of 32 holds 9
            "--granularity=structured",
            "--sparsity=0.3",
            "--fine-tune-epochs=1",
            "--quiet",
            "--json",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PRUNE_HOME": str(tmp_path / "home"), "TF_ENABLE_ONEDNN_OPTS": "1"},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.splitlines()[0])
    assert result["budget_removed"] >= 0.3 - 0.05
    assert result["params"] < result["dense_params"]
    # the FLOPs it would save, against the dense model (not 1.0 because no weight is zero)
    assert result["theoretical_speedup"] == pytest.approx(result["dense_flops"] / result["flops"])
    assert result["theoretical_speedup"] > 1.3
    assert len(result["history"]) == 1  # the epoch of fine-tuning ran to its end
