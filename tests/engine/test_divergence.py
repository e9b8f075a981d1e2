"""Diverged names the first quantity that went NaN or ±inf, in the step-by-step API and in fit."""
import warnings

import numpy as np
import pytest

from engine import SGD, Dense, Diverged, Sequential, to_categorical
from engine.activations import overflow_ignored
from engine.divergence import block_finite, finite

X = np.array([[0.5, -1.0], [1.5, 2.0], [-0.3, 0.7]], dtype=np.float32)
Y = to_categorical([0, 1, 1], 2)


def _model(activation="sigmoid", lr=0.1):
    m = Sequential(seed=0)
    m.add(Dense(4, activation=activation, input_dim=2))
    m.add(Dense(3, activation=activation))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=lr))
    return m


def test_finite_detects_nan_and_inf_anywhere():
    a = np.zeros((7, 5), dtype=np.float32)
    assert finite(a)
    for value in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[6, 4] = value
        assert not finite(b)
        assert not finite(b.T)          # non-contiguous views too
    huge = np.full(10, 3e38, dtype=np.float32)   # finite values whose sum overflows
    assert finite(huge)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_finite_detects_nan_and_inf_and_passes_sums_that_overflow(dtype):
    block = np.linspace(-1, 1, 6784).astype(dtype)
    assert block_finite(block)
    for value in (np.nan, np.inf, -np.inf):
        b = block.copy()
        b[4321] = value
        assert not block_finite(b)
    b = block.copy()
    b[:2] = (np.inf, -np.inf)                    # inf + (−inf): the sum is NaN, not inf
    assert not block_finite(b)
    huge = np.full(6784, np.finfo(dtype).max / 2, dtype=dtype)   # finite, but the sum overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # and says nothing about it, inside a loop or not
        assert block_finite(huge)
        with overflow_ignored():
            assert block_finite(huge)


def test_nan_weight_is_named_by_the_z_it_poisons():
    m = _model()
    m.dense_layers[1].kernel[0, 0] = np.nan          # W(2)
    with pytest.raises(Diverged) as info:
        m.forward(X, Y)
    assert (info.value.quantity, info.value.layer) == ("z(3)", 2)


def test_infinite_z_is_caught_even_when_sigmoid_saturates_to_a_finite_a():
    m = _model("sigmoid")
    m.dense_layers[0].kernel[:] = 3e38                 # z(2) overflows to +inf, a(2) = 1.0
    # called directly, outside fit's loop, the engine leaves NumPy's own warning as it is
    with pytest.raises(Diverged) as info, pytest.warns(RuntimeWarning, match="overflow"):
        m.forward(X, Y)
    assert (info.value.quantity, info.value.layer) == ("z(2)", 1)


def test_step_by_step_update_that_overflows_is_named_before_the_next_forward():
    m = _model("relu", lr=1e38)
    m.forward(X * 1e3, Y)
    m.backward()
    with pytest.raises(Diverged) as info, pytest.warns(RuntimeWarning, match="overflow"):
        m.apply_gradients()
    assert info.value.quantity.startswith(("W(", "b(")) and info.value.step == 1

