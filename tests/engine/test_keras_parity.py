"""End-to-end parity with Keras 3: same initial weights, data and batch order → same weights after fit.

Every case builds one engine model, copies its initial weights into the equivalent Keras 3 model
(torch backend), trains both with ``fit(..., shuffle=False)`` on float32 data whose size leaves a
partial last batch (50 rows, batch 16 → 16, 16, 16, 2), and compares

* the weights after training (max abs difference ≤ WEIGHT_ATOL, float32 precision),
* ``history.history``: the per-epoch loss (including regularisation penalties) and metrics,
* ``evaluate`` on the training data (loss + metrics).

The cases cover every optimizer, every loss with a matching output activation (plus output
activations whose Jacobian does not cancel against the loss), every activation, kernel/bias
regularizers, and how ``"acc"``/``"accuracy"`` is resolved. Skipped where keras or torch is absent.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

if "keras" not in sys.modules:            # must precede the first `import keras`
    os.environ["KERAS_BACKEND"] = "torch"
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":    # keras was imported earlier with another backend
    pytest.skip(f"keras runs on {keras.backend.backend()!r}, not torch", allow_module_level=True)

import engine  # noqa: E402
from engine import Dense, Sequential, regularizers  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    # keras' torch backend calls np.array(tensor) on every step: noise from keras internals, not ours
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]

WEIGHT_ATOL = 1e-5      # float32 weights after a dozen updates
LOSS_RTOL = 1e-5        # history / evaluate values
METRIC_ATOL = 1e-6      # accuracies are k/n: equal up to float32 accumulation
N, D, BATCH, EPOCHS = 50, 4, 16, 3     # 50 = 3·16 + 2: the last batch of each epoch is partial

MAX_SEEN: dict[str, float] = {"weights": 0.0, "loss_rel": 0.0, "metric": 0.0, "evaluate_rel": 0.0}


# --- data ------------------------------------------------------------------------------------------

def _rng(seed=0):
    return np.random.default_rng(seed)


def _x(seed=0):
    return _rng(seed).normal(size=(N, D)).astype(np.float32)


def _classes(x, k=3):
    """Integer labels from a fixed linear rule, so there is something to learn."""
    proj = np.random.default_rng(99).normal(size=(x.shape[1], k))
    return np.argmax(x @ proj, axis=-1).astype(np.int64)


def _one_hot(labels, k=3):
    return np.eye(k, dtype=np.float32)[labels]


def data(kind: str, seed=0):
    """(x, y) for a target ``kind``."""
    x = _x(seed)
    if kind == "onehot3":
        return x, _one_hot(_classes(x))
    if kind == "sparse3":
        return x, _classes(x)
    if kind == "binary1":                       # 0/1 labels, one unit
        return x, (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(np.float32)
    if kind == "pm1_1":                         # −1/+1 labels, one unit
        return x, np.where(x[:, :1] + 0.5 * x[:, 1:2] > 0, 1.0, -1.0).astype(np.float32)
    if kind == "multilabel3":                   # 0/1 labels, three independent units
        return x, (x[:, :3] * x[:, 1:] > 0).astype(np.float32)
    if kind == "pm1_3":                         # −1/+1 labels, three units (hinge style)
        return x, np.where(x[:, :3] > 0, 1.0, -1.0).astype(np.float32)
    if kind == "regression2":
        y = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 1], x[:, 2] * x[:, 3]], axis=1)
        return x, y.astype(np.float32)
    if kind == "regression3":                   # targets in (0, 1), reachable by any output activation
        y = 1.0 / (1.0 + np.exp(-np.stack([x[:, 0], x[:, 1] - x[:, 2], x[:, 3]], axis=1)))
        return x, y.astype(np.float32)
    raise ValueError(kind)


# --- building both models --------------------------------------------------------------------------

def _engine_reg(spec):
    if spec is None:
        return None
    name, factors = spec
    return regularizers.get(name, **factors)


def _keras_reg(spec):
    if spec is None:
        return None
    name, factors = spec
    return {"l1": keras.regularizers.L1, "l2": keras.regularizers.L2,
            "l1_l2": keras.regularizers.L1L2}[name](**factors)


def _layer(units, activation, kernel_reg=None, bias_reg=None):
    return {"units": units, "activation": activation, "kernel_reg": kernel_reg, "bias_reg": bias_reg}


def engine_model(layers, input_dim, seed=0):
    model = Sequential(seed=seed)
    for i, spec in enumerate(layers):
        model.add(Dense(spec["units"], activation=spec["activation"],
                        kernel_regularizer=_engine_reg(spec["kernel_reg"]),
                        bias_regularizer=_engine_reg(spec["bias_reg"]),
                        input_dim=input_dim if i == 0 else None))
    return model


def keras_model(layers, input_dim):
    return keras.Sequential(
        [keras.Input((input_dim,))]
        + [keras.layers.Dense(spec["units"], activation=spec["activation"],
                              kernel_regularizer=_keras_reg(spec["kernel_reg"]),
                              bias_regularizer=_keras_reg(spec["bias_reg"]))
           for spec in layers]
    )


def _max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def train_both(layers, optimizer, loss, x, y, metrics=("acc",), epochs=EPOCHS, batch_size=BATCH, seed=0):
    """Train an engine model and its Keras twin from the same weights; return both models and histories."""
    name, kwargs = optimizer
    ours = engine_model(layers, x.shape[1], seed)
    start = ours.get_weights()
    theirs = keras_model(layers, x.shape[1])
    theirs.set_weights(start)
    ours.compile(optimizer=getattr(engine, name)(**kwargs), loss=loss, metrics=list(metrics))
    theirs.compile(optimizer=getattr(keras.optimizers, name)(**kwargs), loss=loss, metrics=list(metrics))
    h_ours = ours.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0).history
    return ours, theirs, start, h_ours, h_theirs


def assert_weights_match(ours, theirs, start):
    mine, keras_w = ours.get_weights(), [np.asarray(w) for w in theirs.get_weights()]
    assert [w.shape for w in mine] == [w.shape for w in keras_w]
    moved = max(_max_abs(w, s) for w, s in zip(mine, start))
    assert moved > 1e-3, f"training barely moved the weights ({moved:.2e}): the comparison would be vacuous"
    diff = max(_max_abs(a, b) for a, b in zip(mine, keras_w))
    assert diff <= WEIGHT_ATOL, f"weights differ from Keras 3 by {diff:.3e} (moved {moved:.3e})"
    MAX_SEEN["weights"] = max(MAX_SEEN["weights"], diff)


def _assert_logs_match(ours: dict, theirs: dict, what: str, rel_key: str):
    assert set(ours) == set(theirs), f"{what} keys: engine {sorted(ours)} vs keras {sorted(theirs)}"
    for key in theirs:
        a, b = np.asarray(ours[key], np.float64), np.asarray(theirs[key], np.float64)
        assert a.shape == b.shape, f"{what}[{key!r}]: {a.shape} vs {b.shape}"
        if key == "loss":
            np.testing.assert_allclose(a, b, rtol=LOSS_RTOL, atol=1e-7, err_msg=f"{what}[{key!r}]")
            rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
            MAX_SEEN[rel_key] = max(MAX_SEEN[rel_key], rel)
        else:
            np.testing.assert_allclose(a, b, rtol=LOSS_RTOL, atol=METRIC_ATOL, err_msg=f"{what}[{key!r}]")
            MAX_SEEN["metric"] = max(MAX_SEEN["metric"], _max_abs(a, b))


def assert_history_match(h_ours, h_theirs):
    _assert_logs_match(h_ours, h_theirs, "history", "loss_rel")


def assert_evaluate_match(ours, theirs, x, y, metrics):
    mine = ours.evaluate(x, y, return_dict=True)
    keras_logs = theirs.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    _assert_logs_match(mine, keras_logs, "evaluate", "evaluate_rel")
    listed = ours.evaluate(x, y)                   # Keras' list form: loss, then metrics in compile order
    expected = [keras_logs["loss"], *(keras_logs[m] for m in metrics)]
    np.testing.assert_allclose(listed, expected if metrics else expected[0], rtol=LOSS_RTOL, atol=METRIC_ATOL)


def assert_parity(layers, optimizer, loss, kind, metrics=("acc",), **kw):
    x, y = data(kind)
    ours, theirs, start, h_ours, h_theirs = train_both(layers, optimizer, loss, x, y, metrics, **kw)
    assert_weights_match(ours, theirs, start)
    assert_history_match(h_ours, h_theirs)
    assert_evaluate_match(ours, theirs, x, y, metrics)
    np.testing.assert_allclose(ours.predict(x), np.asarray(theirs.predict(x, verbose=0)), atol=WEIGHT_ATOL)


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread():
    """Tiny tensors: torch's thread pool only adds overhead (3x slower on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", autouse=True)
