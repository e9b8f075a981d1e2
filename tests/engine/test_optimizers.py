"""Optimizers: two hand-worked steps of every rule, the apply() contract, lookup, and Keras 3 parity."""
import math
import os

import numpy as np
import pytest

from engine import optimizers
from engine.optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop

EPS = 1e-7
W0 = [1.0, -2.0]          # one weight vector, two entries with opposite signs
G1 = [0.5, -1.0]          # gradient of the first step
G2 = [0.25, 2.0]          # gradient of the second step


def run(opt, grads, dtype=np.float64):
    """Apply ``grads`` (one list per step) to a copy of W0; return the weights after each step."""
    w = np.array(W0, dtype=dtype)
    after = []
    for g in grads:
        opt.apply([w], [np.array(g, dtype=dtype)])
        after.append(w.copy())
    return after


def check(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


# --- Hand-worked steps (float64, so the rule itself is checked to 1e-12) -----------------------------

def test_sgd_plain_two_steps():
    w1, w2 = run(SGD(learning_rate=0.1), [G1, G2])
    check(w1, [1.0 - 0.1 * 0.5, -2.0 + 0.1 * 1.0])          # [0.95, -1.9]
    check(w2, [0.95 - 0.1 * 0.25, -1.9 - 0.1 * 2.0])        # [0.925, -2.1]


def test_sgd_momentum_two_steps():
    opt = SGD(learning_rate=0.1, momentum=0.9)
    w1, w2 = run(opt, [G1, G2])
    # m1 = −0.1·g1 = [−0.05, 0.1];  W1 = W0 + m1
    check(w1, [0.95, -1.9])
    # m2 = 0.9·m1 − 0.1·g2 = [−0.045 − 0.025, 0.09 − 0.2] = [−0.07, −0.11]
    check(opt.slots()["momentum"][0], [-0.07, -0.11])
    check(w2, [0.95 - 0.07, -1.9 - 0.11])                   # [0.88, -2.01]


def test_sgd_nesterov_two_steps():
    w1, w2 = run(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), [G1, G2])
    # W1 = W0 + 0.9·m1 − 0.1·g1 = [1 − 0.045 − 0.05, −2 + 0.09 + 0.1]
    check(w1, [0.905, -1.81])
    # W2 = W1 + 0.9·m2 − 0.1·g2 = [0.905 − 0.063 − 0.025, −1.81 − 0.099 − 0.2]
    check(w2, [0.817, -2.109])


def test_sgd_decay_uses_lr_over_one_plus_decay_times_iterations():
    opt = SGD(learning_rate=0.1, decay=0.5)
    assert opt.current_learning_rate() == 0.1                # 0.1 / (1 + 0.5·0)
    w1, w2 = run(opt, [G1, G2])
    check(w1, [0.95, -1.9])
    lr2 = 0.1 / 1.5                                          # 0.1 / (1 + 0.5·1)
    check(w2, [0.95 - lr2 * 0.25, -1.9 - lr2 * 2.0])         # [0.93333…, -2.03333…]
    assert opt.current_learning_rate() == pytest.approx(0.05, rel=1e-15)   # 0.1 / (1 + 0.5·2)
    assert opt.learning_rate == 0.1


def test_adam_two_steps():
    opt = Adam(learning_rate=0.1)
    w1, w2 = run(opt, [G1, G2])
    # t=1: m = 0.1·g1, v = 0.001·g1², α = 0.1·√(1 − 0.999)/(1 − 0.9)
    a1 = 0.1 * math.sqrt(0.001) / 0.1
    check(w1, [1.0 - a1 * 0.05 / (math.sqrt(0.00025) + EPS), -2.0 - a1 * -0.1 / (math.sqrt(0.001) + EPS)])
    np.testing.assert_allclose(w1, [0.9, -1.9], atol=1e-5)   # Adam's first step is ≈ lr·sign(g)
    # t=2: m = m + (g2 − m)·0.1 = [0.07, 0.11];  v = v + (g2² − v)·0.001 = [0.00031225, 0.004999]
    a2 = 0.1 * math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    check(opt.slots()["m"][0], [0.07, 0.11])
    check(opt.slots()["v"][0], [0.00031225, 0.004999])
    check(w2, [w1[0] - a2 * 0.07 / (math.sqrt(0.00031225) + EPS),
               w1[1] - a2 * 0.11 / (math.sqrt(0.004999) + EPS)])


