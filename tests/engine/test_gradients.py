"""Backpropagation against central finite differences (float64), for every activation × loss."""
import numpy as np
import pytest

from engine import Activation, Dense, Dropout, Sequential, activations, gradient_check, losses, regularizers

POSITIVE_OUTPUT = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"}


def _data(loss_name, k=3, n=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    labels = rng.integers(0, k, n)
    if loss_name == "sparse_categorical_crossentropy":
        return x, labels
    if loss_name in POSITIVE_OUTPUT or "hinge" in loss_name:
        return x, np.eye(k)[labels]
    return x, rng.normal(size=(n, k))


def _model(hidden, output, loss, use_bias=True, reg=None, seed=0):
    m = Sequential(seed=seed, dtype="float64")
    m.add(Dense(5, activation=hidden, input_dim=4, use_bias=use_bias, kernel_regularizer=reg,
                bias_initializer="random_normal"))
    m.add(Dense(3, activation=output, use_bias=use_bias, kernel_regularizer=reg))
    m.compile(loss=loss, optimizer="sgd")
    return m


@pytest.mark.parametrize("loss", losses.names())
@pytest.mark.parametrize("act", activations.names())
def test_every_activation_with_every_loss(act, loss):
    """``act`` is the hidden and the output activation (a positive one where the loss needs it)."""
    output = act if loss not in POSITIVE_OUTPUT or act in ("sigmoid", "softmax", "softplus") else "sigmoid"
    x, y = _data(loss)
    report = gradient_check(_model(act, output, loss), x, y)
    assert report["worst"] < 1e-6, report


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("reg", [None, regularizers.L2(0.01), regularizers.L1(0.01), regularizers.L1L2(0.01, 0.02)])
def test_bias_and_regularizers(use_bias, reg):
    x, y = _data("categorical_crossentropy")
    report = gradient_check(_model("tanh", "softmax", "categorical_crossentropy", use_bias, reg), x, y)
    assert report["worst"] < 1e-6, report
    assert ("b(1)" in report) == use_bias


def test_activation_layers_and_deep_net():
    m = Sequential(seed=2, dtype="float64")
    m.add(Dense(6, input_dim=4))
    m.add(Activation("elu"))
    m.add(Dense(5, activation="sigmoid"))
    m.add(Dense(4, activation="relu"))
    m.add(Dense(3))
    m.add(Activation("softmax"))
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    x, y = _data("categorical_crossentropy")
    assert m.fused()
    assert gradient_check(m, x, y)["worst"] < 1e-6


def test_dropout_gradient_with_a_fixed_mask():
    """With the mask held fixed, dropout's backward (grad ⊙ m) is exact."""
    m = Sequential(seed=3, dtype="float64")
    m.add(Dense(6, activation="tanh", input_dim=4))
    drop = Dropout(0.5, seed=11)
    m.add(drop)
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    x, y = _data("categorical_crossentropy")

    def cost():
        drop.rng = np.random.default_rng(11)
        return m.forward(x, y, training=True).loss

    cost()
    m.backward()
    analytic = m.dense_layers[0].d_kernel.copy()
    assert m.trace.layers[0].mask is not None and (m.trace.layers[0].mask == 0).any()
    kernel, h = m.dense_layers[0].kernel, 1e-6
    for idx in np.ndindex(kernel.shape):
        saved = kernel[idx]
        kernel[idx] = saved + h
        plus = cost()
        kernel[idx] = saved - h
        minus = cost()
        kernel[idx] = saved
        assert abs((plus - minus) / (2 * h) - analytic[idx]) < 1e-8


def test_lecture_delta_formula_holds_in_the_trace():
    """δ(l) = (δ(l+1)·W(l)) ⊙ f′(z(l)) and ∂cost/∂W(l) = δ(l+1)ᵀ·a(l)/batch, from the trace's own arrays."""
    m = _model("sigmoid", "softmax", "categorical_crossentropy")
    x, y = _data("categorical_crossentropy")
    m.forward(x, y)
    t = m.backward()
    first, second = t.layers
    assert np.allclose(second.delta, second.a - y)                       # δ(3) = ŷ − y
    z2 = first.z
    f_prime = (1 / (1 + np.exp(-z2))) * (1 - 1 / (1 + np.exp(-z2)))
    assert np.allclose(first.delta, (second.delta @ second.W) * f_prime)  # δ(2)
    assert np.allclose(second.dW, second.delta.T @ first.a / len(x))     # ∂cost/∂W(2)
    assert np.allclose(first.dW, first.delta.T @ x / len(x))             # ∂cost/∂W(1)
    assert np.allclose(first.z, x @ first.W.T + first.b)                 # z(2) = a(1)·W(1)ᵀ + b(1)