def _report_max_differences():
    yield
    print("\nKeras parity, largest differences seen: "
          + ", ".join(f"{k}={v:.2e}" for k, v in MAX_SEEN.items()))


# --- every optimizer on a 4-8-3 classifier -----------------------------------------------------------

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "rmsprop_momentum": ("RMSprop", {"learning_rate": 0.005, "momentum": 0.9}),
    "rmsprop_centered": ("RMSprop", {"learning_rate": 0.005, "centered": True}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
}


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_optimizer_matches_keras(opt, hidden):
    layers = [_layer(8, hidden), _layer(3, "softmax")]
    assert_parity(layers, OPTIMIZERS[opt], "categorical_crossentropy", "onehot3", metrics=("acc",))


def test_optimizer_defaults_match_keras():
    """Default hyperparameters (name strings in compile) train identically too."""
    x, y = data("onehot3")
    for name in ("sgd", "adam", "rmsprop", "adagrad", "adadelta"):
        ours = engine_model([_layer(8, "tanh"), _layer(3, "softmax")], D)
        theirs = keras_model([_layer(8, "tanh"), _layer(3, "softmax")], D)
        start = ours.get_weights()
        theirs.set_weights(start)
        ours.compile(optimizer=name, loss="categorical_crossentropy")
        theirs.compile(optimizer=name, loss="categorical_crossentropy")
        ours.fit(x, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0)
        theirs.fit(x, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0)
        diff = max(_max_abs(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights()))
        assert diff <= WEIGHT_ATOL, f"{name}: weights differ by {diff:.3e}"
        MAX_SEEN["weights"] = max(MAX_SEEN["weights"], diff)


