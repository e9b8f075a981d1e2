"""The fast path's packed update is the optimizer's written rule (SGD: ``w -= lr * g``), bit for bit,
a subclass's own rule included; and the overflow context that lets sigmoid skip np.errstate inside a
run's epoch."""
import warnings

import numpy as np
import pytest

from engine import SGD, Dense, Sequential
from engine.activations import Sigmoid, overflow_ignored
from engine.callbacks import Callback
from engine.fast import use_fast_step


def _model(optimizer=None, seed=4, regularizer=None):
    m = Sequential(seed=seed)
    m.add(Dense(6, activation="sigmoid", input_dim=5, kernel_regularizer=regularizer))
    m.add(Dense(4, activation="tanh"))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=optimizer or SGD(0.3), metrics=["acc"])
    return m


def _data(n=50, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def test_the_packed_update_is_the_rule_bit_for_bit():
    """FastStep's one update of the packed vector against SGD.update's ``w -= lr * g`` on each
    array with the same gradients: equal bit for bit, at every step, with decay too."""
    x, y = _data()
    for optimizer in (SGD(0.3), SGD(0.3, decay=0.2)):
        m = use_fast_step(_model(optimizer))
        fast = m.stepper
        for step in range(6):
            m.forward(x[8 * step:8 * step + 8], y[8 * step:8 * step + 8])
            m.backward()
            before = [p.copy() for p in fast.packed.params]
            rate = m.optimizer.current_learning_rate()
            expected = []
            for p, g in zip(before, fast.packed.grads):
                w = p.copy()
                w -= rate * g                     # the rule as engine/optimizers/sgd.py writes it
                expected.append(w)
            m.apply_gradients(return_deltas=False)
            for p, e in zip(fast.packed.params, expected):
                np.testing.assert_array_equal(p, e)


def test_sgd_subclass_with_its_own_rule_takes_its_own_rule():
    class ClipSGD(SGD):
        def update(self, w, g, s, lr):
            super().update(w, np.clip(g, -1e-3, 1e-3), s, lr)

    x, y = _data()
    m = _model(ClipSGD(0.1))
    before = m.get_weights()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    steps = 7
    for a, b in zip(m.get_weights(), before):
        assert np.abs(a - b).max() <= steps * 0.1 * 1e-3 * 1.01     # float32 rounding of W − ΔW


def test_sigmoid_inside_and_outside_the_overflow_context():
    z = np.array([[-1e4, -100.0, 0.0, 3.0, 1e4]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = Sigmoid().forward(z)
        with overflow_ignored():
            quiet = Sigmoid().forward(z)
    np.testing.assert_array_equal(plain, quiet)
    assert plain[0, 0] == 0.0 and plain[0, 4] == 1.0 and plain[0, 2] == 0.5


def test_overflow_context_restores_the_error_state():
    before = np.geterr()
    with np.errstate(over="raise"):
        with overflow_ignored():
            assert np.geterr()["over"] == "ignore"
        assert np.geterr()["over"] == "raise"
        with pytest.raises(KeyError):
            with overflow_ignored():
                raise KeyError("boom")
        assert np.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            np.exp(np.float32(100.0))
        assert Sigmoid().forward(np.array([-1e4], np.float32))[0] == 0.0   # its own guard again
    assert np.geterr() == before


def test_a_callback_runs_with_the_callers_error_state():
    """fit ignores overflow in its loop; a callback's own np.errstate (and sigmoid) behave as outside."""
    seen = []

    class Probe(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(np.geterr()["over"])
            with np.errstate(over="raise"):
                seen.append(self.model.predict(np.full((2, 5), -1e4, np.float32))[0, 0])

    x, y = _data(n=16)
    with np.errstate(over="warn"):
        _model().fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Probe()])
    assert seen[0] == "warn" and seen[2] == "warn"
    assert np.isfinite(seen[1]) and np.isfinite(seen[3])