def test_adam_amsgrad_divides_by_largest_v():
    opt = Adam(learning_rate=0.1, amsgrad=True)
    w1, w2 = run(opt, [G1, [0.0, 0.0]])
    # Step 2 has g = 0, so v shrinks to 0.999·v1 but v̂ keeps v1 = [0.00025, 0.001]; m2 = 0.9·m1.
    a2 = 0.1 * math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    check(opt.slots()["v_hat"][0], [0.00025, 0.001])
    check(opt.slots()["v"][0], [0.999 * 0.00025, 0.999 * 0.001])
    check(w2, [w1[0] - a2 * 0.045 / (math.sqrt(0.00025) + EPS),
               w1[1] - a2 * -0.09 / (math.sqrt(0.001) + EPS)])
    plain = run(Adam(learning_rate=0.1), [G1, [0.0, 0.0]])[1]
    assert np.all(np.abs(w2 - w1) < np.abs(plain - w1))     # the larger v̂ gives a smaller step


def test_adagrad_two_steps():
    opt = Adagrad(learning_rate=0.1)
    w1, w2 = run(opt, [G1, G2])
    # A1 = 0.1 + g1² = [0.35, 1.1];  W1 = W0 − 0.1·g1/√(A1 + ε)
    check(w1, [1.0 - 0.05 / math.sqrt(0.35 + EPS), -2.0 + 0.1 / math.sqrt(1.1 + EPS)])
    # A2 = A1 + g2² = [0.4125, 5.1]
    check(opt.slots()["accumulator"][0], [0.4125, 5.1])
    check(w2, [w1[0] - 0.025 / math.sqrt(0.4125 + EPS), w1[1] - 0.2 / math.sqrt(5.1 + EPS)])


def test_rmsprop_two_steps():
    w1, w2 = run(RMSprop(learning_rate=0.1), [G1, G2])
    # v1 = 0.1·g1² = [0.025, 0.1];  v2 = 0.9·v1 + 0.1·g2² = [0.02875, 0.49]
    check(w1, [1.0 - 0.05 / math.sqrt(0.025 + EPS), -2.0 + 0.1 / math.sqrt(0.1 + EPS)])
    check(w2, [w1[0] - 0.025 / math.sqrt(0.02875 + EPS), w1[1] - 0.2 / math.sqrt(0.49 + EPS)])


def test_rmsprop_momentum_two_steps():
    opt = RMSprop(learning_rate=0.1, momentum=0.5)
    w1, w2 = run(opt, [G1, G2])
    d1 = [0.05 / math.sqrt(0.025 + EPS), -0.1 / math.sqrt(0.1 + EPS)]       # Δ1 = lr·g1/√(v1 + ε)
    d2 = [0.025 / math.sqrt(0.02875 + EPS), 0.2 / math.sqrt(0.49 + EPS)]
    m2 = [0.5 * d1[0] + d2[0], 0.5 * d1[1] + d2[1]]                          # m2 = 0.5·m1 + Δ2
    check(w1, [1.0 - d1[0], -2.0 - d1[1]])
    check(opt.slots()["momentum"][0], m2)
    check(w2, [w1[0] - m2[0], w1[1] - m2[1]])


def test_rmsprop_centered_two_steps():
    opt = RMSprop(learning_rate=0.1, centered=True)
    w1, w2 = run(opt, [G1, G2])
    # ḡ1 = 0.1·g1 = [0.05, −0.1];  D1 = v1 − ḡ1² + ε = [0.025 − 0.0025, 0.1 − 0.01] + ε
    check(w1, [1.0 - 0.05 / math.sqrt(0.0225 + EPS), -2.0 + 0.1 / math.sqrt(0.09 + EPS)])
    # ḡ2 = 0.9·ḡ1 + 0.1·g2 = [0.07, 0.11];  D2 = [0.02875 − 0.0049, 0.49 − 0.0121] + ε
    check(opt.slots()["average_gradient"][0], [0.07, 0.11])
    check(w2, [w1[0] - 0.025 / math.sqrt(0.02385 + EPS), w1[1] - 0.2 / math.sqrt(0.4779 + EPS)])