# --- every loss with a matching output activation ------------------------------------------------------

LOSSES = {
    # id: (loss, output units, output activation, target kind, metrics)
    "mse": ("mse", 2, "linear", "regression2", ("mae",)),
    "mae": ("mae", 2, "linear", "regression2", ("mae",)),
    "hinge": ("hinge", 3, "tanh", "pm1_3", ("mae",)),
    "hinge_binary_labels": ("hinge", 1, "tanh", "binary1", ("mae",)),
    "squared_hinge": ("squared_hinge", 3, "linear", "pm1_3", ("mae",)),
    "categorical_crossentropy": ("categorical_crossentropy", 3, "softmax", "onehot3", ("acc", "mae")),
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", 3, "softmax", "sparse3", ("acc",)),
    "binary_crossentropy": ("binary_crossentropy", 1, "sigmoid", "binary1", ("acc", "mae")),
    # the loss's gradient and the output activation's Jacobian, chained (no fused shortcut)
    "mse_softmax": ("mse", 3, "softmax", "onehot3", ("acc",)),
    "mse_sigmoid": ("mean_squared_error", 3, "sigmoid", "regression3", ("mae",)),
    "categorical_crossentropy_sigmoid": ("categorical_crossentropy", 3, "sigmoid", "onehot3", ("acc",)),
    "binary_crossentropy_softmax": ("binary_crossentropy", 3, "softmax", "onehot3", ("mae",)),
}


@pytest.mark.parametrize("case", list(LOSSES))
def test_loss_matches_keras(case):
    loss, units, activation, kind, metrics = LOSSES[case]
    layers = [_layer(8, "tanh"), _layer(units, activation)]
    assert_parity(layers, ("SGD", {"learning_rate": 0.1, "momentum": 0.5}), loss, kind, metrics=metrics)


# --- every activation, hidden and at the output ----------------------------------------------------

