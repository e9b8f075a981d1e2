"""fit's LabelMeter (ŷ stored, losses worked out a block at a time) against EpochMeter (every step)."""
import numpy as np
import pytest

import engine.runner as runner
from engine.callbacks import Callback, LambdaCallback
from engine.fast.meters import LabelMeter
from engine.layers import Dense
from engine.meters import EpochMeter, class_labels
from engine.models import Sequential
from engine.optimizers import SGD


def _model(loss="categorical_crossentropy", metrics=("acc",)):
    m = Sequential(seed=3)
    m.add(Dense(5, activation="sigmoid", input_dim=4))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss=loss, optimizer=SGD(0.5), metrics=list(metrics))
    return m


def _data(n=43, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    return x, labels, np.eye(3, dtype=np.float32)[labels]


@pytest.mark.parametrize("batch,rows", [(8, LabelMeter.ROWS), (8, 30), (8, 7), (300, 700), (300, 100)])
def test_fit_with_label_meter_equals_every_step_path(monkeypatch, batch, rows):
    """Histories, weights and the last trace's loss bit for bit equal; small ``rows`` make the
    stored ŷ fill up mid-epoch (worked out several batches at once, or a batch bigger than it)."""
    x, _, y = _data(n=43 if batch == 8 else 1000)          # uneven last batches: 3 and 100 rows
    monkeypatch.setattr(LabelMeter, "ROWS", rows * 3)       # ŷ has 3 columns
    made = []

    class Spy(LabelMeter):
        def __init__(self, *args):
            made.append(self)
            super().__init__(*args)

    monkeypatch.setattr(runner, "LabelMeter", Spy)
    fast = _model()
    h1 = fast.fit(x, y, batch_size=batch, epochs=3, verbose=0).history
    assert len(made) == 1
    monkeypatch.setattr(LabelMeter, "usable", staticmethod(lambda model, labels: False))
    slow = _model()
    h2 = slow.fit(x, y, batch_size=batch, epochs=3, verbose=0).history
    assert len(made) == 1
    assert dict(h1) == dict(h2)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert fast.trace.loss == slow.trace.loss
    np.testing.assert_array_equal(fast.trace.per_sample_loss, slow.trace.per_sample_loss)


def test_callbacks_get_each_batch_as_it_is():
    """A callback that looks at every batch gets a plain dict of the running means, can keep it,
    and sees the step's loss in model.trace (fit then steps as the web app does)."""
    x, _, y = _data(n=24)
    seen = []

    class Keeper(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((logs, self.model.trace.loss))

    m = _model()
    m.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[Keeper()])
    probe, meter = _model(), EpochMeter(_model())
    for epoch in range(2):
        meter.reset()
        for k in range(3):
            trace = probe.forward(x[8 * k:8 * k + 8], y[8 * k:8 * k + 8])
            probe.backward()
            probe.apply_gradients()
            meter.update(trace)
            logs, loss = seen[3 * epoch + k]
            assert type(logs) is dict and logs == meter.result()
            assert loss == trace.loss


def test_lambda_callback_on_batch_end_is_called():
    x, _, y = _data(n=24)
    calls = []
    _model().fit(x, y, batch_size=8, epochs=1, verbose=0,
                 callbacks=[LambdaCallback(on_batch_end=lambda batch, logs: calls.append(batch))])
    assert calls == [0, 1, 2]


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
    real = runner.LabelMeter

    class Spy(real):
        def __init__(self, *args):
            made.append(self)
            super().__init__(*args)

    monkeypatch.setattr(runner, "LabelMeter", Spy)
    x, _, y = _data()
    _model().fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert len(made) == 1
