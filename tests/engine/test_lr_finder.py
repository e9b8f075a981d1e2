"""The LR range test: geometric rates, smoothing, suggestion, early stop."""
from __future__ import annotations

import numpy as np
import pytest

from engine.builder import build_model
from engine.lr_finder import range_test, rate_schedule, smooth, suggest


def test_rate_schedule_is_geometric():
    rates = rate_schedule(1e-3, 1.0, 4)
    np.testing.assert_allclose(rates, [1e-3, 1e-2, 1e-1, 1.0])
    with pytest.raises(ValueError):
        rate_schedule(1.0, 0.1, 5)


def test_smoothing_is_bias_corrected():
    np.testing.assert_allclose(smooth([2.0, 2.0, 2.0]), [2.0, 2.0, 2.0])
    s = smooth([1.0, 3.0], beta=0.5)
    assert s[1] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25))


def test_suggest_picks_the_steepest_descent_before_the_minimum():
    rates = np.geomspace(1e-4, 1.0, 9)
    losses = np.array([1.0, 0.99, 0.97, 0.6, 0.3, 0.25, 0.24, 0.5, 2.0])
    assert suggest(rates, losses) == pytest.approx(rates[3])


def test_range_test_on_a_real_network():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    y = np.eye(2, dtype=np.float32)[labels]
    model = build_model(2, [{"units": 16, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
                        "categorical_crossentropy", {"name": "sgd"}, seed=0)
    out = range_test(model, x, y, batch_size=8, min_lr=1e-4, max_lr=50.0)
    n = len(out["learning_rates"])
    assert 2 <= n <= 32 and len(out["losses"]) == n == len(out["smoothed"])
    assert out["learning_rates"][0] == pytest.approx(1e-4)
    assert 1e-4 <= out["suggested_learning_rate"] <= 50.0
    assert out["stopped"] in (None, "loss_exploded", "diverged")
