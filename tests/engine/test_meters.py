"""fit's LabelMeter (ŷ stored, losses worked out a block at a time) against EpochMeter (every step)."""
import numpy as np
import pytest

import engine.training as training
from engine.callbacks import Callback
from engine.layers import Dense
from engine.meters import EpochMeter, LabelMeter, class_labels
from engine.models import Sequential
from engine.optimizers import SGD


def _model(loss="categorical_crossentropy", metrics=("acc",)):
    m = Sequential(seed=3)
    m.add(Dense(5, activation="sigmoid", input_dim=4))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss=loss, optimizer=SGD(0.5), metrics=list(metrics))
    return m


class Recorder(Callback):
    """Keeps the logs of every on_batch_end."""

    def __init__(self):
        self.logs = []

    def on_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


def _data(n=43, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    return x, labels, np.eye(3, dtype=np.float32)[labels]


@pytest.mark.parametrize("rows", [LabelMeter.ROWS, 30, 7])        # 30, 7: the buffer fills mid-epoch
def test_fit_with_label_meter_equals_every_step_path(monkeypatch, rows):
    x, _, y = _data()                                  # 43 rows, batch 8: a last batch of 3
    monkeypatch.setattr(LabelMeter, "ROWS", rows * 3)   # ŷ has 3 columns
    fast, rec_fast = _model(), Recorder()
    h1 = fast.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[rec_fast]).history
    monkeypatch.setattr(LabelMeter, "usable", staticmethod(lambda model, labels: False))
    slow, rec_slow = _model(), Recorder()
    h2 = slow.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[rec_slow]).history
    assert dict(h1) == dict(h2)
    assert rec_fast.logs == rec_slow.logs and len(rec_fast.logs) == 18
    assert fast.trace.loss == slow.trace.loss
    np.testing.assert_array_equal(fast.trace.per_sample_loss, slow.trace.per_sample_loss)


def test_running_logs_are_the_epoch_means_so_far():
    x, _, y = _data(n=24)
    m, rec = _model(), Recorder()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[rec], shuffle=False)
    probe = _model()                                  # the same steps by hand
    meter = EpochMeter(probe)
    for k in range(3):
        trace = probe.forward(x[8 * k:8 * k + 8], y[8 * k:8 * k + 8])
        probe.backward()
        probe.apply_gradients()
        meter.update(trace)
        assert rec.logs[k] == pytest.approx(meter.result(), rel=1e-12)
    assert rec.logs[0]["acc"] * 8 == round(rec.logs[0]["acc"] * 8)


def test_sparse_labels_take_the_label_meter():
    x, labels, y = _data()
    sparse = _model("sparse_categorical_crossentropy")
    dense = _model()
    h1 = sparse.fit(x, labels, batch_size=8, epochs=2, verbose=0).history
    h2 = dense.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert dict(h1) == dict(h2)


def test_label_meter_only_where_it_gives_the_same_numbers():
    x, labels, y = _data()
    assert LabelMeter.usable(_model(), class_labels(_model(), y))
    assert not LabelMeter.usable(_model(metrics=("acc", "mae")), labels)      # mae needs every ŷ
    assert not LabelMeter.usable(_model(), None)                             # soft or non-one-hot targets
    reg = Sequential(seed=3)
    reg.add(Dense(3, activation="softmax", input_dim=4, kernel_regularizer="l2"))
    reg.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["acc"])
    assert not LabelMeter.usable(reg, labels)                                # the penalty changes per step


def test_fit_uses_the_label_meter(monkeypatch):
    made = []
    real = training.LabelMeter

    class Spy(real):
        def __init__(self, *args):
            made.append(self)
            super().__init__(*args)

    monkeypatch.setattr(training, "LabelMeter", Spy)
    x, _, y = _data()
    _model().fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert len(made) == 1
