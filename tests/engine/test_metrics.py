"""Tests for prune_core.engine.metrics: FLOPs, parameters, sizes, accuracy, latency bands."""

import gzip

import numpy as np
import pytest

from prune_core.engine import criteria, metrics
from prune_core.engine.keras_env import keras


def _conv_model():
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="c")(inp)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="dw")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(5, activation="softmax", name="predictions")(x)
    return keras.Model(inp, out)


def test_flops_count_conv_depthwise_and_dense_as_two_times_macs():
    model = _conv_model()
    expected = 2 * (8 * 8 * 3 * 3 * 3 * 4) + 2 * (4 * 4 * 3 * 3 * 4) + 2 * (4 * 5)
    result = metrics.flops(model)
    assert result["flops"] == expected and result["nonzero_flops"] == expected
    kernel = model.get_layer("c").kernel
    kernel.assign(
        np.where(np.arange(kernel.shape.num_elements()).reshape(kernel.shape) % 2, 0.0, 1.0)
    )
    halved = metrics.flops(model)
    assert halved["nonzero_flops"] == expected - 8 * 8 * 3 * 3 * 3 * 4
    assert halved["theoretical_speedup"] == pytest.approx(expected / halved["nonzero_flops"])


def test_params_nonzero_and_sparsity_are_counted(tiny_model):
    targets = criteria.find_targets(tiny_model)
    counts = metrics.param_counts(tiny_model)
    assert (
        counts["params"]
        == tiny_model.count_params()
        == counts["nonzero_params"] + _zeros(tiny_model)
    )
    targets[0].variable.assign(np.zeros(targets[0].variable.shape))
    after = metrics.param_counts(tiny_model)
    assert after["params"] - after["nonzero_params"] >= targets[0].size
    assert metrics.layer_sparsity(targets)[targets[0].name] == 1.0
    assert metrics.weight_sparsity(targets) == pytest.approx(
        targets[0].size / sum(t.size for t in targets)
    )


def _zeros(model):
    return sum(int((w == 0).sum()) for w in model.get_weights())


def test_zeros_shrink_the_gzip_not_the_file(tiny_model):
    dense = metrics.file_sizes(tiny_model)
    for t in criteria.find_targets(tiny_model):
        w = t.variable.numpy()
        w[np.abs(w) < np.quantile(np.abs(w), 0.9)] = 0
        t.variable.assign(w)
    sparse = metrics.file_sizes(tiny_model)
    assert abs(sparse["file_bytes"] - dense["file_bytes"]) < 64
    assert sparse["gzip_bytes"] < dense["gzip_bytes"]


@pytest.mark.parametrize("size", [0, 1, metrics.GZIP_CHUNK - 1, 3 * metrics.GZIP_CHUNK + 7])
def test_gzip_bytes_streamed_equal_gzip_compress_whole(size, tmp_path):
    # weights-like content: zeros (which compress) between random floats (which do not)
    values = np.random.default_rng(size).normal(size=size // 4 + 1).astype(np.float32)
    values[::3] = 0
    data = values.tobytes()[:size]
    path = tmp_path / "model.h5"
    path.write_bytes(data)
    expected = len(gzip.compress(data, 9, mtime=0))
    assert metrics.gzip_bytes(data) == expected
    assert metrics.gzip_bytes(path) == expected


def test_accuracy_top1_and_top5(tiny_model, tiny_data):
    acc = metrics.accuracy(tiny_model, tiny_data.x_test, tiny_data.y_test)
    probs = tiny_model.predict(tiny_data.x_test.astype(np.float32), verbose=0)
    assert acc["top1"] == pytest.approx((probs.argmax(1) == tiny_data.y_test).mean())
    assert acc["top5"] == 1.0  # three classes


def test_latency_reports_percentiles():
    lat = metrics.latency(_conv_model(), batch_size=4, warmup=2, repeats=7)
    assert 0 < lat.p10 <= lat.p50 <= lat.p90 and len(lat.samples_ms) == 7
    assert metrics.threads() >= 1


def test_measured_against_a_reference_latency_carries_its_band_and_the_dense_numbers(
    tiny_model, tiny_data
):
    measured = metrics.measure(tiny_model, [], tiny_data, reference=tiny_model)
    for batch in (1, 32):
        assert (
            measured[f"latency_ms_b{batch}_lo"]
            <= measured[f"latency_ms_b{batch}_p50"]
            <= measured[f"latency_ms_b{batch}_hi"]
        )
        assert (
            measured[f"speedup_b{batch}_lo"]
            <= measured[f"speedup_b{batch}"]
            <= measured[f"speedup_b{batch}_hi"]
        )
        assert measured[f"dense_latency_ms_b{batch}_p50"] > 0
    assert measured["dense_throughput_ips"] == pytest.approx(
        32000 / measured["dense_latency_ms_b32_p50"]
    )
    alone = metrics.measure(tiny_model, [], tiny_data)
    assert "speedup_b1" not in alone and alone["latency_ms_b1_lo"] <= alone["latency_ms_b1_hi"]