def test_adadelta_two_steps():
    opt = Adadelta(learning_rate=0.5)
    w1 = run(opt, [G1])[0]
    # G1 = 0.05·g1² = [0.0125, 0.05];  δ1 = −√(0 + ε)·g1/√(G1 + ε);  D1 = 0.05·δ1² (≈ 1e-7)
    s = math.sqrt(EPS)
    d1 = [-s * 0.5 / math.sqrt(0.0125 + EPS), -s * -1.0 / math.sqrt(0.05 + EPS)]
    check(w1, [1.0 + 0.5 * d1[0], -2.0 + 0.5 * d1[1]])     # W1 = W0 + lr·δ1
    D1 = [0.05 * d1[0] ** 2, 0.05 * d1[1] ** 2]
    check(opt.slots()["accumulated_delta_var"][0], D1)
    # G2 = 0.95·G1 + 0.05·g2² = [0.015, 0.2475];  δ2 = −√(D1 + ε)·g2/√(G2 + ε)
    w = w1.copy()
    opt.apply([w], [np.array(G2)])
    check(opt.slots()["accumulated_grad"][0], [0.015, 0.2475])
    d2 = [-math.sqrt(D1[0] + EPS) * 0.25 / math.sqrt(0.015 + EPS),
          -math.sqrt(D1[1] + EPS) * 2.0 / math.sqrt(0.2475 + EPS)]
    check(w, [w1[0] + 0.5 * d2[0], w1[1] + 0.5 * d2[1]])
    check(opt.slots()["accumulated_delta_var"][0], [0.95 * D1[0] + 0.05 * d2[0] ** 2,
                                                     0.95 * D1[1] + 0.05 * d2[1] ** 2])


def test_adam_float32_computes_alpha_in_float32_like_keras():
    w1 = run(Adam(learning_rate=0.1), [G1], dtype=np.float32)[0]
    f = np.float32
    alpha = f(0.1) * np.sqrt(f(1) - f(0.999)) / (f(1) - f(0.9))  # Keras casts β to the weight dtype
    expected = [f(1.0) - alpha * f(0.05) / (np.sqrt(f(0.00025)) + f(EPS)),
                f(-2.0) - alpha * f(-0.1) / (np.sqrt(f(0.001)) + f(EPS))]
    np.testing.assert_allclose(w1, expected, rtol=2e-7)


# --- The apply() contract -----------------------------------------------------------------------------

ALL = [SGD(), SGD(momentum=0.9, nesterov=True), Adam(), Adam(amsgrad=True), Adagrad(), RMSprop(),
       RMSprop(momentum=0.5, centered=True), Adadelta()]


@pytest.mark.parametrize("opt", ALL, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_apply_updates_in_place_keeps_dtype_and_returns_exact_deltas(opt, dtype):
    opt.reset()
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=4).astype(dtype)]
    ids = [id(p) for p in params]
    for step in range(3):
        grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
        before = [p.copy() for p in params]
        deltas = opt.apply(params, grads, return_deltas=True)
        assert [id(p) for p in params] == ids
        for p, b, d in zip(params, before, deltas):
            assert p.dtype == dtype and d.dtype == dtype and d.shape == p.shape
            assert np.array_equal(d, p - b)
            assert np.any(d != 0)
        assert opt.iterations == step + 1
    assert opt.apply(params, grads) is None
    assert all(s.dtype == dtype for arrays in opt.slots().values() for s in arrays)
    opt.reset()
    assert opt.iterations == 0 and all(v == [] for v in opt.slots().values())


def test_float64_gradients_are_cast_to_float32_params():
    w = np.array(W0, dtype=np.float32)
    SGD(learning_rate=0.1).apply([w], [np.array(G1, dtype=np.float64)])
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, [0.95, -1.9], rtol=1e-7)


def test_slot_arrays_persist_across_updates():
    opt, w = Adam(), np.ones(3)
    opt.apply([w], [np.ones(3)])
    m = opt.slots()["m"][0]
    opt.apply([w], [np.ones(3)])
    assert opt.slots()["m"][0] is m


@pytest.mark.parametrize("opt, names", [
    (SGD(), []), (SGD(momentum=0.9), ["momentum"]), (Adam(), ["m", "v"]),
    (Adam(amsgrad=True), ["m", "v", "v_hat"]), (Adagrad(), ["accumulator"]), (RMSprop(), ["velocity"]),
    (RMSprop(momentum=0.1, centered=True), ["velocity", "momentum", "average_gradient"]),
    (Adadelta(), ["accumulated_grad", "accumulated_delta_var"]),
], ids=repr)
def test_slot_names(opt, names):
    opt.apply([np.ones(2), np.ones(3)], [np.ones(2), np.ones(3)])
    slots = opt.slots()
    assert sorted(slots) == sorted(names)
    assert all(len(v) == 2 and v[0].shape == (2,) and v[1].shape == (3,) for v in slots.values())


