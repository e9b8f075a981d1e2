"""Sequential: the Keras API, the step order, determinism, saving and divergence."""
import numpy as np
import pytest

from engine import SGD, Adam, Dense, Diverged, Dropout, Sequential, StepOrderError, load_model, to_categorical

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = to_categorical([0, 1, 1, 0])


def _xor_model(seed=1, optimizer=None):
    m = Sequential(seed=seed)
    m.add(Dense(8, activation="tanh", input_dim=2))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=optimizer or SGD(learning_rate=0.5, momentum=0.9),
              metrics=["acc"])
    return m


def test_fit_learns_xor_to_full_accuracy():
    m = _xor_model()
    history = m.fit(XOR_X, XOR_Y, epochs=300, batch_size=4, verbose=0)
    assert history.history["acc"][-1] == 1.0
    assert history.history["loss"][-1] < 0.01 < history.history["loss"][0]
    assert m.predict_classes(XOR_X).tolist() == [0, 1, 1, 0]
    loss, acc = m.evaluate(XOR_X, XOR_Y)
    assert acc == 1.0 and loss < 0.01


def test_lecture_snippet_runs_unchanged_but_for_the_import():
    from engine.layers import Dense as D
    from engine.models import Sequential as S
    from engine.optimizers import SGD as G
    rng = np.random.default_rng(0)
    data = rng.random((200, 10)).astype(np.float32)
    labels = to_categorical((data.sum(axis=1) > 5).astype(int), 2)
    model = S()
    model.add(D(12, activation="relu", input_dim=10))
    model.add(D(2, activation="softmax"))
    sgd = G(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["mae", "acc"])
    history = model.fit(data, labels, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    assert list(history.history.keys()) == ["loss", "mae", "acc", "val_loss", "val_mae", "val_acc"]
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["val_accuracy"] == history.history["val_acc"]
    score = model.evaluate(data, labels, batch_size=32)
    assert len(score) == 3 and 0.0 <= score[2] <= 1.0


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    m = _xor_model(optimizer=SGD(learning_rate=0.1))
    x = np.tile(XOR_X, (3, 1))
    y = np.tile(XOR_Y, (3, 1))
    weights = m.get_weights()
    batch_losses = []
    probe = _xor_model(optimizer=SGD(learning_rate=0.1))
    probe.set_weights(weights)
    for start in range(0, 12, 5):              # batches of 5, 5 and 2 rows, no shuffling
        batch_losses.append((probe.train_on_batch(x[start:start + 5], y[start:start + 5]), len(x[start:start + 5])))
    history = m.fit(x, y, epochs=1, batch_size=5, shuffle=False, verbose=0)
    expected = sum(l * n for l, n in batch_losses) / 12
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    for a, b in zip(m.get_weights(), probe.get_weights()):     # the same steps, bit for bit
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_run_bit_for_bit():
    runs = []
    for _ in range(2):
        m = _xor_model(seed=7, optimizer=Adam(learning_rate=0.05))
        m.add  # noqa: B018
        h = m.fit(np.tile(XOR_X, (8, 1)), np.tile(XOR_Y, (8, 1)), epochs=5, batch_size=4, verbose=0)
        runs.append((m.get_weights(), h.history["loss"]))
    assert runs[0][1] == runs[1][1]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0]))
    other = _xor_model(seed=8)
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_step_order_errors():
    m = _xor_model()
    with pytest.raises(StepOrderError, match="forward"):
        m.backward(XOR_Y)
    with pytest.raises(StepOrderError, match="backward"):
        m.apply_gradients()
    m.forward(XOR_X, XOR_Y)
    m.backward()
    m.apply_gradients()
    with pytest.raises(StepOrderError, match="only once"):
        m.apply_gradients()


def test_apply_gradients_reports_the_change_and_the_optimizer_state():
    m = _xor_model(optimizer=SGD(learning_rate=0.5, momentum=0.9))
    m.forward(XOR_X, XOR_Y)
    trace = m.backward()
    before = [layer.W.copy() for layer in trace.layers]
    grads = [layer.dW.copy() for layer in trace.layers]
    m.apply_gradients()
    for entry, old, g in zip(trace.layers, before, grads):
        assert np.allclose(entry.W - old, entry.dW_applied)
        assert np.allclose(entry.dW_applied, -0.5 * g)         # first momentum step: −lr·g
        assert np.allclose(entry.slots["momentum"], -0.5 * g)
    assert m.step == 1 and trace.learning_rate == 0.5


def test_shape_mismatch_names_layer_and_shapes():
    m = _xor_model()
    with pytest.raises(ValueError, match=r"dense_1.*\(batch, 2\).*\(4, 3\)"):
        m.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*dense_2.*\(batch, 2\)"):
        m.fit(XOR_X, np.zeros((4, 3)), verbose=0)


