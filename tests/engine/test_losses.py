"""Losses: values against hand-computed numbers, gradients against finite differences, extremes."""
import math

import numpy as np
import pytest

from engine import losses

Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
P = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])


def test_values_by_hand():
    assert losses.get("mse")(Y, P) == pytest.approx(((0.04 + 0.09 + 0.01) / 3 + (0.25 + 0.09 + 0.04) / 3) / 2)
    assert losses.get("mae")(Y, P) == pytest.approx(((0.2 + 0.3 + 0.1) / 3 + (0.5 + 0.3 + 0.2) / 3) / 2)
    assert losses.get("categorical_crossentropy")(Y, P) == pytest.approx((-math.log(0.7) - math.log(0.5)) / 2)
    assert losses.get("sparse_categorical_crossentropy")(np.array([1, 0]), P) == pytest.approx(
        (-math.log(0.7) - math.log(0.5)) / 2)
    # hinge: 0/1 labels become ±1; row 1 margins: 1+0.2, 1-0.7, 1+0.1
    h1 = (1.2 + 0.3 + 1.1) / 3
    h2 = (0.5 + 1.3 + 1.2) / 3
    assert losses.get("hinge")(Y, P) == pytest.approx((h1 + h2) / 2)
    sq = ((1.44 + 0.09 + 1.21) / 3 + (0.25 + 1.69 + 1.44) / 3) / 2
    assert losses.get("squared_hinge")(Y, P) == pytest.approx(sq)
    bce_row1 = -(math.log(0.8) + math.log(0.7) + math.log(0.9)) / 3
    bce_row2 = -(math.log(0.5) + math.log(0.7) + math.log(0.8)) / 3
    assert losses.get("binary_crossentropy")(Y, P) == pytest.approx((bce_row1 + bce_row2) / 2)


@pytest.mark.parametrize("name", losses.names())
def test_gradient_matches_finite_differences(name):
    loss = losses.get(name)
    y = np.array([1, 0]) if loss.targets == "sparse" else Y
    analytic = loss.gradient(y, P)
    h = 1e-7
    numeric = np.zeros_like(P)
    for idx in np.ndindex(P.shape):
        pp, pm = P.copy(), P.copy()
        pp[idx] += h
        pm[idx] -= h
        numeric[idx] = (loss.per_sample(y, pp)[idx[0]] - loss.per_sample(y, pm)[idx[0]]) / (2 * h)
    assert np.max(np.abs(analytic - numeric)) < 1e-6


@pytest.mark.parametrize("name", losses.names())
def test_probabilities_of_zero_and_one_stay_finite(name):
    loss = losses.get(name)
    p = np.array([[1.0, 0.0, 0.0]])
    y = np.array([1]) if loss.targets == "sparse" else np.array([[0.0, 1.0, 0.0]])
    value = loss(y, p)
    assert math.isfinite(value)
    assert np.all(np.isfinite(loss.gradient(y, p)))


def test_crossentropy_of_certain_wrong_answer_is_clipped_at_log_eps():
    value = losses.get("categorical_crossentropy")(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    assert value == pytest.approx(-math.log(1e-7), rel=1e-6)


def test_fused_deltas():
    assert np.allclose(losses.get("categorical_crossentropy").fused_delta(Y, P), P - Y)
    assert np.allclose(losses.get("binary_crossentropy").fused_delta(Y, P), (P - Y) / 3)


def test_unknown_loss_lists_names():
    with pytest.raises(ValueError, match="Valid names: .*categorical_crossentropy"):
        losses.get("cross_entropy")
