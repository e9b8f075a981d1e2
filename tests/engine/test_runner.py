"""engine/runner.py: one run of steps for every caller, deterministic bit for bit whoever drives it."""
import numpy as np
import pytest

from engine import Dense, Diverged, Dropout, Sequential, optimizers
from engine.callbacks import Callback
from engine.compare import build_run, train_run
from engine.lr_finder import range_test
from engine.runner import Run
from engine.step import ReferenceStep

OPTIMIZERS = [{"name": "sgd", "learning_rate": 0.2},
              {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "decay": 0.01},
              {"name": "adam", "learning_rate": 0.01},
              {"name": "rmsprop", "learning_rate": 0.01},
              {"name": "adagrad", "learning_rate": 0.1},
              {"name": "adadelta", "learning_rate": 1.0}]


def _model(optimizer, dropout=True, seed=7):
    m = Sequential(seed=seed)
    m.add(Dense(9, activation="tanh", input_dim=4))
    if dropout:
        m.add(Dropout(0.3))
    m.add(Dense(5, activation="relu"))
    m.add(Dense(3, activation="softmax"))
    m.compile(optimizer=optimizers.get(dict(optimizer)), loss="categorical_crossentropy", metrics=["acc"])
    return m


def _data(n=45, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def _same(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


class Watch(Callback):
    """A callback that reads every batch (fit then meters each step's loss as it comes)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(self.model.trace.loss)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join(map(str, o.values())))
def test_every_way_of_driving_a_run_gives_the_same_weights(optimizer):
    """fit (batched meter), fit with a per-batch callback, run_epoch, step(), phase by phase with ΔW
    and checks at once, and the reference step: 3 epochs of 45 rows in batches of 8 (the last one
    short), with dropout: the same weights and optimizer state bit for bit."""
    x, y = _data()
    fitted, watched = _model(optimizer), _model(optimizer)
    fitted.fit(x, y, batch_size=8, epochs=3, verbose=0)
    watched.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[Watch()])
    by_epoch = _model(optimizer)
    run = Run(by_epoch, x, y, 8)
    for _ in range(3):
        run.run_epoch()
    by_step = _model(optimizer)
    run = Run(by_step, x, y, 8)
    while run.epoch < 3:
        run.step()
    by_phase = _model(optimizer)
    run = Run(by_phase, x, y, 8)
    while run.epoch < 3:
        run.forward()
        run.backward(check=False)
        run.update(return_deltas=True)
    reference = _model(optimizer)
    run = Run(reference, x, y, 8, stepper=ReferenceStep(reference))
    while run.epoch < 3:
        run.step()
    for other in (watched, by_epoch, by_step, by_phase, reference):
        _same(fitted, other)
        assert other.optimizer.iterations == fitted.optimizer.iterations == 18
        for name, values in fitted.optimizer.get_state()["slots"].items():
            for u, v in zip(values, other.optimizer.get_state()["slots"][name]):
                np.testing.assert_array_equal(u, v)


def test_fit_logs_equal_the_runs_logs_and_history():
    x, y = _data()
    m1, m2 = _model(OPTIMIZERS[0]), _model(OPTIMIZERS[0])
    history = m1.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x[:10], y[:10])).history
    run = Run(m2, x, y, 8, validation=(x[:10], y[:10]))
    run.run_epoch()
    run.run_epoch()
    assert set(history) == {"loss", "acc", "val_loss", "val_acc"}
    for key, values in history.items():
        assert run.history[key] == values          # the batched meter's numbers are EpochMeter's
    assert len(run.history["batch_loss"]) == 12
    # the epoch's mean loss is the sample-weighted mean of its batch losses
    sizes = [8] * 5 + [5]
    assert run.history["loss"][1] == pytest.approx(np.dot(run.history["batch_loss"][6:], sizes) / 45, rel=1e-6)
    assert m1.trace.loss == pytest.approx(run.history["batch_loss"][-1], rel=1e-6)


def test_a_one_off_batch_leaves_the_run_alone():
    """Forward on chosen rows: the schedule, the dropout generator and the meter are untouched."""
    x, y = _data()
    m = _model(OPTIMIZERS[2])
    run = Run(m, x, y, 8)
    run.step()
    before = run.position()
    state = m.dropout_rng.bit_generator.state
    run.forward([3, 4, 5])
    run.backward()
    run.update()
    after = run.position()
    assert (after.position, after.batches) == (before.position, before.batches) == (8, 1)
    np.testing.assert_array_equal(after.order, before.order)
    assert m.dropout_rng.bit_generator.state == state
    assert run.meter.count == 8 and len(run.history["batch_loss"]) == 2 and m.step == 2


def test_run_epoch_hooks_stop_and_leave_last():
    x, y = _data()
    run = Run(_model(OPTIMIZERS[0]), x, y, 8)
    seen = []
    run.run_epoch(on_batch=lambda trace, batch: seen.append(batch) or batch == 2)
    assert seen == [0, 1, 2] and run.schedule.batch_index == 3 and run.epoch == 0
    run.run_epoch(should_stop=lambda: run.schedule.batch_index == 4)
    assert run.schedule.batch_index == 4
    run.run_epoch(leave_last=True)
    assert run.schedule.next_is_last and run.epoch == 0 and run.schedule.batch_index == 5
    run.step()
    assert run.epoch == 1 and run.schedule.batch_index == 0 and len(run.history["loss"]) == 1


def test_a_divergence_in_run_epoch_is_raised_with_its_step():
    m = Sequential(seed=1)
    m.add(Dense(16, input_dim=5))
    m.add(Dense(2))
    m.compile(loss="mse", optimizer=optimizers.get({"name": "sgd", "learning_rate": 0.9}))
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 5)) * 1e9).astype(np.float32)
    y = (rng.standard_normal((64, 2)) * 1e9).astype(np.float32)
    run = Run(m, x, y, 8, shuffle=False)
    with pytest.raises(Diverged) as caught:
        run.run_epoch()
    assert caught.value.step < 8 and run.epoch == 0


def test_comparison_runs_and_the_range_test_take_fits_steps():
    """train_run's losses and weights are fit's; the range test's first steps are Run.step's."""
    spec = {"dataset": {"name": "spiral", "n_samples": 120, "seed": 1},
            "layers": [{"units": 8, "activation": "sigmoid"}, {"units": 2, "activation": "softmax"}],
            "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "batch_size": 8, "seed": 3}
    result = train_run(spec, 0.1, epochs=2)
    data, model, y_train, _ = build_run(spec)
    history = model.fit(data.x_train, y_train, batch_size=8, epochs=2, verbose=0).history
    assert result["status"] == "done"
    assert result["history"]["loss"] == history["loss"] and result["history"]["acc"] == history["acc"]

    _, ranged, y_ranged, _ = build_run(spec)
    out = range_test(ranged, data.x_train, y_ranged, batch_size=8, min_lr=1e-3, max_lr=1.0, steps=20)
    _, stepped, y_stepped, _ = build_run(spec)
    run = Run(stepped, data.x_train, y_stepped, 8)
    losses = []
    for rate in out["learning_rates"]:
        stepped.optimizer.learning_rate = rate
        losses.append(run.step().loss)
    assert losses == out["losses"]
    _same(ranged, stepped)
