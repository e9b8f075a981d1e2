"""The two paths give the same numbers: engine/step.py's ReferenceStep (the lecture's equations) and
engine/fast's FastStep (work arrays, packed update, deferred tests, the write choice), which fit,
the server and comparison runs use. For every activation × loss × optimizer, many steps from the
same weights on the same batches end with bit for bit the same weights, slots and last trace,
stepped one phase at a time or by fit (the same operations, only into other arrays).
"""
import numpy as np
import pytest

from engine import Dense, Diverged, Dropout, Sequential, activations, losses, optimizers
from engine.fast import FastStep, use_fast_step
from engine.step import ReferenceStep

POSITIVE_OUTPUT = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"}
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "rmsprop_centered_momentum": ("RMSprop", {"learning_rate": 0.005, "centered": True, "momentum": 0.5}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
}
N, BATCH, EPOCHS = 43, 8, 3          # 5 batches of 8 and one of 3 per epoch: two sizes of work arrays


def _data(loss, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    labels = rng.integers(0, 3, N)
    if loss == "sparse_categorical_crossentropy":
        return x, labels
    if loss in POSITIVE_OUTPUT or "hinge" in loss:
        return x, np.eye(3, dtype=np.float32)[labels]
    return x, rng.normal(size=(N, 3)).astype(np.float32)


def _model(act, loss, opt, dropout=False):
    output = act if loss not in POSITIVE_OUTPUT or act in ("sigmoid", "softmax", "softplus") else "sigmoid"
    m = Sequential(seed=5)
    m.add(Dense(6, activation=act, input_dim=4, kernel_regularizer="l2"))
    if dropout:
        m.add(Dropout(0.3))
    m.add(Dense(5, activation=act))
    m.add(Dense(3, activation=output))
    name, kwargs = OPTIMIZERS[opt]
    m.compile(loss=loss, optimizer=optimizers.get(name, **kwargs), metrics=["acc"])
    return m


def _step_by_step(m, x, y):
    """EPOCHS passes over the batches in order, one phase at a time through the model's API."""
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            m.forward(x[start:start + BATCH], y[start:start + BATCH])
            m.backward()
            m.apply_gradients(return_deltas=True)
    return m


def _equal(a, b):
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("loss", losses.names())
@pytest.mark.parametrize("act", activations.names())
def test_fast_step_equals_the_reference_step(act, loss, opt):
    x, y = _data(loss)
    reference = _step_by_step(_model(act, loss, opt), x, y)
    fast = _step_by_step(use_fast_step(_model(act, loss, opt)), x, y)
    assert type(reference.stepper) is ReferenceStep and type(fast.stepper) is FastStep
    moved = max(np.abs(a - b).max() for a, b in zip(reference.get_weights(), _model(act, loss, opt).get_weights()))
    assert moved > 0
    _equal(reference.get_weights(), fast.get_weights())
    for name, arrays in reference.optimizer.slots().items():
        _equal(arrays, fast.optimizer.slots()[name])
    r, f = reference.trace, fast.trace
    assert r.loss == f.loss and r.learning_rate == f.learning_rate and r.phase == f.phase == "updated"
    _equal([r.y_pred, r.per_sample_loss], [f.y_pred, f.per_sample_loss])
    for a, b in zip(r.layers, f.layers):
        _equal([a.a_in, a.z, a.a, a.delta, a.dW, a.db, a.dW_applied, a.db_applied, a.W, a.b],
               [b.a_in, b.z, b.a, b.delta, b.dW, b.db, b.dW_applied, b.db_applied, b.W, b.b])
        assert a.slots.keys() == b.slots.keys()
        _equal(a.slots.values(), b.slots.values())

    fitted = _model(act, loss, opt)
    fitted.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    _equal(reference.get_weights(), fitted.get_weights())     # fit: the same steps, bit for bit
    for a, b in zip(r.layers, fitted.trace.layers):
        _equal([a.delta, a.dW, a.db], [b.delta, b.dW, b.db])


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_the_paths_agree_with_dropout_and_a_partial_batch(opt):
    x, y = _data("categorical_crossentropy")
    reference = _step_by_step(_model("relu", "categorical_crossentropy", opt, dropout=True), x, y)
    fast = _step_by_step(use_fast_step(_model("relu", "categorical_crossentropy", opt, dropout=True)), x, y)
    _equal(reference.get_weights(), fast.get_weights())
    _equal([reference.trace.layers[0].mask], [fast.trace.layers[0].mask])


def _diverging(fast: bool):
    m = Sequential(seed=0)
    m.add(Dense(16, activation="relu", input_dim=2))
    m.add(Dense(1))
    m.compile(loss="mse", optimizer=optimizers.SGD(learning_rate=50.0))
    return use_fast_step(m) if fast else m


def test_a_divergence_is_named_alike_on_both_paths():
    """Step by step (each phase tested where it is made, or on FastStep by its few tests) and in fit
    (tests deferred to the next forward): the same quantity, layer and step."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32) * 10
    y = rng.normal(size=(64, 1)).astype(np.float32) * 100
    named = []
    for fast in (False, True):
        m = _diverging(fast)
        with pytest.raises(Diverged) as info, np.errstate(over="ignore", invalid="ignore"):
            for _ in range(20):
                for start in range(0, 64, 8):
                    m.forward(x[start:start + 8], y[start:start + 8])
                    m.backward()
                    m.apply_gradients(return_deltas=False)
        named.append(info.value.to_dict())
    with pytest.raises(Diverged) as info:
        _diverging(False).fit(x, y, epochs=20, batch_size=8, shuffle=False, verbose=0)
    assert named[0] == named[1]
    assert {k: v for k, v in named[0].items() if k != "epoch"} == \
        {k: v for k, v in info.value.to_dict().items() if k != "epoch"}