def test_adagrad_accumulator_starts_at_initial_value():
    opt = Adagrad(initial_accumulator_value=0.5)
    opt.apply([np.zeros(2)], [np.zeros(2)])
    check(opt.slots()["accumulator"][0], [0.5, 0.5])


def test_learning_rate_change_mid_training_keeps_state():
    opt = SGD(learning_rate=0.1, momentum=0.9)
    w = np.array(W0)
    opt.apply([w], [np.array(G1)])
    opt.learning_rate = 0.2
    opt.apply([w], [np.array(G2)])
    # m2 = 0.9·[−0.05, 0.1] − 0.2·g2 = [−0.095, −0.31]
    check(w, [0.95 - 0.095, -1.9 - 0.31])
    assert opt.iterations == 2
    with pytest.raises(ValueError, match="-1"):
        opt.learning_rate = -1


def test_mismatched_params_and_grads_raise():
    opt = SGD()
    with pytest.raises(ValueError, match="2 parameters but 1 gradients"):
        opt.apply([np.ones(2), np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="shape"):
        opt.apply([np.ones(2)], [np.ones(3)])
    opt.apply([np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="reset"):
        opt.apply([np.ones(2), np.ones(2)], [np.ones(2), np.ones(2)])


# --- Construction, defaults, lookup -------------------------------------------------------------------

def test_lecture_spelling_lr_alias_and_decay():
    opt = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    assert (opt.learning_rate, opt.decay, opt.momentum, opt.nesterov) == (0.01, 1e-6, 0.9, True)


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, float("nan"), float("inf"), "0.1", None, True])
def test_invalid_learning_rate_raises_naming_it(bad):
    with pytest.raises(ValueError, match="learning_rate") as info:
        SGD(learning_rate=bad)
    assert repr(bad) in str(info.value)


def test_unknown_kwargs_raise_naming_them():
    with pytest.raises(ValueError, match="clipnorm.*foo"):
        Adam(foo=1, clipnorm=1.0)


@pytest.mark.parametrize("kwargs", [{"momentum": -0.1}, {"momentum": 1.5}, {"decay": -1.0}])
def test_invalid_hyperparameters_raise(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SGD(**kwargs)


def test_keras3_defaults():
    assert SGD().get_config() == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.0, "nesterov": False,
                                  "decay": 0.0}
    assert Adam().get_config() == {"name": "adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                   "epsilon": 1e-7, "amsgrad": False, "decay": 0.0}
    assert Adagrad().get_config() == {"name": "adagrad", "learning_rate": 0.001,
                                      "initial_accumulator_value": 0.1, "epsilon": 1e-7, "decay": 0.0}
    assert RMSprop().get_config() == {"name": "rmsprop", "learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                                      "epsilon": 1e-7, "centered": False, "decay": 0.0}
    assert Adadelta().get_config() == {"name": "adadelta", "learning_rate": 0.001, "rho": 0.95,
                                       "epsilon": 1e-7, "decay": 0.0}


def test_hyperparameters_describe_the_settings_form():
    hp = SGD.hyperparameters()
    assert list(hp) == ["learning_rate", "momentum", "nesterov", "decay"]
    assert hp["learning_rate"] == {"default": 0.01, "min": 0.0, "max": 100.0, "min_exclusive": True, "type": "float",
                                   "help": hp["learning_rate"]["help"]}
    assert hp["nesterov"]["type"] == "bool" and hp["nesterov"]["default"] is False
    assert Adam.hyperparameters()["learning_rate"]["default"] == 0.001
    for cls in (SGD, Adam, Adagrad, RMSprop, Adadelta):
        for name, spec in cls.hyperparameters().items():
            assert set(spec) == {"default", "min", "max", "min_exclusive", "type", "help"} and spec["help"]
            if spec["type"] == "float":
                assert spec["min"] <= spec["default"] <= spec["max"], (cls, name)


def test_get_by_name_dict_instance_class_and_overrides():
    opt = optimizers.get("sgd", learning_rate=0.1)
    assert type(opt) is SGD and opt.learning_rate == 0.1
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.1, "momentum": 0.9})
    assert (opt.learning_rate, opt.momentum) == (0.1, 0.9)
    assert type(optimizers.get("RMSprop")) is RMSprop and type(optimizers.get("ADAM")) is Adam
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(Adagrad)) is Adagrad
    with pytest.raises(ValueError, match="adadelta.*adagrad.*adam.*rmsprop.*sgd"):
        optimizers.get("adamw")
    with pytest.raises(ValueError, match="foo"):
        optimizers.get("sgd", foo=1)