def test_save_and_load_round_trip(tmp_path):
    m = Sequential(seed=3)
    m.add(Dense(6, activation="relu", input_dim=2, kernel_regularizer="l2"))
    m.add(Dropout(0.2))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01), metrics=["acc"])
    m.fit(XOR_X, XOR_Y, epochs=3, verbose=0)
    m.save(tmp_path / "net")
    loaded = load_model(tmp_path / "net")
    assert np.array_equal(loaded.predict(XOR_X), m.predict(XOR_X))
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert list(loaded.metrics) == ["acc"]
    assert b"pickle" not in (tmp_path / "net.json").read_bytes()


def _resume_data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    return x, to_categorical((x.sum(axis=1) > 0).astype(int), 2)


@pytest.mark.parametrize("make_optimizer", [
    lambda: SGD(learning_rate=0.05, momentum=0.9),
    lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    lambda: Adam(learning_rate=0.01),
    lambda: Adam(learning_rate=0.01, amsgrad=True),
], ids=["sgd-momentum", "sgd-nesterov", "adam", "adam-amsgrad"])
def test_save_and_load_keeps_optimizer_state(tmp_path, make_optimizer):
    """Keras saves the optimizer state: training resumed after load equals training continued."""
    x, y = _resume_data()
    m = Sequential(seed=5)
    m.add(Dense(5, activation="tanh", input_dim=3))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=make_optimizer())
    m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    m.save(tmp_path / "net")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as data:
        assert int(data["opt_iterations"]) == m.optimizer.iterations == 10
        assert any(f.startswith("opt_") and f != "opt_iterations" for f in data.files)
    loaded = load_model(tmp_path / "net")
    assert loaded.optimizer.iterations == 10
    for name, arrays in m.optimizer.slots().items():
        for a, b in zip(arrays, loaded.optimizer.slots()[name]):
            assert np.array_equal(a, b) and a.dtype == b.dtype
    m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(m.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)


def test_model_saved_before_training_loads_and_trains(tmp_path):
    x, y = _resume_data()
    m = Sequential(seed=5)
    m.add(Dense(4, activation="relu", input_dim=3))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.01))
    m.save(tmp_path / "fresh")
    loaded = load_model(tmp_path / "fresh")
    assert loaded.optimizer.iterations == 0 and loaded.optimizer.slots() == {"m": [], "v": []}
    m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(m.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)


def test_uncompiled_model_saves_without_optimizer_state(tmp_path):
    m = Sequential(seed=1)
    m.add(Dense(2, input_dim=3))
    m.save(tmp_path / "bare")
    with np.load(tmp_path / "bare.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["w0", "w1"]
    assert np.array_equal(load_model(tmp_path / "bare").get_weights()[0], m.get_weights()[0])


def test_divergent_learning_rate_raises_diverged_not_nan():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32) * 10
    y = rng.normal(size=(64, 1)).astype(np.float32) * 100
    m = Sequential(seed=0)
    m.add(Dense(16, activation="relu", input_dim=2))
    m.add(Dense(1))
    m.compile(loss="mse", optimizer=SGD(learning_rate=50.0))
    with pytest.raises(Diverged) as info:
        m.fit(x, y, epochs=20, batch_size=8, verbose=0)
    err = info.value
    assert err.epoch is not None and err.step >= 1
    assert err.quantity and "lower learning rate" in str(err)
    assert err.to_dict() == {"step": err.step, "epoch": err.epoch, "layer": err.layer, "quantity": err.quantity}


def test_dropout_mask_is_in_the_trace_and_off_at_inference():
    m = Sequential(seed=5)
    m.add(Dense(50, activation="relu", input_dim=2))
    m.add(Dropout(0.5))
    m.add(Dense(2, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer="sgd")
    t = m.forward(XOR_X, XOR_Y, training=True)
    mask = t.layers[0].mask
    assert set(np.unique(mask).tolist()) == {0.0, 2.0}
    assert np.allclose(t.layers[0].a, np.maximum(t.layers[0].z, 0) * mask)
    assert np.array_equal(m.predict(XOR_X), m.predict(XOR_X))


def test_keras_weight_layout():
    m = _xor_model()
    kernel, bias, _, _ = m.get_weights()
    assert kernel.shape == (2, 8) and bias.shape == (8,)
    assert m.trace is None
    t = m.forward(XOR_X)
    assert t.layers[0].W.shape == (8, 2)


def test_unknown_names_list_valid_ones():
    m = Sequential()
    m.add(Dense(2, input_dim=2))
    with pytest.raises(ValueError, match="Valid names"):
        m.compile(loss="crossentropy", optimizer="sgd")
    with pytest.raises(ValueError, match="Valid names"):
        m.compile(loss="mse", optimizer="sgdd")
    with pytest.raises(ValueError, match="Valid names"):
        Dense(3, activation="sigmod")
