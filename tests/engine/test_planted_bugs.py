"""engine/planted_bugs.py: each planted bug makes the gradient check fail in its layer (> 1e-2) and
nowhere above it (< 1e-6), changes training, and the normal path never imports the module."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from app.schemas import DEFAULT_SESSION
from engine.activations import overflow_ignored
from engine.compare import build_run
from engine.live_check import check_batch
from engine.planted_bugs import NAMES, PlantedStep, choose, explain, layers_for
from engine.runner import Run

_, MODEL, *_ = build_run(DEFAULT_SESSION)
CASES = [(bug, layer) for bug in NAMES for layer in layers_for(MODEL, bug)]


def fresh():
    data, model, y_train, _ = build_run(DEFAULT_SESSION)
    return data, model, y_train


def test_every_bug_fits_the_default_network_where_its_docstring_says():
    assert dict((b, layers_for(MODEL, b)) for b in NAMES) == {
        "missing_f_prime": [1, 2], "no_batch_mean": [1, 2, 3], "update_sign": [1, 2, 3],
        "softmax_chain": [3], "transposed_W": [1, 2]}


@pytest.mark.parametrize("bug,layer", CASES)
def test_the_gradient_check_points_at_the_planted_layer(bug, layer):
    data, model, y = fresh()
    report = check_batch(model, data.x_train[:16], y[:16], make_step=lambda m, b=bug, n=layer: PlantedStep(m, b, n))
    errors = {e["index"]: e["W"]["max_relative_error"] for e in report}
    assert errors[layer] > 1e-2, errors
    assert all(errors[above] < 1e-6 for above in errors if above > layer), errors


def losses(bug, layer, steps):
    data, model, y = fresh()
    run = Run(model, data.x_train, y, 16, stepper=PlantedStep(model, bug, layer) if bug else None)
    with overflow_ignored():
        for _ in range(steps):
            run.step()
    return np.array(run.history["batch_loss"]), model.get_weights()


CORRECT, CORRECT_WEIGHTS = losses(None, None, 400)
HARMFUL = [("missing_f_prime", 1), ("no_batch_mean", 1), ("update_sign", 1), ("update_sign", 2),
           ("update_sign", 3), ("softmax_chain", 3), ("transposed_W", 1), ("transposed_W", 2)]


@pytest.mark.parametrize("bug,layer", CASES)
def test_training_goes_another_way(bug, layer):
    planted, weights = losses(bug, layer, 400)
    assert planted[0] == CORRECT[0]                      # the same first forward pass
    assert max(np.abs(w - c).max() for w, c in zip(weights, CORRECT_WEIGHTS)) > 1e-2
    if (bug, layer) in HARMFUL:                          # worse after 400 steps of XOR (the last 50 losses)
        assert planted[-50:].mean() > 1.5 * CORRECT[-50:].mean(), (planted[-50:].mean(), CORRECT[-50:].mean())


def test_the_update_sign_climbs_the_cost():
    planted, _ = losses("update_sign", 3, 400)
    assert planted[-50:].mean() > planted[:20].mean() > CORRECT[-50:].mean()


def test_choices_and_explanations():
    rng = np.random.default_rng(1)
    picks = {choose(MODEL, "random", None, rng) for _ in range(200)}
    assert picks == set(CASES)
    assert choose(MODEL, "random", 3, rng)[1] == 3
    with pytest.raises(ValueError, match="layer 1, 2"):
        choose(MODEL, "transposed_W", 3)
    _, mse, _, _ = build_run({**DEFAULT_SESSION, "loss": "mean_squared_error"})
    with pytest.raises(ValueError, match="softmax output"):
        choose(mse, "softmax_chain")
    assert explain("missing_f_prime", 1)["right"] == "δ(2) = (W(2)ᵀ·δ(3)) ⊙ f′(z(2))"
    assert explain("update_sign", 2)["planted"] == "W(2) ← W(2) + η·∂cost/∂W(2)"
    assert explain("missing_f_prime", 3, output=True)["planted"] == "δ(4) = ∂loss/∂ŷ"
    _, tanh_out, _, _ = build_run({**DEFAULT_SESSION, "loss": "mean_squared_error", "layers": [
        {"units": 8, "activation": "tanh"}, {"units": 2, "activation": "tanh"}]})
    assert layers_for(tanh_out, "missing_f_prime") == [1, 2] and layers_for(tanh_out, "softmax_chain") == []


@pytest.mark.parametrize("spec", [
    {"loss": "mean_squared_error", "layers": [{"units": 8, "activation": "relu"}, {"units": 2, "activation": "tanh"}]},
    {"loss": "binary_crossentropy", "layers": [{"units": 6, "activation": "sigmoid"}, {"units": 6, "activation": "elu"},
                                               {"units": 1, "activation": "sigmoid"}]}])
def test_other_networks_every_offered_bug_shows_in_its_layer(spec):
    data, model, y, _ = build_run({**DEFAULT_SESSION, **spec})
    cases = [(bug, layer) for bug in NAMES for layer in layers_for(model, bug)]
    assert ("transposed_W", 2) not in cases           # W(3) of the BCE net is 1×6: reshaped = transposed
    for bug, layer in cases:
        report = check_batch(model, data.x_train[:16], y[:16], make_step=lambda m, b=bug, n=layer: PlantedStep(m, b, n))
        errors = {e["index"]: e["W"]["max_relative_error"] for e in report}
        assert errors[layer] > 1e-2 and all(errors[k] < 1e-6 for k in errors if k > layer), (bug, layer, errors)


def test_a_square_W_transposed_wrongly_is_W_times_delta():
    """transposed_W at layer 1 of the default net uses the square W(2) (8×8): δ(2) = (W(2)·δ(3)) ⊙ f′."""
    data, model, y = fresh()
    model.stepper = PlantedStep(model, "transposed_W", 1)
    trace = model.forward(data.x_train[:16], y[:16])
    model.backward()
    W2, d3, z2 = model.dense_layers[1].W, trace.layers[1].delta, trace.layers[0].z
    expected = (d3 @ W2.T) * (1 - np.tanh(z2) ** 2)       # rows: (W(2)·δ(3))ᵀ = δ(3)ᵀ·W(2)ᵀ
    np.testing.assert_allclose(trace.layers[0].delta, expected, rtol=1e-5, atol=1e-7)
    right = (d3 @ W2) * (1 - np.tanh(z2) ** 2)
    assert np.abs(trace.layers[0].delta - right).max() > 1e-3


def test_the_normal_path_never_imports_the_bug_module():
    code = ("import sys; from fastapi.testclient import TestClient; from app.main import create_app;"
            "c = TestClient(create_app()); s = c.post('/api/sessions', json={}).json()['id'];"
            "assert all(c.post(f'/api/sessions/{s}/step').status_code == 200 for _ in range(3));"
            "assert c.post(f'/api/sessions/{s}/epoch').status_code == 200;"
            "assert c.post(f'/api/sessions/{s}/gradient-check').status_code == 200;"
            "print('engine.planted_bugs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
