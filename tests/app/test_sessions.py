"""app/sessions.py drives the engine's Run: whichever buttons train a session (Forward, Backward,
Update, Step, Epoch, Play's quiet and full steps), it ends with fit's weights, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET

from app.main import create_app
from app.schemas import SessionCreate
from engine.compare import build_run

NET = {**SMALL_NET, "dataset": {"name": "spiral", "n_samples": 90, "seed": 1},
       "layers": [{"units": 8, "activation": "tanh", "dropout": 0.25}, {"units": 6, "activation": "relu"},
                  {"units": 2, "activation": "softmax"}], "batch_size": 8}
OPTIMIZERS = [{"name": "sgd", "learning_rate": 0.1}, {"name": "adam", "learning_rate": 0.01},
              {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True}]


def _session(store, optimizer):
    return store.build(SessionCreate(**{**NET, "optimizer": optimizer}))


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o["name"] + str(len(o)))
def test_every_button_trains_as_fit_does(optimizer):
    store = create_app().state.store
    session = _session(store, optimizer)
    steps = session.schedule.steps_per_epoch          # 72 training rows: 9 batches of 8
    session.forward()                                 # epoch 1: phase by phase, then Step, then Epoch
    session.backward()
    session.update()
    session.forward()
    session.step()                                    # finishes the half-done cycle
    session.step()
    session.run_epoch()
    assert session.epoch == 1 and session.model.step == steps
    for k in range(steps):                            # epoch 2: Play, a full frame now and then
        session.play_step(full=k % 4 == 0)
    session.forward()                                 # epoch 3: a half-done cycle, then Epoch
    session.backward()
    answer = session.run_epoch()
    assert answer["epoch"] == session.epoch == 3 and session.model.step == 3 * steps

    data, model, y_train, y_test = build_run({**NET, "optimizer": optimizer})
    history = model.fit(data.x_train, y_train, batch_size=8, epochs=3, verbose=0,
                        validation_data=(data.x_test, y_test)).history
    for a, b in zip(session.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for key, values in history.items():
        assert session.history[key] == values, key


def test_a_one_off_batch_does_not_change_the_epochs_batches():
    """Forward on chosen rows, then Step on: the same batches (and dropout masks) as without it."""
    store = create_app().state.store
    plain, probed = _session(store, OPTIMIZERS[0]), _session(store, OPTIMIZERS[0])
    plain.step()
    probed.step()
    probed.forward(indices=[0, 5, 7])
    probed.backward()
    probed.update()
    plain.step()
    probed.step()
    assert plain.schedule.position == probed.schedule.position == 16
    np.testing.assert_array_equal(plain.schedule.order, probed.schedule.order)
    assert plain.model.dropout_rng.bit_generator.state == probed.model.dropout_rng.bit_generator.state
    assert plain.run.meter.count == probed.run.meter.count == 16