ACTIVATIONS = ["sigmoid", "tanh", "relu", "softmax", "linear", "elu", "softplus", "leaky_relu"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_matches_keras(activation):
    layers = [_layer(8, activation), _layer(3, activation)]
    assert_parity(layers, ("Adam", {"learning_rate": 0.01}), "mse", "regression3", metrics=("mae",))


def test_leaky_relu_uses_keras3_default_slope():
    """Keras 3's "leaky_relu" has negative_slope 0.2 (Keras 2's LeakyReLU layer had 0.3)."""
    z = np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)
    ours = engine.activations.get("leaky_relu").forward(z)
    theirs = keras.ops.convert_to_numpy(keras.activations.get("leaky_relu")(keras.ops.convert_to_tensor(z)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-7)
    np.testing.assert_allclose(ours, [[-0.4, -0.1, 0.0, 1.5]], rtol=1e-6)


# --- regularizers: weights and the reported loss (which includes the penalty) ----------------------------

REGULARIZED = {
    "l2": (("l2", {}), None, ("SGD", {"learning_rate": 0.1, "momentum": 0.5})),
    "l2_strong": (("l2", {"l2": 0.1}), None, ("Adam", {"learning_rate": 0.01})),
    "l1": (("l1", {}), None, ("SGD", {"learning_rate": 0.1, "momentum": 0.5})),
    "l1_strong": (("l1", {"l1": 0.05}), None, ("RMSprop", {"learning_rate": 0.01})),
    "l1_l2": (("l1_l2", {"l1": 0.01, "l2": 0.02}), None, ("Adam", {"learning_rate": 0.01})),
    "l2_kernel_l1_bias": (("l2", {"l2": 0.05}), ("l1", {"l1": 0.05}), ("SGD", {"learning_rate": 0.1})),
}


@pytest.mark.parametrize("case", list(REGULARIZED))
def test_regularizer_matches_keras(case):
    kernel_reg, bias_reg, optimizer = REGULARIZED[case]
    layers = [_layer(8, "relu", kernel_reg, bias_reg), _layer(3, "softmax", kernel_reg, bias_reg)]
    assert_parity(layers, optimizer, "categorical_crossentropy", "onehot3", metrics=("acc",))


def test_regularized_loss_includes_penalty():
    """The reported loss is data loss + penalty, exactly as Keras: check the penalty is not negligible."""
    x, y = data("onehot3")
    layers = [_layer(8, "tanh", ("l2", {"l2": 0.1})), _layer(3, "softmax", ("l2", {"l2": 0.1}))]
    ours, theirs, start, h_ours, h_theirs = train_both(
        layers, ("SGD", {"learning_rate": 0.05}), "categorical_crossentropy", x, y, metrics=())
    assert ours.penalty() > 0.05
    assert_history_match(h_ours, h_theirs)
    assert_evaluate_match(ours, theirs, x, y, ())


# --- "acc"/"accuracy" resolution and batch layouts -------------------------------------------------------

ACCURACY_CASES = {
    # id: (loss, units, output activation, target kind, metric name)
    "categorical": ("categorical_crossentropy", 3, "softmax", "onehot3", "accuracy"),
    "sparse": ("sparse_categorical_crossentropy", 3, "softmax", "sparse3", "accuracy"),
    "binary": ("binary_crossentropy", 1, "sigmoid", "binary1", "acc"),
    "mse_one_unit": ("mse", 1, "sigmoid", "binary1", "acc"),
    "mse_three_units": ("mse", 3, "softmax", "onehot3", "acc"),
    "binary_crossentropy_multilabel": ("binary_crossentropy", 3, "sigmoid", "multilabel3", "acc"),
    "hinge_one_unit": ("hinge", 1, "tanh", "binary1", "acc"),
    "hinge_one_unit_pm1_labels": ("hinge", 1, "tanh", "pm1_1", "acc"),
}

# Keras 3 picks the accuracy from the shapes alone (keras/src/trainers/compile_utils.py,
# is_binary_or_sparse_categorical + get_metric): one output unit → BinaryAccuracy(threshold=0.5),
# y_true of lower rank → SparseCategoricalAccuracy, otherwise CategoricalAccuracy; the loss is not
# consulted. binary_accuracy (keras/src/metrics/accuracy_metrics.py) is
# mean(cast(y_pred > 0.5, y_true.dtype) == y_true).
_ACCURACY_XFAIL = {
    "hinge_one_unit_pm1_labels": (
        "documented deviation (engine/metrics.py BinaryAccuracy): a −1 label counts as class 0; Keras 3 "
        "compares cast(y_pred > 0.5) == y_true, so a −1 label never matches"),
}


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                            reason=_ACCURACY_XFAIL[c])) if c in _ACCURACY_XFAIL
    else c for c in ACCURACY_CASES
])
def test_accuracy_resolution_matches_keras(case):
    loss, units, activation, kind, metric = ACCURACY_CASES[case]
    layers = [_layer(8, "tanh"), _layer(units, activation)]
    assert_parity(layers, ("SGD", {"learning_rate": 0.1}), loss, kind, metrics=(metric,))


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_batch_sizes_match_keras(batch_size):
    """One row per update, an uneven split, and one batch larger than the data set."""
    layers = [_layer(8, "tanh"), _layer(3, "softmax")]
    assert_parity(layers, ("SGD", {"learning_rate": 0.05, "momentum": 0.9}), "categorical_crossentropy",
                  "onehot3", metrics=("acc",), epochs=2, batch_size=batch_size)
