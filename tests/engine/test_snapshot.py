"""engine/snapshot.py: capture a run between two steps, restore it, step on: the same numbers."""
import numpy as np
import pytest

from engine import Dense, Dropout, Sequential, optimizers
from engine.runner import Run
from engine.snapshot import capture, restore


def _run(optimizer, seed=3):
    m = Sequential(seed=seed)
    m.add(Dense(7, activation="sigmoid", input_dim=3))
    m.add(Dropout(0.4))
    m.add(Dense(3, activation="softmax"))
    m.compile(optimizer=optimizers.get(dict(optimizer)), loss="categorical_crossentropy", metrics=["acc"])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 3)).astype(np.float32)
    return Run(m, x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, 30)], 7)


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "learning_rate": 0.3, "momentum": 0.8},
                                       {"name": "adam", "learning_rate": 0.02}])
def test_restore_then_step_repeats_the_future_bit_for_bit(optimizer):
    run = _run(optimizer)
    for _ in range(3):                       # mid-epoch (5 batches per epoch)
        run.step()
    state = capture(run)
    losses, weights = [], []
    for _ in range(9):                       # across an epoch's end
        losses.append(run.step().loss)
        weights.append(run.model.get_weights())
    logs, epoch = dict(run.last_logs), run.epoch
    restore(run, state)
    assert run.model.step == 3 and run.epoch == 0 and run.schedule.batch_index == 3
    for k in range(9):
        assert run.step().loss == losses[k]
        for a, b in zip(run.model.get_weights(), weights[k]):
            np.testing.assert_array_equal(a, b)
    assert run.epoch == epoch and run.last_logs == logs


def test_a_snapshot_is_a_copy_and_knows_its_size():
    run = _run({"name": "adam", "learning_rate": 0.02})
    run.step()
    state = capture(run)
    before = [w.copy() for w in state.weights]
    run.step()
    for a, b in zip(state.weights, before):
        np.testing.assert_array_equal(a, b)
    params = run.model.count_params()
    assert state.nbytes >= 3 * 4 * params               # weights, m and v, float32
    assert state.finite()


def test_capture_refuses_a_half_done_cycle():
    run = _run({"name": "sgd", "learning_rate": 0.1})
    run.forward()
    with pytest.raises(ValueError, match="forward pass is waiting"):
        capture(run)


def test_a_snapshot_from_before_the_first_update_restores_fresh_slots():
    run = _run({"name": "adam", "learning_rate": 0.02})
    state = capture(run)
    first = run.step().loss
    w1 = run.model.get_weights()
    run.step()
    restore(run, state)
    assert run.model.optimizer.iterations == 0
    assert run.step().loss == first
    for a, b in zip(run.model.get_weights(), w1):
        np.testing.assert_array_equal(a, b)
