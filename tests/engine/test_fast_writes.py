"""engine/fast/writes.py: the new weights written into scratch are the optimizer's own update, bit for
bit, for every optimizer; WriteChoice keeps the way its clock says is faster; a FastStep gives the
same weights whichever way it writes."""
from types import SimpleNamespace

import numpy as np
import pytest

from engine import Dense, Sequential, optimizers
from engine.fast import FastStep, rules, writes
from engine.fast.rules import Scratch
from engine.runner import Run

CONFIGS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd_decay": ("SGD", {"learning_rate": 0.1, "decay": 0.3}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01, "decay": 0.1}),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "rmsprop_centered_momentum": ("RMSprop", {"learning_rate": 0.005, "centered": True, "momentum": 0.5}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
}


def _slots(opt, n, dtype):
    return SimpleNamespace(**{k: np.full(n, v, dtype) for k, v in opt._slot_init().items()})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CONFIGS)
def test_into_rule_is_the_optimizers_update_bit_for_bit(name, dtype):
    cls, kwargs = CONFIGS[name]
    opt = optimizers.get({"class_name": cls, "config": kwargs})
    rng = np.random.default_rng(1)
    n = 500
    w1 = rng.standard_normal(n).astype(dtype)
    w2 = w1.copy()
    s1, s2 = _slots(opt, n, dtype), _slots(opt, n, dtype)
    scratch, rule = Scratch(), writes.into_rule(opt)
    for it in range(12):
        g = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 2, n)).astype(dtype)
        g[:3] = 0.0
        opt.iterations = it
        lr = opt.current_learning_rate()
        opt.update(w1, g, s1, lr)
        before = w2.copy()
        new = rule(opt, w2, g, s2, lr, scratch)
        assert w2.tobytes() == before.tobytes()             # W itself is left alone ...
        assert new is not w2 and not np.shares_memory(new, w2)
        np.copyto(w2, new)                                  # ... and the copy is the update
        assert w1.tobytes() == w2.tobytes()
        for key in vars(s1):
            assert getattr(s1, key).tobytes() == getattr(s2, key).tobytes()


def test_a_numpy_learning_rate_keeps_sgds_own_expression():
    # a float64 η makes lr·g float64 in SGD.update; the copied update must round the same way
    opt = optimizers.SGD(0.1)
    w = np.linspace(-1, 1, 64, dtype=np.float32)
    g = np.linspace(3, -2, 64, dtype=np.float32)
    lr = np.float64(0.1) / np.float64(3.0)
    expected = w.copy()
    opt.update(expected, g, SimpleNamespace(), lr)
    got = writes.sgd_into(opt, w, g, SimpleNamespace(), lr, Scratch())
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("name,hyper", [("sgd_nesterov", {"momentum": np.float64(0.9)}),
                                        ("sgd_momentum", {"momentum": np.float32(0.9)}),
                                        ("adam", {"beta_1": np.float64(0.8), "epsilon": np.float64(1e-7)}),
                                        ("adam_amsgrad", {"beta_2": np.float32(0.99)})])
def test_numpy_scalar_hyperparameters_keep_the_optimizers_own_expressions(name, hyper):
    # set after construction (which makes Python floats), they take part in NumPy's type promotion
    cls, kwargs = CONFIGS[name]
    opt = optimizers.get({"class_name": cls, "config": kwargs})
    for key, value in hyper.items():
        setattr(opt, key, value)
    rng = np.random.default_rng(2)
    n = 300
    w1 = rng.standard_normal(n).astype(np.float32)
    w2, w3 = w1.copy(), w1.copy()
    s1, s2, s3 = (_slots(opt, n, np.float32) for _ in range(3))
    scratch, rule = Scratch(), writes.into_rule(opt)
    for it in range(8):
        g = (rng.standard_normal(n) * 10.0 ** rng.integers(-4, 1, n)).astype(np.float32)
        opt.iterations = it
        lr = opt.current_learning_rate()
        opt.update(w1, g, s1, lr)
        np.copyto(w2, rule(opt, w2, g, s2, lr, scratch))
        kept = rules.kept_rule(opt)
        (kept or type(opt).update)(opt, w3, g, s3, lr, *((scratch,) if kept else ()))
        assert w1.tobytes() == w2.tobytes() == w3.tobytes()
    assert rules.kept_rule(opt) is None


