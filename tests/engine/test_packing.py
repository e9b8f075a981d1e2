"""All weights in one flat vector (engine.fast): views, and optimizer updates equal to one update per array."""
import numpy as np
import pytest

from engine import optimizers
from engine.fast import packing, use_fast_step
from engine.layers import Dense
from engine.models import Sequential


def test_pack_views_and_base_of():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([7.0, 8.0], np.float32)]
    flat, views = packing.pack(arrays, np.float32)
    np.testing.assert_array_equal(flat, [0, 1, 2, 3, 4, 5, 7, 8])
    assert packing.base_of(views) is flat
    views[1][0] = -1.0                                   # a view writes through to the flat vector
    assert flat[6] == -1.0
    assert packing.base_of(views[::-1]) is None          # out of order
    assert packing.base_of(views[:1]) is None            # does not cover the whole vector
    assert packing.base_of(arrays) is None               # not views of one vector
    assert [v.shape for v in packing.views_of(flat, [(4,), (2, 2)])] == [(4,), (2, 2)]


def _model(optimizer, seed=0):
    """A model whose steps run on engine.fast's FastStep (``m.stepper``)."""
    m = Sequential(seed=seed)
    m.add(Dense(6, activation="tanh", input_dim=4))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=optimizer)
    return use_fast_step(m)


def test_model_weights_and_gradients_live_in_flat_vectors():
    m = _model("sgd")
    flat = packing.base_of(m.stepper.packed.params)
    assert flat is not None and flat.size == m.count_params()
    w = [np.full(p.shape, i + 1.0) for i, p in enumerate(m.get_weights())]
    m.set_weights(w)
    np.testing.assert_array_equal(flat, np.concatenate([a.ravel() for a in w]))
    x = np.ones((5, 4), np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    m.forward(x, y)
    m.backward()
    grads = packing.base_of(m.stepper.packed.grads)
    np.testing.assert_array_equal(grads, np.concatenate([g.ravel() for d in m.dense_layers for g in d.grads()]))


CONFIGS = [optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9, nesterov=True),
           optimizers.Adam(0.01, amsgrad=True), optimizers.Adagrad(0.1), optimizers.RMSprop(0.01, momentum=0.5,
                                                                                            centered=True),
           optimizers.Adadelta(1.0)]


@pytest.mark.parametrize("opt", CONFIGS, ids=lambda o: repr(o)[:40])
def test_flat_update_equals_update_per_array(opt):
    """Three updates of the packed model and of separate copies of its arrays end bit for bit equal."""
    rng = np.random.default_rng(4)
    m = _model(optimizers.get(optimizers.serialize(opt)))
    separate = optimizers.get(optimizers.serialize(opt))
    params = [p.copy() for p in m.get_weights()]
    for _ in range(3):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
        m.forward(x, y)
        m.backward()
        grads = [g.copy() for d in m.dense_layers for g in d.grads()]
        m.apply_gradients()
        separate.apply(params, grads)                    # arrays that are not views: one update each
    packed = m.stepper.packed_slots                      # the model's slots: views of one vector each
    assert packed is not None and packed.holds(m.optimizer)
    assert all(packing.base_of(arrays) is not None for arrays in m.optimizer.slots().values())
    assert all(packing.base_of(arrays) is None for arrays in separate.slots().values())
    for a, b in zip(m.get_weights(), params):
        np.testing.assert_array_equal(a, b)
    for name, arrays in separate.slots().items():
        for a, b in zip(m.optimizer.slots()[name], arrays):
            np.testing.assert_array_equal(a, b)
            assert a.shape == b.shape


def test_optimizer_state_round_trip_on_flat_weights():
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((8, 4)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)])
               for _ in range(4)]
    a, b = _model(optimizers.Adam(0.01)), _model(optimizers.Adam(0.01))
    for x, y in batches[:2]:
        a.train_on_batch(x, y)
    b.set_weights(a.get_weights())
    b.optimizer.set_state(a.optimizer.get_state())     # fresh arrays, packed again on the next update
    for x, y in batches[2:]:
        a.train_on_batch(x, y)
        b.train_on_batch(x, y)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)
    assert packing.base_of(b.optimizer.slots()["m"]) is not None


def test_adding_a_layer_after_building_repacks():
    m = _model("sgd")
    before = m.get_weights()
    m.add(Dense(2, activation="softmax"))
    m.forward(np.ones((2, 4), np.float32))               # the next step packs the new layer list
    params = m.stepper.packed.params
    assert packing.base_of(params) is not None and len(params) == 6
    assert all(a is b for a, b in zip(params, [p for d in m.dense_layers for p in d.params()]))
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_assigning_a_kernel_keeps_it_trained():
    """``layer.kernel = K`` copies into the trained vector: the optimizer still moves it."""
    m = _model(optimizers.SGD(0.5))
    dense = m.dense_layers[0]
    dense.kernel = np.ones((4, 6), np.float32)
    dense.bias = np.full(6, 0.5)
    assert packing.base_of(m.stepper.packed.params) is not None and dense.kernel.base is not None
    np.testing.assert_array_equal(m.get_weights()[1], 0.5)
    x = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    m.train_on_batch(x, y)
    assert not np.array_equal(dense.kernel, np.ones((4, 6), np.float32))
    with pytest.raises(ValueError, match="dense_1.*kernel shape \\(3, 6\\) does not match \\(4, 6\\)"):
        dense.kernel = np.ones((3, 6))


def test_progress_bar_reads_running_means_without_changing_numbers(capsys):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    quiet, loud = _model("sgd"), _model("sgd")
    h1 = quiet.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    h2 = loud.fit(x, y, batch_size=8, epochs=2, verbose=1).history
    assert dict(h1) == dict(h2)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and f"loss: {h2['loss'][-1]:.4f}" in out
