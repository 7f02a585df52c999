"""Tests for prune_core.engine.criteria: every criterion's contract; Fisher and Wanda by hand."""

import numpy as np
import pytest
from scipy.optimize import brentq

from prune_core.engine import criteria, selection
from prune_core.errors import SpecError


@pytest.fixture
def calibration(tiny_data):
    return criteria.Calibration(
        tiny_data.x_train[:24].astype(np.float32), tiny_data.y_train[:24], batch_size=8
    )


@pytest.mark.parametrize("name", criteria.names())
def test_every_criterion_meets_the_contract(name, tiny_model, calibration):
    targets = criteria.find_targets(tiny_model)
    before = [t.variable.numpy().copy() for t in targets]
    scores = criteria.score(name, tiny_model, targets, calibration, seed=3)
    assert len(scores) == len(targets)
    for s, t, w in zip(scores, targets, before):
        assert s.shape == tuple(t.variable.shape)
        assert np.isfinite(s).all() and (s >= 0).all()
        np.testing.assert_array_equal(t.variable.numpy(), w)  # scoring never changes the model
    again = criteria.score(name, tiny_model, targets, calibration, seed=3)
    for a, b in zip(scores, again):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)  # deterministic for a seed
    assert any(s.std() > 0 for s in scores)  # it ranks something


@pytest.mark.parametrize("name", ["magnitude", "taylor", "fisher", "wanda"])
def test_weight_dependent_criteria_score_a_zero_weight_zero(name, tiny_model, calibration):
    targets = criteria.find_targets(tiny_model)
    kernel = targets[0].variable
    kernel.assign(
        np.where(
            np.arange(kernel.shape.num_elements()).reshape(kernel.shape) % 2 == 0,
            0.0,
            kernel.numpy(),
        )
    )
    scores = criteria.score(name, tiny_model, targets, calibration)
    assert (scores[0][kernel.numpy() == 0] == 0).all()


def test_data_driven_criteria_need_calibration(tiny_model):
    with pytest.raises(SpecError, match="needs calibration data"):
        criteria.score("fisher", tiny_model, criteria.find_targets(tiny_model))
    with pytest.raises(SpecError, match="unknown criterion"):
        criteria.score("eigen", tiny_model, criteria.find_targets(tiny_model))


def test_targets_skip_head_depthwise_bias_and_batchnorm_by_default(tiny_model):
    names = [t.name for t in criteria.find_targets(tiny_model)]
    assert names == ["conv1", "conv2", "fc1"]
    assert all("bias" not in t.variable.name for t in criteria.find_targets(tiny_model, True, True))
    everything = [
        t.name for t in criteria.find_targets(tiny_model, prune_head=True, prune_depthwise=True)
    ]
    assert everything == ["conv1", "dw1", "conv2", "fc1", "predictions"]


def _two_parameter_model():
    """logits = [θ1·x1 + θ2·x2, 0] with θ = (1, 1): a model with exactly two parameters."""
    from prune_core.engine.keras_env import keras

    inp = keras.Input((2,))
    z = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones", name="theta")(inp)
    zero = keras.layers.Dense(
        1, use_bias=False, kernel_initializer="zeros", trainable=False, name="zero"
    )(inp)
    out = keras.layers.Activation("softmax")(keras.layers.Concatenate()([z, zero]))
    return keras.Model(inp, out)


def test_seed_fisher_example_diag_10_1_with_threshold_5_removes_theta2():
    """The seed's §4.3: F = diag(10, 1), threshold 5 → θ₂ is removed, θ₁ kept.

    Two examples of class 0 chosen so the per-example gradients of log p(y|x) give exactly
    F11 = 10 and F22 = 1: x = (u, −u) with u² = 8 (z = 0, gradient ½x) and x = (v, 0) with
    σ(−v)²·v² = 18."""
    model = _two_parameter_model()
    u = np.sqrt(8.0)
    v = brentq(lambda t: 1.0 / (1.0 + np.exp(t)) * abs(t) - np.sqrt(18.0), -6.0, -3.0)
    cal = criteria.Calibration(
        np.array([[u, -u], [v, 0.0]], np.float32), np.array([0, 0]), batch_size=2
    )
    theta = model.get_layer("theta")
    target = criteria.Target(theta, theta.kernel)

    fisher = criteria.fisher_diagonal(model, [theta.kernel], cal)[0].ravel()
    np.testing.assert_allclose(fisher, [10.0, 1.0], rtol=1e-4)  # diagonal = the eigenvalues
    np.testing.assert_array_equal(selection.threshold([fisher], 5.0)[0], [1.0, 0.0])

    saliency = criteria.score("fisher", model, [target], cal)[0].ravel()
    np.testing.assert_allclose(saliency, 0.5 * fisher * 1.0**2, rtol=1e-6)  # OBD: ½·F·θ²
    np.testing.assert_array_equal(selection.threshold([saliency], 2.5)[0], [1.0, 0.0])


def test_fisher_uses_per_example_gradients_not_the_batch_gradient():
    """Two examples whose gradients cancel in the batch mean still carry Fisher information."""
    model = _two_parameter_model()
    cal = criteria.Calibration(
        np.array([[2.0, -2.0], [-2.0, 2.0]], np.float32), np.array([0, 0]), batch_size=2
    )
    theta = model.get_layer("theta")
    fisher = criteria.fisher_diagonal(model, [theta.kernel], cal)[0].ravel()
    gradient = criteria.score("gradient", model, [criteria.Target(theta, theta.kernel)], cal)[
        0
    ].ravel()
    np.testing.assert_allclose(gradient, [0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(fisher, [1.0, 1.0], rtol=1e-5)  # (½·2)² for each example


def test_wanda_is_magnitude_times_the_input_channels_norm(tiny_model, calibration):
    from prune_core.engine.keras_env import keras

    targets = criteria.find_targets(tiny_model)
    scores = criteria.score("wanda", tiny_model, targets, calibration)
    for t, s in zip(targets, scores):
        inputs = keras.Model(tiny_model.inputs, t.layer.input)(
            calibration.x, training=False
        ).numpy()
        norms = np.sqrt((inputs.reshape(-1, inputs.shape[-1]) ** 2).sum(axis=0))
        w = np.abs(t.variable.numpy())
        shape = [1] * w.ndim
        shape[w.ndim - 2] = -1
        np.testing.assert_allclose(s, w * norms.reshape(shape), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("name", ["gradient", "taylor"])
def test_gradient_criteria_are_batch_means_kept_in_the_weights_precision(
    name, tiny_model, calibration
):
    """|g| and |w·g| averaged over the calibration batches, summed layer by layer in place and
    returned in float32 (float32 weights): exactly the plain per-batch arithmetic, without a float64
    copy or a second whole-model sum."""
    targets = criteria.find_targets(tiny_model)
    scores = criteria.score(name, tiny_model, targets, calibration)
    weights = [t.variable.numpy() for t in targets]
    batches = list(criteria.batch_gradients(tiny_model, targets, calibration))
    parts = [
        [np.abs(gi) if name == "gradient" else np.abs(w * gi) for w, gi in zip(weights, g)]
        for g in batches
    ]
    for i, s in enumerate(scores):
        plain = parts[0][i].copy()
        for part in parts[1:]:
            plain = plain + part[i]
        assert s.dtype == np.float32
        np.testing.assert_array_equal(s, plain / len(batches))
    for s in criteria.score("fisher", tiny_model, targets, calibration):
        assert s.dtype == np.float32
