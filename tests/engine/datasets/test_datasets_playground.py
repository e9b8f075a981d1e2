"""engine.datasets.playground: seeded, shaped, labelled as the TensorFlow Playground, and learnable."""
from __future__ import annotations

import numpy as np
import pytest

from engine.datasets import playground

CLASSIFICATION = ["circle", "xor", "gaussian", "spiral", "moons"]
REGRESSION = ["plane", "multi_gaussian"]


def _all(ds):
    """(points, x, y) of train and test together."""
    return (np.concatenate([ds.coords_train, ds.coords_test]), np.concatenate([ds.x_train, ds.x_test]),
            np.concatenate([ds.y_train, ds.y_test]))


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_seeded_shapes_and_types(name):
    a = playground.generate(name, n_samples=300, train_fraction=0.7, seed=5, noise=0.2)
    b = getattr(playground, name)(n_samples=300, train_fraction=0.7, seed=5, noise=0.2)
    c = playground.generate(name, n_samples=300, train_fraction=0.7, seed=6, noise=0.2)
    for field in ("x_train", "y_train", "x_test", "y_test", "coords_train"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (210, 2) and a.x_test.shape == (90, 2) and a.x_train.dtype == np.float32
    assert a.input_shape == (2,) and a.feature_names == ["x1", "x2"]
    points, x, y = _all(a)
    assert np.mean(np.abs(points) <= 6) > 0.99 and np.array_equal(points, x)   # roughly [-6, 6]²
    if a.kind == "classification":
        assert a.y_train.shape == (210,) and a.y_train.dtype == np.int64 and set(np.unique(y)) == {0, 1}
        assert a.n_classes == 2 and a.targets("test").shape == (90, 2)
    else:
        assert a.y_train.shape == (210, 1) and a.y_train.dtype == np.float32 and a.n_classes is None
        assert -1 <= y.min() < -0.5 and 0.5 < y.max() <= 1


@pytest.mark.parametrize("name", ["circle", "gaussian", "spiral", "moons"])
def test_balanced_classes_without_noise(name):
    _, _, y = _all(playground.generate(name, n_samples=301, seed=1))
    assert np.bincount(y).tolist() == [151, 150]


def test_labels_follow_the_playground_rules_without_noise():
    p, _, y = _all(playground.circle(seed=2))
    r = np.linalg.norm(p, axis=1)
    assert np.array_equal(y, (r < 2.5).astype(int)) and not ((r > 2.5) & (r < 3.5)).any() and r.max() <= 5
    p, _, y = _all(playground.xor(seed=2))
    assert np.array_equal(y, (p[:, 0] * p[:, 1] >= 0).astype(int)) and np.abs(p).min() >= 0.3
    assert 0.4 < y.mean() < 0.6
    p, _, y = _all(playground.gaussian(n_samples=2000, seed=2))
    assert np.allclose(p[y == 1].mean(0), [2, 2], atol=0.1) and np.allclose(p[y == 0].mean(0), [-2, -2], atol=0.1)
    assert np.allclose(p[y == 1].std(0), np.sqrt(0.5), atol=0.05)          # variance 0.5 at noise 0
    p, _, y = _all(playground.spiral(seed=2))
    assert np.allclose(np.sort(np.linalg.norm(p[y == 1], axis=1)), 5 * np.arange(250) / 250, atol=1e-5)
    p, _, y = _all(playground.plane(seed=2))
    assert np.allclose(y[:, 0], (p[:, 0] + p[:, 1]) / 12, atol=1e-6)


def test_multi_gaussian_matches_a_loop_over_the_six_centres():
    p, _, y = _all(playground.multi_gaussian(n_samples=200, seed=3))
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (x1, x2), got in zip(p.astype(float), y[:, 0]):
        label = 0.0
        for cx, cy, sign in centres:                   # the Playground's getLabel, literally
            new = sign * min(1.0, max(0.0, 1 - np.hypot(x1 - cx, x2 - cy) / 2))
            label = new if abs(new) > abs(label) else label
        assert got == pytest.approx(label, abs=1e-5)


def test_noise_flips_labels_and_widens_gaussians():
    p, _, y = _all(playground.circle(noise=0.5, n_samples=2000, seed=4))
    flipped = np.mean(y != (np.linalg.norm(p, axis=1) < 2.5))
    assert 0.1 < flipped < 0.45
    p, _, y = _all(playground.gaussian(noise=0.5, n_samples=2000, seed=4))
    assert np.allclose(p[y == 1].std(0), 2.0, atol=0.15)                   # variance 0.5 + 7·0.5 = 4
    p0, _, _ = _all(playground.moons(seed=4))
    p1, _, _ = _all(playground.moons(noise=0.2, seed=4))
    assert 0.3 < np.std(p1 - p0) < 0.5                                     # N(0, (2·0.2)²) per coordinate


def test_derived_features_are_the_formulas():
    names = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
    ds = playground.spiral(features=names, noise=0.3, seed=7)
    p, x, _ = _all(ds)
    x1, x2 = p[:, 0].astype(np.float64), p[:, 1].astype(np.float64)
    expected = np.stack([x1, x2, x1 ** 2, x2 ** 2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    assert ds.input_shape == (7,) and ds.feature_names == names
    assert np.allclose(x, expected, rtol=1e-5, atol=1e-5)
    only = playground.circle(features=["x1^2", "x2^2"], seed=7)
    assert np.allclose(only.x_train, only.coords_train ** 2, rtol=1e-5)
    assert np.array_equal(playground.make_features(only.coords_test, ["x1^2", "x2^2"]), only.x_test)


@pytest.mark.parametrize("options, words", [
    ({"n_samples": 5}, ["n_samples", "20", "5000"]),
    ({"noise": 0.9}, ["noise", "0.0", "0.5"]),
    ({"train_fraction": 1.0}, ["train_fraction", "0.1", "0.9"]),
    ({"seed": -1}, ["seed"]),
    ({"n_samples": 2.5}, ["n_samples", "integer"]),
    ({"features": ["x1", "x3"]}, ["features", "sin_x1"]),
    ({"features": []}, ["features"]),
    ({"colour": "red"}, ["colour", "n_samples", "features"]),
])
def test_bad_options_name_the_option_and_bounds(options, words):
    with pytest.raises(ValueError) as info:
        playground.circle(**options) if "colour" not in options else playground.generate("circle", **options)
    assert all(w in str(info.value) for w in words), str(info.value)


# --- learnability: a small NumPy MLP trained here, independent of the engine being written --------------

def _fit(x, y, hidden, steps, regression=False, lr=0.01, seed=0):
    """Full-batch Adam on a tanh MLP (sigmoid + cross-entropy, or linear + MSE); returns predict(x)."""
    rng = np.random.default_rng(seed)
    mu, sd = x.mean(0), x.std(0) + 1e-8
    sizes = [x.shape[1], *hidden, 1]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0, np.sqrt(1 / a), (a, b)), np.zeros(b)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = y.reshape(-1, 1).astype(float)

    def forward(xs):
        """Activations of every layer for inputs xs (standardized with the training mean and std)."""
        acts = [(xs - mu) / sd]
        for i in range(0, len(params), 2):
            z = acts[-1] @ params[i] + params[i + 1]
            acts.append(np.tanh(z) if i + 2 < len(params) else z)
        return acts

    for step in range(1, steps + 1):
        acts = forward(x)
        out = acts[-1]
        delta = (out - t if regression else 1 / (1 + np.exp(-out)) - t) / len(x)
        grads = []
        for i in range(len(params) - 2, -1, -2):
            grads = [acts[i // 2].T @ delta, delta.sum(0)] + grads
            delta = (delta @ params[i].T) * (1 - acts[i // 2] ** 2)
        for j, g in enumerate(grads):
            m[j] = 0.9 * m[j] + 0.1 * g
            v[j] = 0.999 * v[j] + 0.001 * g * g
            params[j] -= lr * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8)
    return lambda xs: forward(xs)[-1]


@pytest.mark.parametrize("name, hidden, steps, lr", [
    ("circle", (8,), 400, 0.01), ("xor", (8,), 400, 0.01), ("gaussian", (), 200, 0.01),
    ("moons", (16,), 600, 0.02), ("spiral", (32, 32), 1500, 0.01),
])
def test_classification_sets_are_learnable(name, hidden, steps, lr):
    ds = playground.generate(name, noise=0.05, seed=0)
    predict = _fit(ds.x_train, ds.y_train, hidden, steps, lr=lr)
    train_acc = np.mean((predict(ds.x_train)[:, 0] > 0) == ds.y_train)
    test_acc = np.mean((predict(ds.x_test)[:, 0] > 0) == ds.y_test)
    assert train_acc > 0.9, train_acc
    assert test_acc > (0.75 if name == "spiral" else 0.85), test_acc


def test_feature_engineering_makes_circle_linear():
    raw = playground.circle(noise=0.05, seed=1)
    squared = playground.circle(noise=0.05, seed=1, features=["x1^2", "x2^2"])
    acc = []
    for ds in (raw, squared):
        predict = _fit(ds.x_train, ds.y_train, (), 300, lr=0.05)          # logistic regression
        acc.append(np.mean((predict(ds.x_test)[:, 0] > 0) == ds.y_test))
    assert acc[0] < 0.75 and acc[1] > 0.95, acc


@pytest.mark.parametrize("name, hidden", [("plane", ()), ("multi_gaussian", (32, 32))])
def test_regression_sets_are_learnable(name, hidden):
    ds = playground.generate(name, seed=0, n_samples=1000)
    predict = _fit(ds.x_train, ds.y_train, hidden, 1500, regression=True)
    mse = np.mean((predict(ds.x_test) - ds.y_test) ** 2)
    assert mse < 0.1 * ds.y_test.var(), (mse, ds.y_test.var())
