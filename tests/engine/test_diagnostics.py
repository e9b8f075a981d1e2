"""engine/diagnostics.py: a rising or oscillating loss, saturated and dead units."""
import numpy as np
import pytest

from engine import Dense, Sequential
from engine.diagnostics import loss_trend, unit_health


def test_loss_trend():
    falling = np.linspace(1.0, 0.2, 60)
    assert not loss_trend(falling)["rising"] and not loss_trend(falling)["oscillating"]
    rising = np.linspace(0.3, 1.2, 60)
    trend = loss_trend(rising)
    assert trend["rising"] and trend["last"] > 1.5 * trend["first"]
    zigzag = 1.0 + 0.6 * (-1.0) ** np.arange(60)         # ±0.6 around 1: swing 1.2
    trend = loss_trend(zigzag)
    assert trend["oscillating"] and trend["flip_share"] == 1.0 and not trend["rising"]
    noisy = 1.0 + 0.02 * (-1.0) ** np.arange(60)         # flips, but by 2 %: not an oscillation
    assert not loss_trend(noisy)["oscillating"]
    assert loss_trend([1.0, 2.0])["window"] == 2 and not loss_trend([1.0, 2.0])["rising"]


def test_a_few_bad_batches_late_in_the_window_are_no_rise_without_a_trend():
    """Minibatch noise: a small loss with a few bad batches. Two of them in the last quarter more
    than double its mean (the 1.5 × rule alone says "rising"), but the loss does not rise step
    after step: ρ stays small, and it is no rise. The same levels climbing steadily are one."""
    rng = np.random.default_rng(3)
    losses = 0.08 * np.exp(0.3 * rng.standard_normal(60))
    losses[[50, 56]] = [0.9, 0.95]                          # two bad batches
    trend = loss_trend(losses)
    assert trend["last"] >= 1.5 * trend["first"]
    assert abs(trend["trend"]) < 0.5 and not trend["rising"], trend
    climbing = np.sort(losses)                              # the same values, each step worse
    trend = loss_trend(climbing)
    assert trend["trend"] == 1.0 and trend["rising"]


def test_the_trend_is_spearmans_rho_recomputed_from_ranks():
    rng = np.random.default_rng(0)
    losses = rng.random(60) + np.linspace(0, 0.5, 60)       # no ties: ranks are argsort of argsort
    ranks = np.argsort(np.argsort(losses))
    rho = np.corrcoef(ranks, np.arange(60))[0, 1]
    assert loss_trend(losses)["trend"] == pytest.approx(rho, abs=1e-12)
    tied = np.array([1.0, 2.0, 2.0, 3.0] * 3)              # ties take their mean rank
    mean_ranks = np.array([np.mean(np.flatnonzero(np.sort(tied) == v)) for v in tied])
    assert loss_trend(tied)["trend"] == pytest.approx(np.corrcoef(mean_ranks, np.arange(12))[0, 1], abs=1e-12)
    assert loss_trend(np.ones(20))["trend"] == 0.0


def _model(act, scale, bias=0.0):
    m = Sequential(seed=0)
    m.add(Dense(6, activation=act, input_dim=2))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    kernel, b = m.dense_layers[0].kernel, m.dense_layers[0].bias
    m.dense_layers[0].kernel = kernel * scale
    b[...] = bias
    return m


def test_unit_health():
    x = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32)
    healthy = unit_health(_model("tanh", 1.0), x)
    assert healthy[0]["saturated"] == [] and len(healthy) == 1       # the output layer is left out
    saturated = unit_health(_model("tanh", 1000.0), x)[0]
    a = np.tanh(x @ _model("tanh", 1000.0).dense_layers[0].kernel)
    expected = np.flatnonzero((np.abs(a) > 0.98).mean(axis=0) >= 0.95).tolist()
    assert saturated["saturated"] == expected and len(expected) >= 4
    dead = unit_health(_model("relu", 1.0, bias=-100.0), x)[0]
    assert dead["dead"] == list(range(6))


def _regression(lr, momentum=0.0, seed=0):
    """y = x·w* + noise, a linear unit and MSE: the cost is a quadratic bowl whose steepest
    curvature is 2·λmax(xᵀx/n), so plain gradient descent overshoots for η > 1/λmax."""
    from engine.optimizers import SGD
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, 4)).astype(np.float32) * np.array([3.0, 1.0, 1.0, 0.5], np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32) + 0.1 * rng.standard_normal((256, 1))).astype(np.float32)
    m = Sequential(seed=seed)
    m.add(Dense(1, activation="linear", input_dim=4))
    m.compile(loss="mse", optimizer=SGD(learning_rate=lr, momentum=momentum))
    return m, x, y


def test_overshoot_replays_steps_from_the_state_and_puts_it_back():
    from engine.diagnostics import overshoot
    m, x, y = _regression(0.01, momentum=0.9)
    m.fit(x, y, batch_size=16, epochs=1, verbose=0)                  # momentum slots exist now
    weights, state, step = m.get_weights(), m.optimizer.get_state(), m.step
    out = overshoot(m, x, y, batch_size=16, x_eval=x[:64], y_eval=y[:64], steps=5, seed=3)
    # the model is as it was: weights and the optimizer's slots, bit for bit
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), weights))
    after = m.optimizer.get_state()
    assert after["iterations"] == state["iterations"]
    assert all(np.array_equal(a, b) for k in state["slots"] for a, b in zip(after["slots"][k], state["slots"][k]))
    # the costs recomputed by hand: the same batches (same generator), SGD with momentum written out
    rng = np.random.default_rng(3)
    K, b = [w.astype(np.float64) for w in weights]
    vK, vb = [s.astype(np.float64) for s in state["slots"]["momentum"]]
    cost = lambda K, b: float(np.mean((x[:64] @ K + b - y[:64]) ** 2))           # noqa: E731
    expected = [cost(K, b)]
    for _ in range(5):
        rows = np.sort(rng.choice(256, size=16, replace=False))
        err = x[rows] @ K + b - y[rows]
        gK, gb = 2 * x[rows].T @ err / 16, 2 * err.mean(axis=0)
        vK, vb = 0.9 * vK - 0.01 * gK, 0.9 * vb - 0.01 * gb                     # v ← βv − η·g; w ← w + v
        K, b = K + vK, b + vb
        expected.append(cost(K, b))
    np.testing.assert_allclose(out["costs"], expected, rtol=2e-4)
    assert m.step >= step and out["steps"] == 5


def test_overshoot_tells_too_large_a_rate_from_minibatch_noise():
    from engine.diagnostics import overshoot
    x = _regression(0.1)[1].astype(np.float64)
    lam = np.linalg.eigvalsh(2 * (x.T @ x) / 256).max()              # the largest curvature of MSE
    small, x, y = _regression(0.2 / lam)
    small.fit(x, y, batch_size=8, epochs=20, verbose=0)               # near the bottom: batch noise only
    calm = overshoot(small, x, y, batch_size=8)
    big, x, y = _regression(2.2 / lam)                                 # beyond 2/λmax: each step overshoots
    wild = overshoot(big, x, y, batch_size=8)
    assert not calm["overshooting"] and calm["swing"] < 0.1, calm
    assert wild["overshooting"] and wild["rose"] >= 4, wild
