"""The LR range test: geometric rates, smoothing, suggestion, early stop."""
from __future__ import annotations

import numpy as np
import pytest

from engine.builder import build_model
from engine.compare import range_test_run
from engine.lr_finder import MIN_STEPS, range_test, rate_schedule, smooth, suggest, suggestions


def test_rate_schedule_is_geometric():
    rates = rate_schedule(1e-3, 1.0, 4)
    np.testing.assert_allclose(rates, [1e-3, 1e-2, 1e-1, 1.0])
    with pytest.raises(ValueError):
        rate_schedule(1.0, 0.1, 5)


def test_smoothing_is_bias_corrected():
    np.testing.assert_allclose(smooth([2.0, 2.0, 2.0]), [2.0, 2.0, 2.0])
    s = smooth([1.0, 3.0], beta=0.5)
    assert s[1] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25))


def test_suggest_is_the_minimum_over_ten_and_steepest_is_reported():
    rates = np.geomspace(1e-4, 1.0, 9)
    losses = np.array([1.0, 0.99, 0.97, 0.6, 0.3, 0.25, 0.24, 0.5, 2.0])
    assert suggest(rates, losses) == pytest.approx(rates[6] / 10)
    found = suggestions(rates, losses)
    assert found["minimum"] == pytest.approx(rates[6]) and found["steepest"] == pytest.approx(rates[3])
    assert suggest(rates, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8]) == pytest.approx(rates[0])


@pytest.mark.parametrize("name", ["xor", "circle"])
def test_suggested_rate_lies_where_sgd_trains_well(name):
    """xor and circle (250 training points, batch 16: a pass is only 16 batches) train well with SGD at
    η ≈ 0.1–1 and poorly at 0.01 or 10; the range test (lengthened to MIN_STEPS batches) must land there."""
    spec = {"dataset": {"name": name, "seed": 0}, "layers": [{"units": 8, "activation": "tanh"},
            {"units": 8, "activation": "tanh"}, {"units": 2, "activation": "softmax"}], "loss": None,
            "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 16, "seed": 0}
    out = range_test_run(spec, 1e-5, 10.0)
    assert len(out["learning_rates"]) > 200 and MIN_STEPS == 300     # not the 16 batches of one pass
    assert 0.03 <= out["suggested_learning_rate"] <= 1.0


def test_range_test_on_a_real_network():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    y = np.eye(2, dtype=np.float32)[labels]
    model = build_model(2, [{"units": 16, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
                        "categorical_crossentropy", {"name": "sgd"}, seed=0)
    out = range_test(model, x, y, batch_size=8, min_lr=1e-4, max_lr=50.0)
    n = len(out["learning_rates"])
    assert 2 <= n <= MIN_STEPS and len(out["losses"]) == n == len(out["smoothed"])
    assert out["learning_rates"][0] == pytest.approx(1e-4)
    assert 1e-4 <= out["suggested_learning_rate"] <= 50.0
    assert out["stopped"] in (None, "loss_exploded", "diverged")


def test_seeded_suggestion_is_the_rule_on_the_mean_curve():
    """Three seeds' smoothed curves over the same rates: the suggestion is a tenth of the rate where
    their mean is lowest (computed here by hand), over the rates all three reached."""
    from engine.lr_finder import seeded_suggestion
    rates = list(np.geomspace(1e-3, 10, 40))
    x = np.log10(rates)
    curves = [list((x - c) ** 2 + 1) for c in (-1.0, -0.5, 0.3)]      # minima at 0.1, 0.32, 2
    curves[2] = curves[2][:35]                                           # stopped early
    runs = [{"learning_rates": rates[:len(c)], "smoothed": c} for c in curves]
    got = seeded_suggestion(runs)
    mean = np.mean([c[:35] for c in curves], axis=0)
    skip = 35 // 10
    expected = rates[skip + int(np.argmin(mean[skip:]))] / 10
    assert got["suggested_learning_rate"] == pytest.approx(expected) and got["seeds"] == 3
    assert "mean over 3 seeds" in got["rule"] and "minimum / 10" in got["rule"]
    single = seeded_suggestion(runs[:1])
    assert single["suggested_learning_rate"] == pytest.approx(rates[int(np.argmin(curves[0][4:])) + 4] / 10)
