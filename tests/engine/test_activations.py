"""Activations: values at known points, derivatives against finite differences, stability."""
import numpy as np
import pytest

from engine import activations

Z = np.array([[-2.0, -0.5, 0.3, 1.7], [0.9, -1.1, 2.5, -0.2]])


def test_known_values():
    z = np.array([[-1.0, 0.0, 2.0]])
    assert np.allclose(activations.get("sigmoid")(z), 1 / (1 + np.exp(-z)))
    assert np.allclose(activations.get("tanh")(z), np.tanh(z))
    assert np.allclose(activations.get("relu")(z), [[0, 0, 2]])
    assert np.allclose(activations.get("linear")(z), z)
    assert np.allclose(activations.get("leaky_relu")(z), [[-0.2, 0, 2]])
    assert np.allclose(activations.get("elu")(z), [[np.exp(-1) - 1, 0, 2]])
    assert np.allclose(activations.get("softplus")(z), np.log1p(np.exp(z)))
    soft = activations.get("softmax")(z)
    assert np.allclose(soft, np.exp(z) / np.exp(z).sum())


@pytest.mark.parametrize("name", activations.names())
def test_backward_matches_finite_differences(name):
    f = activations.get(name)
    rng = np.random.default_rng(1)
    g = rng.normal(size=Z.shape)        # an upstream gradient ∂loss/∂a
    a = f(Z)
    analytic = f.backward(Z, a, g)
    h = 1e-6
    numeric = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        zp, zm = Z.copy(), Z.copy()
        zp[idx] += h
        zm[idx] -= h
        numeric[idx] = (np.sum(g * f(zp)) - np.sum(g * f(zm))) / (2 * h)
    assert np.max(np.abs(analytic - numeric)) < 1e-7


@pytest.mark.parametrize("name", activations.names())
def test_extreme_inputs_stay_finite(name):
    z = np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32)
    a = activations.get(name)(z)
    assert np.all(np.isfinite(a)), name


def test_sigmoid_and_softmax_saturate_exactly():
    z = np.array([[-1000.0, 1000.0]])
    assert activations.get("sigmoid")(z).tolist() == [[0.0, 1.0]]
    assert activations.get("softmax")(z).tolist() == [[0.0, 1.0]]


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Valid names: .*relu.*sigmoid"):
        activations.get("sigmoud")


def test_get_accepts_dict_instance_and_none():
    leaky = activations.get({"name": "leaky_relu", "negative_slope": 0.1})
    assert leaky.negative_slope == 0.1
    assert activations.get(leaky) is leaky
    assert activations.get(None).name == "linear"