def test_rules_by_optimizer():
    class ClippedSGD(optimizers.SGD):
        def update(self, w, g, s, lr):
            super().update(w, np.clip(g, -1, 1), s, lr)

    assert writes.into_rule(optimizers.SGD()) is writes.sgd_into
    assert writes.into_rule(optimizers.Adam()) is writes.adam_into
    assert writes.into_rule(optimizers.RMSprop()) is writes.update_into
    assert writes.into_rule(ClippedSGD()) is writes.update_into


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _trial(choice, clock, in_place_s, copy_s):
    """Run one trial through ``choice``: every timed update takes the given seconds."""
    ways = []
    for _ in range(10 * choice.TRIALS):
        copy, timed = choice.next()
        assert timed
        ways.append(copy)
        start = clock()
        clock.now += copy_s if copy else in_place_s
        choice.record(copy, clock() - start)
        if choice.until:
            return ways
    raise AssertionError(f"no choice after {len(ways)} timed updates")


def test_write_choice_alternates_then_keeps_the_faster_way():
    clock = FakeClock()
    choice = writes.WriteChoice(clock)
    ways = _trial(choice, clock, in_place_s=160e-6, copy_s=70e-6)
    assert ways == [False, True] * choice.TRIALS                   # alternate, both timed
    assert choice.copy is True and choice.until == choice.EVERY
    for _ in range(choice.EVERY):                                 # then untimed, copied
        assert choice.next() == (True, False)
    ways = _trial(choice, clock, in_place_s=40e-6, copy_s=50e-6)   # the next trial: in place wins
    assert len(ways) == 2 * choice.TRIALS and choice.copy is False
    assert choice.next() == (False, False)


def test_write_choice_keeps_in_place_unless_the_copy_clearly_wins():
    clock = FakeClock()
    choice = writes.WriteChoice(clock)
    _trial(choice, clock, in_place_s=100e-6, copy_s=97e-6)         # within the margin
    assert choice.copy is False
    choice.until = 0
    _trial(choice, clock, in_place_s=100e-6, copy_s=90e-6)
    assert choice.copy is True


def _model(opt):
    m = Sequential(seed=3)
    m.add(Dense(16, activation="tanh", input_dim=5))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=opt)
    return m


@pytest.mark.parametrize("name", ["sgd_nesterov", "adam_amsgrad", "rmsprop_centered_momentum"])
def test_fast_step_gives_the_same_weights_in_place_copied_or_choosing(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 90)]
    cls, kwargs = CONFIGS[name]
    results = {}
    for way in ("in place", "copied", "choosing"):
        m = _model(optimizers.get({"class_name": cls, "config": kwargs}))
        step = FastStep(m)
        if way != "choosing":
            step.writes.pin(way == "copied")
        run = Run(m, x, y, batch_size=8, stepper=step)
        for _ in range(4):
            run.run_epoch()
        results[way] = [w.tobytes() for w in m.get_weights()]
    assert results["in place"] == results["copied"] == results["choosing"]


def test_fast_step_times_both_ways_decides_and_then_writes_the_chosen_way(monkeypatch):
    import engine.fast.step as fast_step
    calls = []
    real = fast_step.into_rule

    def spy(optimizer):
        rule = real(optimizer)
        return lambda *args: calls.append(1) or rule(*args)
    monkeypatch.setattr(fast_step, "into_rule", spy)

    class Clock:                   # an update takes 3 s in place and 1 s copied
        now, seen = 0.0, 0

        def __call__(self):
            copied, self.seen = len(calls) > self.seen, len(calls)
            self.now += 0.5 if copied else 1.5     # read at an update's start and at its end
            return self.now

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    m = _model(optimizers.SGD(0.1, momentum=0.9))
    step = FastStep(m)
    step.writes = writes.WriteChoice(Clock())
    run = Run(m, x, y, batch_size=4, stepper=step)
    for _ in range(2 * writes.WriteChoice.TRIALS):
        run.step()
    assert len(calls) == writes.WriteChoice.TRIALS   # every other timed update was copied ...
    assert step.writes.copy is True and step.writes.until == writes.WriteChoice.EVERY   # ... then decided
    for _ in range(5):
        run.step()
    assert len(calls) == writes.WriteChoice.TRIALS + 5   # and each update since is copied
