"""fit's plain-SGD shortcut (engine.fast): the rate folded into the gradient products, one pass per
update; and the overflow context that lets sigmoid skip np.errstate inside fit's loop."""
import warnings

import numpy as np
import pytest

from engine import SGD, Adam, Dense, Sequential
from engine.activations import Sigmoid, overflow_ignored
from engine.callbacks import Callback
from engine.fast import FastStep, plain_rate, step_of, use_fast_step


def _model(optimizer=None, seed=4, regularizer=None):
    m = Sequential(seed=seed)
    m.add(Dense(6, activation="sigmoid", input_dim=5, kernel_regularizer=regularizer))
    m.add(Dense(4, activation="tanh"))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=optimizer or SGD(0.3), metrics=["acc"])
    return m


def _data(n=50, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


class Watch(Callback):
    """A callback that looks at every batch: fit then takes the unfolded path."""
    def on_batch_end(self, batch, logs=None):
        pass


def test_plain_rate_only_for_sgd_without_momentum():
    assert plain_rate(SGD(0.2)) == 0.2
    decayed = SGD(0.2, decay=0.5)
    decayed.iterations = 2
    assert plain_rate(decayed) == pytest.approx(0.2 / 2.0)
    assert plain_rate(SGD(0.2, momentum=0.9)) is None
    assert plain_rate(Adam(0.01)) is None


def test_dense_backward_with_grad_scale_gives_scaled_gradients():
    x, y = _data()
    m = use_fast_step(_model(regularizer="l2"))
    fast = m.stepper
    m.forward(x[:8], y[:8])
    m.backward()
    exact = [g.copy() for g in fast.packed.grads]
    m.phase = "forward"
    fast.backward(grad_scale=0.3)
    for g, e in zip(fast.packed.grads, exact):
        np.testing.assert_allclose(g, 0.3 * e, rtol=2e-6, atol=1e-9)


def test_apply_scaled_subtracts_the_gradients_exactly():
    m = use_fast_step(_model())
    fast = m.stepper
    x, y = _data()
    m.forward(x[:8], y[:8])
    fast.backward(grad_scale=fast.fold_rate())
    before = [p.copy() for p in fast.packed.params]
    grads = [g.copy() for g in fast.packed.grads]
    fast.apply_gradients(return_deltas=False, scaled=True)
    for p, b, g in zip(fast.packed.params, before, grads):
        np.testing.assert_array_equal(p, b - g)
    assert m.optimizer.iterations == 1 and m.step == 1


def test_apply_gradients_must_match_the_backward():
    m = use_fast_step(_model())
    fast = m.stepper
    x, y = _data()
    m.forward(x[:8], y[:8])
    fast.backward(grad_scale=0.3)
    with pytest.raises(ValueError, match="return_deltas"):
        fast.apply_gradients(scaled=True)
    with pytest.raises(ValueError, match=r"scaled=False.*grad_scale=0.3"):
        fast.apply_gradients(return_deltas=False)
    m.forward(x[:8], y[:8])
    m.backward()
    before = m.get_weights()
    with pytest.raises(ValueError, match=r"scaled=True.*grad_scale=None"):
        fast.apply_gradients(return_deltas=False, scaled=True)
    for a, b in zip(m.get_weights(), before):              # nothing was changed
        np.testing.assert_array_equal(a, b)
    assert m.optimizer.iterations == 0 and m.phase == "backward"


def test_fold_rate_is_at_most_one():
    assert step_of(_model(SGD(1.0))).fold_rate() == 1.0
    assert step_of(_model(SGD(1.5))).fold_rate() is None            # r·∂W could overflow where ∂W does not


def test_sgd_subclass_with_its_own_rule_is_not_folded():
    class ClipSGD(SGD):
        def update(self, w, g, s, lr):
            super().update(w, np.clip(g, -1e-3, 1e-3), s, lr)

    assert plain_rate(ClipSGD(0.1)) is None
    x, y = _data()
    m = _model(ClipSGD(0.1))
    before = m.get_weights()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    steps = 7
    for a, b in zip(m.get_weights(), before):
        assert np.abs(a - b).max() <= steps * 0.1 * 1e-3 * 1.01     # float32 rounding of W − ΔW


def test_an_epoch_that_diverges_leaves_unscaled_gradients():
    """Diverged mid-epoch: the gradients (and the trace's ∂cost/∂W) are ∂cost/∂W, not r·∂cost/∂W."""
    m1, m2 = (Sequential(seed=1) for _ in range(2))
    for m in (m1, m2):
        m.add(Dense(16, input_dim=5))
        m.add(Dense(2))
        m.compile(loss="mse", optimizer=SGD(0.9))
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 5)) * 1e9).astype(np.float32)
    y = (rng.standard_normal((64, 2)) * 1e9).astype(np.float32)
    from engine import Diverged
    with pytest.raises(Diverged) as folded:
        m1.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(Diverged) as plain:
        m2.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, callbacks=[Watch()])
    assert folded.value.step == plain.value.step < 7          # mid-epoch: a folded step came before
    assert folded.value.quantity == plain.value.quantity
    assert step_of(m1).grad_scale is None
    for ours, theirs in zip(m1.trace.layers, m2.trace.layers):
        np.testing.assert_allclose(ours.dW, theirs.dW, rtol=1e-4)


