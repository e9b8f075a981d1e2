"""engine/diagnostics.py: a rising or oscillating loss, saturated and dead units."""
import numpy as np

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
