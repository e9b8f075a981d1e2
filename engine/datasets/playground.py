"""2-D toy data sets after the TensorFlow Playground (src/dataset.ts), plus ``moons``; seeded.

Points lie in roughly [-6, 6]². ``noise`` is the Playground's noise slider divided by 100 (0 to 0.5);
as there, it perturbs the point used to compute the label (circle, xor, plane, multi_gaussian), widens
the Gaussians (gaussian), or moves the points themselves (spiral, moons). Classification labels are
class indices: the Playground's label +1 becomes class 1 and -1 becomes class 0.
"""
from __future__ import annotations

import numpy as np

from .dataset import DataSet
from .options import float_option, int_option, list_option, seed_option, validate

# Derived input features for the "feature engineering vs depth" lesson: name -> f(x1, x2).
FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 ** 2,
    "x2^2": lambda x1, x2: x2 ** 2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}
OPTIONS = {
    "n_samples": int_option(500, 20, 5000, "Number of points, train and test together."),
    "noise": float_option(0.0, 0.0, 0.5, "Noise level: the Playground's noise slider (0-50 %) / 100."),
    "train_fraction": float_option(0.5, 0.1, 0.9, "Share of the points used for training; the rest test."),
    "seed": seed_option(),
    "features": list_option(["x1", "x2"], FEATURES, "Input columns computed from the point (x1, x2)."),
}


def make_features(points, features=("x1", "x2")) -> np.ndarray:
    """Columns f(x1, x2) for each name in ``features`` (e.g. "x1^2" = x1²), as float32 (n, len(features))."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ValueError(f"Unknown feature(s) {unknown}; valid features: {', '.join(FEATURES)}")
    cols = [FEATURES[f](points[:, 0], points[:, 1]) for f in features]
    return np.stack(cols, axis=1).astype(np.float32)


def _halves(n: int) -> tuple[int, int]:
    """(n1, n0): points of class 1 (the Playground's first half) and of class 0; n1 = ⌊n/2⌋."""
    return n // 2, n - n // 2


def _circle(n, noise, rng):
    """Class 1: r ~ U(0, 2.5); class 0: r ~ U(3.5, 5); label = [‖p + ε‖ < 2.5], ε ~ U(-5, 5)²·noise."""
    n1, n0 = _halves(n)
    r = np.concatenate([rng.uniform(0, 2.5, n1), rng.uniform(3.5, 5, n0)])
    angle = rng.uniform(0, 2 * np.pi, n)
    p = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    eps = rng.uniform(-5, 5, (n, 2)) * noise
    return p, (np.linalg.norm(p + eps, axis=1) < 2.5).astype(np.int64)


def _xor(n, noise, rng):
    """x1, x2 ~ U(-5, 5) moved 0.3 off the axes; label = [(x1 + ε1)(x2 + ε2) ≥ 0], ε ~ U(-5, 5)·noise."""
    p = rng.uniform(-5, 5, (n, 2))
    p += np.where(p > 0, 0.3, -0.3)
    q = p + rng.uniform(-5, 5, (n, 2)) * noise
    return p, (q[:, 0] * q[:, 1] >= 0).astype(np.int64)


def _gaussian(n, noise, rng):
    """Class 1 ~ N((2, 2), σ²I), class 0 ~ N((-2, -2), σ²I) with variance σ² = 0.5 + 7·noise."""
    n1, n0 = _halves(n)
    std = np.sqrt(0.5 + 7.0 * noise)
    centers = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n1, n0], axis=0)
    return centers + rng.normal(0, std, (n, 2)), np.repeat([1, 0], [n1, n0]).astype(np.int64)


def _spiral(n, noise, rng):
    """Two arms, i = 0..m-1: r = 5i/m, t = 1.75·2π·i/m + Δ (Δ = 0 class 1, π class 0);
    p = (r sin t, r cos t) + U(-1, 1)²·noise."""
    parts = []
    for m, delta in zip(_halves(n), (0.0, np.pi)):
        i = np.arange(m)
        r, t = 5.0 * i / m, 1.75 * 2 * np.pi * i / m + delta
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (m, 2)) * noise)
    n1, n0 = _halves(n)
    return np.concatenate(parts), np.repeat([1, 0], [n1, n0]).astype(np.int64)


