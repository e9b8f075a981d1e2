"""FastStep's layer steps (engine/fast/step.py LayerStep) follow the model: a layer added, the weights
placed in another FastStep's vector, the optimizer's state replaced — each step still takes
ReferenceStep's numbers, bit for bit."""
import numpy as np

from engine import Dense, Dropout, Sequential, optimizers
from engine.fast import FastStep, packing, use_fast_step


def _model(fast, opt="adam"):
    m = Sequential(seed=2)
    m.add(Dense(6, activation="sigmoid", input_dim=4))
    m.add(Dense(3, activation="softmax"))
    m.compile(loss="categorical_crossentropy", optimizer=optimizers.get(opt))
    return use_fast_step(m) if fast else m


def _batches(n=6, seed=3):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        yield x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]


def _step(m, x, y):
    m.forward(x, y)
    m.backward()
    m.apply_gradients(return_deltas=True)


def _same(a, b):
    for p, q in zip(a.get_weights(), b.get_weights()):
        assert p.tobytes() == q.tobytes()
    for name, arrays in a.optimizer.slots().items():
        for p, q in zip(arrays, b.optimizer.slots()[name]):
            assert p.tobytes() == q.tobytes()


def test_a_layer_added_between_steps():
    reference, fast = _model(False), _model(True)
    for i, (x, y) in enumerate(_batches()):
        if i == 2:
            for m in (reference, fast):
                m.add(Dropout(0.0))                  # a new plan, the same packed weights
                m.optimizer.reset()
        _step(reference, x, y)
        _step(fast, x, y)
        _same(reference, fast)
    assert len(fast.stepper.steps.layers) == 2 and fast.stepper.steps.plan is fast.stepper.plan
    assert fast.stepper.steps.layers[-1].rest == [fast.layers[-1]]


def test_weights_placed_in_another_steps_vector_are_packed_again():
    reference, fast = _model(False), _model(True)
    steppers = [fast.stepper, FastStep(fast)]        # the second packs the layers into its own vector
    for i, (x, y) in enumerate(_batches()):
        stepper = fast.stepper = steppers[i % 2]     # each steps the model every other time
        _step(reference, x, y)
        _step(fast, x, y)
        assert packing.base_of([p for d in fast.dense_layers for p in d.params()]) is stepper.packed.weights
        for name, arrays in fast.optimizer.slots().items():
            assert packing.base_of(arrays) is getattr(stepper.packed_slots.flat, name)
        _same(reference, fast)


def test_optimizer_state_replaced_between_steps():
    reference, fast = _model(False), _model(True)
    batches = list(_batches())
    for x, y in batches[:3]:
        _step(reference, x, y)
        _step(fast, x, y)
    state = reference.optimizer.get_state()
    for m in (reference, fast):
        m.optimizer.set_state(state)                 # new slot arrays: packed again on the next update
    for x, y in batches[3:]:
        _step(reference, x, y)
        _step(fast, x, y)
        _same(reference, fast)
    assert fast.stepper.packed_slots.holds(fast.optimizer)
    assert all(packing.base_of(arrays) is not None for arrays in fast.optimizer.slots().values())
