"""engine/live_check.py: the model is left exactly as it was, the numbers agree with gradient_check's,
the sample of weights is seeded, and a ReLU kink inside ±h is marked instead of blamed on backward."""
from __future__ import annotations

import numpy as np

from app.schemas import DEFAULT_SESSION
from engine.compare import build_run
from engine.gradcheck import gradient_check
from engine.live_check import check_batch, float64_copy
from engine.runner import Run


def test_the_model_is_left_as_it_was_and_agrees_with_gradient_check():
    data, model, y, _ = build_run({**DEFAULT_SESSION, "layers": [{"units": 8, "activation": "tanh", "dropout": 0.3},
                                                               {"units": 2, "activation": "softmax"}]})
    run = Run(model, data.x_train, y, 16)
    run.step()
    run.forward()                                   # a pending batch: the trace and phase must stay
    weights, trace, phase = model.get_weights(), model.trace, model.phase
    rngs = [g.bit_generator.state for g in (model.init_rng, model.shuffle_rng, model.dropout_rng)]
    rows = run.pending.rows
    report = check_batch(model, data.x_train[rows], y[rows])
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert model.trace is trace and model.phase == phase
    assert rngs == [g.bit_generator.state for g in (model.init_rng, model.shuffle_rng, model.dropout_rng)]
    copy = float64_copy(model)
    reference = gradient_check(copy, copy.prepare_x(data.x_train[rows]), y[rows])
    for entry in report:
        assert entry["W"]["max_relative_error"] < 1e-6
        assert abs(entry["W"]["max_relative_error"] - reference[f"W({entry['index']})"]) < 1e-8


def test_the_sample_is_seeded_and_bounded():
    data, model, y, _ = build_run(DEFAULT_SESSION)
    a = check_batch(model, data.x_train[:8], y[:8], layers=[2], max_weights=10, seed=4)
    b = check_batch(model, data.x_train[:8], y[:8], layers=[2], max_weights=10, seed=4)
    c = check_batch(model, data.x_train[:8], y[:8], layers=[2], max_weights=10, seed=5)
    assert [e["index"] for e in a] == [2] and a[0]["W"]["checked"] == 10 and a[0]["W"]["total"] == 64
    assert a[0]["W"]["indices"] == b[0]["W"]["indices"] != c[0]["W"]["indices"]
    assert len({tuple(ij) for ij in a[0]["W"]["indices"]}) == 10


def test_a_relu_kink_inside_h_is_marked():
    spec = {**DEFAULT_SESSION, "layers": [{"units": 4, "activation": "relu"}, {"units": 2, "activation": "softmax"}]}
    data, model, y, _ = build_run(spec)
    x = data.x_train[:4].astype(np.float64)
    first = model.dense_layers[0]
    z = x.astype(np.float32) @ first.kernel
    first.bias[0] = -z[0, 0] + np.float32(1e-7)     # z(2) of sample 1, unit 1: just above 0, within h·a of it
    report = check_batch(model, x, y[:4], layers=[1])
    part = report[0]["W"]
    kinked = [tuple(ij) for ij, k in zip(part["indices"], part["kink"]) if k]
    assert kinked and all(i == 0 for i, _ in kinked)        # only weights into unit 1 cross its kink
    assert part["kinks"] == len(kinked) and part["max_relative_error"] > 1e-4
    assert part["smooth_max_relative_error"] < 1e-6
