"""Regularizers: penalties and gradients against hand numbers and central finite differences."""
import os

import numpy as np
import pytest

from engine import regularizers
from engine.regularizers import L1, L1L2, L2

W = np.array([[0.5, -1.5], [2.0, -0.25]])      # Σ|w| = 4.25, Σw² = 0.25 + 2.25 + 4 + 0.0625 = 6.5625


def test_l1_value_and_gradient_by_hand():
    reg = L1(0.1)
    assert reg(W) == pytest.approx(0.1 * 4.25, rel=1e-15)
    np.testing.assert_array_equal(reg.gradient(W), [[0.1, -0.1], [0.1, -0.1]])


def test_l2_value_and_gradient_by_hand():
    reg = L2(0.1)
    assert reg(W) == pytest.approx(0.1 * 6.5625, rel=1e-15)
    np.testing.assert_allclose(reg.gradient(W), [[0.1, -0.3], [0.4, -0.05]], rtol=1e-15)


def test_l1l2_is_the_sum_by_hand():
    reg = L1L2(l1=0.1, l2=0.01)
    assert reg(W) == pytest.approx(0.425 + 0.065625, rel=1e-15)
    np.testing.assert_allclose(reg.gradient(W), [[0.1 + 0.01, -0.1 - 0.03], [0.1 + 0.04, -0.1 - 0.005]],
                               rtol=1e-15)


def test_l1_subgradient_at_zero_is_zero():
    w = np.array([0.0, -0.0, 3.0])
    np.testing.assert_array_equal(L1(0.5).gradient(w), [0.0, 0.0, 0.5])
    np.testing.assert_array_equal(L1L2(l1=0.5, l2=1.0).gradient(w), [0.0, 0.0, 0.5 + 6.0])


@pytest.mark.parametrize("reg", [L1(0.03), L2(0.07), L1L2(l1=0.02, l2=0.05)], ids=repr)
def test_gradient_matches_central_finite_differences(reg):
    w = np.random.default_rng(0).uniform(0.1, 1.0, size=(4, 3)) * np.array([1, -1, 1])   # away from 0
    h = 1e-6
    numeric = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (reg(up) - reg(down)) / (2 * h)
    np.testing.assert_allclose(reg.gradient(w), numeric, rtol=1e-6, atol=1e-10)


def test_gradient_keeps_shape_and_dtype():
    w = W.astype(np.float32)
    for reg in (L1(), L2(), L1L2(0.1, 0.1), L1L2()):
        g = reg.gradient(w)
        assert g.dtype == np.float32 and g.shape == w.shape
        assert isinstance(reg(w), float)


def test_keras3_defaults():
    assert L1().get_config() == {"l1": 0.01}
    assert L2().get_config() == {"l2": 0.01}
    assert L1L2().get_config() == {"l1": 0.0, "l2": 0.0}       # Keras 3's l1_l2 defaults to no penalty
    assert L1L2()(W) == 0.0 and not L1L2().gradient(W).any()


@pytest.mark.parametrize("name, cls", [("l1", L1), ("L1", L1), ("l2", L2), ("L2", L2), ("l1_l2", L1L2),
                                       ("l1l2", L1L2), ("L1L2", L1L2)])
def test_names(name, cls):
    assert type(regularizers.get(name)) is cls


def test_get_with_overrides_dict_none_and_unknown():
    reg = regularizers.get("l1_l2", l1=0.1, l2=0.2)
    assert (reg.l1, reg.l2) == (0.1, 0.2)
    assert regularizers.get({"name": "l2", "l2": 0.5}).l2 == 0.5
    assert regularizers.get(reg) is reg
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="l1, l1_l2, l1l2, l2"):
        regularizers.get("l3")


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_invalid_factors_raise(bad):
    with pytest.raises(ValueError, match="l2"):
        L2(bad)
    with pytest.raises(ValueError, match="l1"):
        L1L2(l1=bad)


def test_serialize_round_trip():
    reg = L1L2(l1=0.003, l2=0.004)
    data = regularizers.serialize(reg)
    assert data == {"class_name": "L1L2", "config": {"l1": 0.003, "l2": 0.004}}
    back = regularizers.deserialize(data)
    assert type(back) is L1L2 and back.get_config() == reg.get_config()
    assert regularizers.serialize(None) is None


@pytest.mark.keras
def test_penalties_match_keras3():
    os.environ["KERAS_BACKEND"] = "torch"
    keras = pytest.importorskip("keras")
    w = np.random.default_rng(1).normal(size=(30, 20)).astype(np.float32)
    pairs = [(L1(0.01), keras.regularizers.L1(0.01)), (L2(0.02), keras.regularizers.L2(0.02)),
             (L1L2(0.01, 0.02), keras.regularizers.L1L2(l1=0.01, l2=0.02))]
    for ours, theirs in pairs:
        expected = float(keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(w))))
        assert ours(w) == pytest.approx(expected, rel=1e-6)
    assert keras.regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
