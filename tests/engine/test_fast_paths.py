"""The hot-path shortcuts of fit give the same numbers as the general code."""
import warnings

import numpy as np
import pytest

from engine import divergence, losses
from engine.activations import Sigmoid
from engine.layers import Dense
from engine.models import Sequential
from engine.optimizers import SGD
from engine.training import EpochMeter, class_labels


def _model(loss="categorical_crossentropy"):
    m = Sequential(seed=3)
    m.add(Dense(5, activation="sigmoid", input_dim=4))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss=loss, optimizer=SGD(0.1), metrics=["acc"])
    return m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_sample_labels_equals_per_sample(dtype):
    rng = np.random.default_rng(0)
    y_pred = rng.dirichlet(np.ones(10), size=64).astype(dtype)
    y_pred[0] = [1.0] + [0.0] * 9           # clipped at both ends
    labels = rng.integers(0, 10, 64)
    one_hot = np.eye(10, dtype=dtype)[labels]
    loss = losses.get("categorical_crossentropy")
    np.testing.assert_array_equal(loss.per_sample_labels(labels, y_pred), loss.per_sample(one_hot, y_pred))


def test_class_labels_only_for_exact_one_hot():
    m = _model()
    y = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    np.testing.assert_array_equal(class_labels(m, y), [0, 2, 1, 1])
    soft = y * 0.9 + 0.1 / 3
    assert class_labels(m, soft) is None
    assert class_labels(_model("mse"), y) is None
    sparse = _model("sparse_categorical_crossentropy")
    np.testing.assert_array_equal(class_labels(sparse, np.array([2, 0])), [2, 0])


def test_meter_with_labels_matches_general_path():
    m = _model()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    trace = m.forward(x, y)
    a, b = EpochMeter(m), EpochMeter(m)
    a.update(trace)
    b.update(trace, class_labels(m, y))
    assert a.result() == b.result()


def test_fit_label_path_matches_general_path(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 40)]
    fast = _model()
    h1 = fast.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    import engine.training as training
    monkeypatch.setattr(training, "class_labels", lambda model, y: None)
    slow = _model()
    h2 = slow.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert dict(h1) == dict(h2)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_all_finite():
    a = np.ones((3, 4), np.float32)
    assert divergence.all_finite([a, a.T])
    big = np.full((4, 4), 3e38, np.float32)               # the dot product overflows, values are finite
    assert divergence.all_finite([big])
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[1, 2] = bad
        assert not divergence.all_finite([a, b])
    assert not divergence.all_finite([np.array([np.nan], np.float16)])


def test_sigmoid_extremes_without_warnings():
    z = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = Sigmoid().forward(z)
        out = np.empty_like(z)
        Sigmoid().forward(z, out=out)
    np.testing.assert_array_equal(a, [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(out, a)
    np.testing.assert_allclose(Sigmoid().forward(np.array([-3, 0, 2])), 1 / (1 + np.exp(-np.array([-3.0, 0, 2]))))