def test_fit_with_decay_folds_the_decayed_rate():
    x, y = _data()
    folded, plain = _model(SGD(0.3, decay=0.2)), _model(SGD(0.3, decay=0.2))
    folded.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    plain.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[Watch()])
    assert folded.optimizer.iterations == plain.optimizer.iterations == 14
    for a, b in zip(folded.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _count_scaled_updates(monkeypatch, calls):
    """Record every folded update (FastStep.apply_gradients with scaled=True) in ``calls``."""
    original = FastStep.apply_gradients

    def counting(self, return_deltas=True, check=True, scaled=False):
        if scaled:
            calls.append(1)
        return original(self, return_deltas=return_deltas, check=check, scaled=scaled)

    monkeypatch.setattr(FastStep, "apply_gradients", counting)


def test_fit_folds_every_step_but_each_epochs_last(monkeypatch):
    calls = []
    _count_scaled_updates(monkeypatch, calls)
    x, y = _data()
    folded, plain = _model(), _model()
    h1 = folded.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history
    assert len(calls) == 3 * 6                     # 7 batches per epoch, the last one unfolded
    h2 = plain.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False, callbacks=[Watch()]).history
    assert len(calls) == 18                        # a per-batch callback: no folding
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5)
    for a, b in zip(folded.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the epoch's last step is unfolded: the trace holds ∂cost/∂W itself, not r·∂cost/∂W
    for ours, theirs in zip(folded.trace.layers, plain.trace.layers):
        np.testing.assert_allclose(ours.dW, theirs.dW, rtol=1e-4, atol=1e-6)


def test_fit_does_not_fold_other_optimizers(monkeypatch):
    calls = []
    _count_scaled_updates(monkeypatch, calls)
    x, y = _data()
    _model(SGD(0.1, momentum=0.5)).fit(x, y, batch_size=8, verbose=0)
    _model(Adam(0.01)).fit(x, y, batch_size=8, verbose=0)
    assert calls == [], "folded"


def test_sigmoid_inside_and_outside_the_overflow_context():
    z = np.array([[-1e4, -100.0, 0.0, 3.0, 1e4]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = Sigmoid().forward(z)
        with overflow_ignored():
            quiet = Sigmoid().forward(z)
    np.testing.assert_array_equal(plain, quiet)
    assert plain[0, 0] == 0.0 and plain[0, 4] == 1.0 and plain[0, 2] == 0.5


def test_overflow_context_restores_the_error_state():
    before = np.geterr()
    with np.errstate(over="raise"):
        with overflow_ignored():
            assert np.geterr()["over"] == "ignore"
        assert np.geterr()["over"] == "raise"
        with pytest.raises(KeyError):
            with overflow_ignored():
                raise KeyError("boom")
        assert np.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            np.exp(np.float32(100.0))
        assert Sigmoid().forward(np.array([-1e4], np.float32))[0] == 0.0   # its own guard again
    assert np.geterr() == before


def test_a_callback_runs_with_the_callers_error_state():
    """fit ignores overflow in its loop; a callback's own np.errstate (and sigmoid) behave as outside."""
    seen = []

    class Probe(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(np.geterr()["over"])
            with np.errstate(over="raise"):
                seen.append(self.model.predict(np.full((2, 5), -1e4, np.float32))[0, 0])

    x, y = _data(n=16)
    with np.errstate(over="warn"):
        _model().fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Probe()])
    assert seen[0] == "warn" and seen[2] == "warn"
    assert np.isfinite(seen[1]) and np.isfinite(seen[3])


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "learning_rate": 0.1},
                                       {"name": "sgd", "learning_rate": 0.1, "momentum": 0.5}])
def test_a_comparison_run_steps_exactly_as_fit(optimizer):
    """engine.compare.train_run folds plain SGD as fit does: the same losses, bit for bit."""
    from engine.compare import build_run, train_run
    spec = {"dataset": {"name": "spiral", "n_samples": 120, "seed": 1},
            "layers": [{"units": 8, "activation": "sigmoid"}, {"units": 2, "activation": "softmax"}],
            "loss": "categorical_crossentropy", "optimizer": optimizer, "batch_size": 8, "seed": 3}
    run = train_run(spec, optimizer["learning_rate"], epochs=2)
    data, model, y_train, _ = build_run(spec)
    history = model.fit(data.x_train, y_train, batch_size=8, epochs=2, verbose=0).history
    assert run["status"] == "done"
    assert run["history"]["loss"] == history["loss"] and run["history"]["acc"] == history["acc"]
