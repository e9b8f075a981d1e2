"""Optimizer.carry_state_from: a changed hyperparameter keeps the training state (the web app's PATCH)."""
import numpy as np
import pytest

from engine.optimizers import SGD, Adam


def _grads(rng, shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def test_same_slots_are_kept_and_training_continues_from_them():
    rng = np.random.default_rng(0)
    shapes = [(3, 2), (2,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    old = SGD(0.1, momentum=0.9)
    for _ in range(3):
        old.apply(params, _grads(rng, shapes))
    velocity = [m.copy() for m in old.slots()["momentum"]]
    new = SGD(0.05, momentum=0.5, nesterov=True)
    assert new.carry_state_from(old) == (["momentum"], [])
    assert new.iterations == 3
    g = _grads(rng, shapes)
    expected = []
    for p, m, gi in zip(params, velocity, g):                # Nesterov with μ = 0.5, lr = 0.05
        m2 = np.float32(0.5) * m - np.float32(0.05) * gi
        expected.append(p - np.float32(0.05) * gi + np.float32(0.5) * m2)
    new.apply(params, g)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-6, atol=1e-7)


def test_new_slots_start_at_their_initial_value():
    rng = np.random.default_rng(1)
    shapes = [(4,)]
    params = [np.zeros(4, np.float32)]
    old = Adam(0.01)
    old.apply(params, _grads(rng, shapes))
    new = Adam(0.01, amsgrad=True)
    assert new.carry_state_from(old) == (["m", "v"], ["v_hat"])
    np.testing.assert_array_equal(new.slots()["v_hat"][0], 0.0)
    np.testing.assert_array_equal(new.slots()["m"][0], old.slots()["m"][0])
    plain = SGD(0.1)
    assert plain.carry_state_from(SGD(0.1, momentum=0.9)) == ([], [])      # nothing trained yet


def test_another_optimizer_class_is_refused():
    with pytest.raises(ValueError, match="cannot carry Adam state into SGD"):
        SGD(0.1).carry_state_from(Adam())


def test_set_state_checks_slot_shapes_against_the_weights():
    rng = np.random.default_rng(2)
    params = [np.zeros((3, 2), np.float32), np.zeros(2, np.float32)]
    opt = SGD(0.1, momentum=0.9)
    opt.apply(params, _grads(rng, [(3, 2), (2,)]))
    state = opt.get_state()
    fresh = SGD(0.1, momentum=0.9)
    fresh.set_state(state, shapes=[(3, 2), (2,)])
    np.testing.assert_array_equal(fresh.slots()["momentum"][0], opt.slots()["momentum"][0])
    with pytest.raises(ValueError, match=r"weight 0 has shape \(3, 2\), but the model has shape \(4, 2\)"):
        SGD(0.1, momentum=0.9).set_state(state, shapes=[(4, 2), (2,)])
    with pytest.raises(ValueError, match="state for 2 weights, but the model has 3"):
        SGD(0.1, momentum=0.9).set_state(state, shapes=[(3, 2), (2,), (1,)])