def test_serialize_round_trip():
    opt = RMSprop(learning_rate=0.01, momentum=0.5, centered=True, decay=1e-4)
    data = optimizers.serialize(opt)
    assert data["class_name"] == "RMSprop"
    back = optimizers.deserialize(data)
    assert type(back) is RMSprop and back.get_config() == opt.get_config()
    assert SGD.from_config(SGD(momentum=0.9).get_config()).momentum == 0.9


# --- Parity with Keras 3 (skipped when keras/torch are absent) ---------------------------------------

@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"
    return pytest.importorskip("keras")


KERAS_CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("Adam", {}), ("Adam", {"learning_rate": 0.01, "amsgrad": True}), ("Adagrad", {"learning_rate": 0.1}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5}), ("RMSprop", {"centered": True, "momentum": 0.5}),
    ("Adadelta", {}), ("Adadelta", {"learning_rate": 1.0}),
]


def _five_keras_steps(keras, keras_opt, ours, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 5)]
    start = [rng.normal(size=s).astype(np.float32) for s in shapes]
    steps = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(5)]
    kvars = [keras.Variable(w.copy()) for w in start]
    mine = [w.copy() for w in start]
    for grads in steps:
        keras_opt.apply([keras.ops.convert_to_tensor(g) for g in grads], kvars)
        ours.apply(mine, grads)
    theirs = [keras.ops.convert_to_numpy(v.value) for v in kvars]
    assert int(keras.ops.convert_to_numpy(keras_opt.iterations)) == ours.iterations == 5
    for a, b, w in zip(mine, theirs, start):
        assert a.dtype == np.float32
        assert np.max(np.abs(a - w)) > 1e-6                       # the weights really moved
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize("name, kwargs", KERAS_CASES, ids=[f"{n}{k}" for n, k in KERAS_CASES])
def test_five_steps_match_keras3(keras, name, kwargs):
    _five_keras_steps(keras, getattr(keras.optimizers, name)(**kwargs), optimizers.get(name, **kwargs))


@pytest.mark.keras
def test_decay_matches_keras3_inverse_time_decay(keras):
    schedule = keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.3)
    _five_keras_steps(keras, keras.optimizers.SGD(learning_rate=schedule, momentum=0.9),
                      SGD(learning_rate=0.1, decay=0.3, momentum=0.9))


@pytest.mark.keras
@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop", "Adadelta"])
def test_defaults_match_keras3(keras, name):
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = optimizers.get(name).get_config()
    for key, value in ours.items():
        if key not in ("name", "decay"):
            assert theirs[key] == pytest.approx(value, rel=1e-7), key


@pytest.mark.parametrize("cls", [Adam, Adagrad, RMSprop, Adadelta])
def test_epsilon_must_be_positive(cls):
    """ε keeps the denominator away from 0, so 0 (or less) is refused like Keras' callers expect."""
    for bad in (0, 0.0, -1e-7, float("nan")):
        with pytest.raises(ValueError, match=r"epsilon must be a finite number in \(0"):
            cls(epsilon=bad)
    assert cls(epsilon=1e-12).epsilon == 1e-12
    assert cls.hyperparameters()["epsilon"]["min_exclusive"] is True


def test_get_state_and_set_state_round_trip():
    rng = np.random.default_rng(0)
    w = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    g = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    a, b = Adam(learning_rate=0.1, amsgrad=True), Adam(learning_rate=0.1, amsgrad=True)
    for _ in range(3):
        a.apply(w, g)
    state = a.get_state()
    assert state["iterations"] == 3 and set(state["slots"]) == {"m", "v", "v_hat"}
    b.set_state(state)
    state["slots"]["m"][0][...] = 99                # copies both ways: no shared arrays
    wa, wb = [x.copy() for x in w], [x.copy() for x in w]
    a.apply(wa, g)
    b.apply(wb, g)
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))
    with pytest.raises(ValueError, match="expects slots"):
        SGD(momentum=0.9).set_state(state)
    with pytest.raises(ValueError, match="iterations"):
        b.set_state({"iterations": -1, "slots": {}})
    fresh = SGD(momentum=0.9)
    fresh.set_state({"iterations": 4, "slots": {}})
    assert fresh.iterations == 4 and fresh.slots() == {"momentum": []}