def _moons(n, noise, rng):
    """Two interleaved half circles (as sklearn's make_moons), t ~ U(0, π): class 0 = (cos t, sin t),
    class 1 = (1 - cos t, 0.5 - sin t); then p = 3·(p - (0.5, 0.25)) + N(0, (2·noise)²)."""
    n1, n0 = _halves(n)
    t = rng.uniform(0, np.pi, n)
    outer = np.stack([np.cos(t[:n0]), np.sin(t[:n0])], axis=1)
    inner = np.stack([1 - np.cos(t[n0:]), 0.5 - np.sin(t[n0:])], axis=1)
    p = 3.0 * (np.concatenate([outer, inner]) - [0.5, 0.25]) + rng.normal(0, 2.0 * noise, (n, 2))
    return p, np.repeat([0, 1], [n0, n1]).astype(np.int64)


def _plane(n, noise, rng):
    """p ~ U(-6, 6)²; y = clip((x1 + ε1 + x2 + ε2) / 12, -1, 1), ε ~ U(-6, 6)·noise."""
    p = rng.uniform(-6, 6, (n, 2))
    q = p + rng.uniform(-6, 6, (n, 2)) * noise
    return p, np.clip(q.sum(axis=1) / 12.0, -1.0, 1.0)


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def _multi_gaussian(n, noise, rng):
    """p ~ U(-6, 6)²; y = the bump s_k·clip(1 - ‖p + ε - c_k‖/2, 0, 1) of largest |·| over six
    centres c_k with signs s_k = ±1, ε ~ U(-6, 6)·noise."""
    p = rng.uniform(-6, 6, (n, 2))
    q = p + rng.uniform(-6, 6, (n, 2)) * noise
    d = np.linalg.norm(q[:, None, :] - _BUMPS[None, :, :2], axis=2)
    bumps = _BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    return p, bumps[np.arange(n), np.abs(bumps).argmax(axis=1)]


C, R = "classification", "regression"
# name -> (generator, kind, one-sentence description)
GENERATORS = {
    "circle": (_circle, C, "A disc of class 1 inside a ring of class 0 (Playground 'circle')."),
    "xor": (_xor, C, "Class 1 where x1·x2 ≥ 0, class 0 in the other two quadrants (Playground 'xor')."),
    "gaussian": (_gaussian, C, "Two Gaussian blobs around (2, 2) and (-2, -2) (Playground 'gauss')."),
    "spiral": (_spiral, C, "Two interleaved spiral arms of 1.75 turns (Playground 'spiral')."),
    "moons": (_moons, C, "Two interleaved half circles, as scikit-learn's make_moons."),
    "plane": (_plane, R, "A tilted plane, y = (x1 + x2) / 12 (Playground 'plane')."),
    "multi_gaussian": (_multi_gaussian, R, "Six ±1 Gaussian-like bumps (Playground 'multi gaussian')."),
}
NAMES = tuple(GENERATORS)


def generate(name: str, **options) -> DataSet:
    """The DataSet ``name`` (one of NAMES): points shuffled, then the first ⌊train_fraction·n⌉ train."""
    if name not in GENERATORS:
        raise ValueError(f"Unknown playground data set {name!r}; valid names: {', '.join(NAMES)}")
    opts = validate(name, OPTIONS, options)
    gen, kind, description = GENERATORS[name]
    n = opts["n_samples"]
    rng = np.random.default_rng(opts["seed"])
    points, y = gen(n, opts["noise"], rng)
    order = rng.permutation(n)
    points, y = points[order].astype(np.float32), y[order]    # features come from the stored float32 points
    n_train = min(n - 1, max(1, int(round(opts["train_fraction"] * n))))
    x = make_features(points, opts["features"])
    classification = kind == "classification"
    return DataSet(
        name=name, kind=kind, x_train=x[:n_train], y_train=y[:n_train],
        x_test=x[n_train:], y_test=y[n_train:],
        n_classes=2 if classification else None, feature_names=list(opts["features"]),
        class_names=["0", "1"] if classification else None, description=description, options=opts,
        coords_train=points[:n_train], coords_test=points[n_train:],
    )


def circle(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground 'circle' (see _circle)."""
    return generate("circle", **locals())


def xor(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground 'xor' (see _xor)."""
    return generate("xor", **locals())


def gaussian(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground 'gauss' (see _gaussian)."""
    return generate("gaussian", **locals())


def spiral(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground 'spiral' (see _spiral)."""
    return generate("spiral", **locals())


def moons(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Two moons (see _moons)."""
    return generate("moons", **locals())


def plane(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground regression 'plane' (see _plane)."""
    return generate("plane", **locals())


def multi_gaussian(n_samples=500, noise=0.0, train_fraction=0.5, seed=0, features=("x1", "x2")) -> DataSet:
    """Playground regression 'multi gaussian' (see _multi_gaussian)."""
    return generate("multi_gaussian", **locals())
