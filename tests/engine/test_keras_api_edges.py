"""Keras API edge cases: the names Keras users import, empty inputs, bad weights, a batch size changed mid-epoch."""
from __future__ import annotations

import numpy as np
import pytest

from engine import regularizers
from engine.layers import Dense
from engine.models import Sequential
from engine.training import BatchSchedule
from engine.utils import to_categorical


def small_model(**dense_kwargs) -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(4, activation="tanh", input_dim=3, **dense_kwargs))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["acc"])
    return model


def test_load_model_is_importable_from_engine_models(tmp_path):
    """Keras: ``from keras.models import Sequential, load_model``."""
    from engine.models import load_model
    model = small_model()
    x = np.random.default_rng(0).normal(size=(5, 3))
    model.save(tmp_path / "net")
    assert np.array_equal(load_model(tmp_path / "net").predict(x), model.predict(x))


def test_keras_lower_case_regularizer_names():
    """``kernel_regularizer=regularizers.l2(0.01)`` as Keras code writes it; same penalty as L2."""
    w = np.array([[1.0, -2.0]])
    assert regularizers.l2(0.01)(w) == pytest.approx(0.05)
    assert regularizers.l1(0.1)(w) == pytest.approx(0.3)
    assert regularizers.l1_l2(l1=0.1, l2=0.01)(w) == pytest.approx(0.35)
    model = small_model(kernel_regularizer=regularizers.l2(0.01))
    assert model.penalty() > 0


def test_evaluate_on_empty_input_is_a_clear_error_not_nan():
    model = small_model()
    with pytest.raises(ValueError, match="at least one sample"):
        model.evaluate(np.zeros((0, 3)), np.zeros((0, 3)))


def test_set_weights_with_a_ragged_array_names_the_layer():
    model = small_model()
    weights = model.get_weights()
    weights[2] = [[1.0, 2.0], [3.0]]
    with pytest.raises(ValueError, match="dense_2"):
        model.set_weights(weights)


def test_batch_count_after_the_batch_size_changes_mid_epoch():
    """10 rows: one batch of 4, then batches of 3 (4-6, 7-9) end the epoch: 3 batches, not ⌈10/3⌉ = 4."""
    schedule = BatchSchedule(10, 4, False, np.random.default_rng(0))
    schedule.next_batch()
    schedule.batch_size = 3
    assert (schedule.batch_index, schedule.steps_per_epoch) == (1, 3)
    rows, last = schedule.next_batch()
    assert rows.tolist() == [4, 5, 6] and not last
    assert (schedule.batch_index, schedule.steps_per_epoch) == (2, 3)
    rows, last = schedule.next_batch()
    assert rows.tolist() == [7, 8, 9] and last
    assert (schedule.batch_index, schedule.steps_per_epoch) == (0, 4)     # the next epoch: ⌈10/3⌉


def test_fit_steps_per_epoch_unchanged_for_a_fixed_batch_size():
    model = small_model()
    x = np.random.default_rng(1).normal(size=(10, 3))
    y = to_categorical(np.arange(10) % 3, 3)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert model.step == 6


def test_trace_activation_names_the_function_actually_applied():
    """Dense(linear) + Activation(tanh) is tanh; Activation("linear") after softmax leaves softmax."""
    from engine.layers import Activation
    model = Sequential([Dense(4, input_dim=3), Activation("tanh"), Dense(3, activation="softmax"),
                        Activation("linear")], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    trace = model.forward(np.zeros((2, 3)))
    assert [entry.activation for entry in trace.layers] == ["tanh", "softmax"]
