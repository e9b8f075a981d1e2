"""Loss functions, Keras 3 semantics: one loss per sample, averaged over the batch.

Each loss gives ``per_sample(y_true, y_pred)`` (shape (batch,): the mean over the output
units, as Keras reduces the last axis) and ``gradient(y_true, y_pred)`` = ∂loss_i/∂ŷ_i row by
row (the cost is the batch mean, so the model divides weight gradients by the batch size).
``fused_activation`` names the output activation whose Jacobian cancels against the loss
(softmax with cross-entropy, sigmoid with binary cross-entropy): then δ(L) = ``fused_delta``.
"""
from __future__ import annotations

import numpy as np

from .backend import epsilon
from .registry import Registry


class Loss:
    """Base class. ``__call__`` returns the batch-mean loss (Keras' sum_over_batch_size)."""

    name = "loss"
    fused_activation: str | None = None     # output activation with the shortcut δ(L)
    targets = "dense"                       # "dense": y has ŷ's shape; "sparse": class indices

    def per_sample(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def gradient(self, y_true, y_pred) -> np.ndarray:
        """∂loss_i/∂ŷ_i for each sample i (not divided by the batch size)."""
        raise NotImplementedError

    def fused_delta(self, y_true, y_pred) -> np.ndarray:
        """δ(L) = ∂loss_i/∂z(L) for the fused output activation."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred) -> float:
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def get_config(self) -> dict:
        return {}

    def __repr__(self):
        return f"{type(self).__name__}()"


registry = Registry("loss", base=Loss)


def _units(y_pred) -> int:
    return y_pred.shape[-1] if y_pred.ndim > 1 else 1


@registry.register("mean_squared_error", "mse", "MeanSquaredError")
class MeanSquaredError(Loss):
    """loss_i = (1/k) Σ_j (ŷ_ij − y_ij)²;  ∂loss_i/∂ŷ_ij = 2(ŷ_ij − y_ij)/k."""

    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        return np.mean(np.square(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        g = y_pred - y_true
        g *= 2.0 / _units(y_pred)
        return g


@registry.register("mean_absolute_error", "mae", "MeanAbsoluteError")
class MeanAbsoluteError(Loss):
    """loss_i = (1/k) Σ_j |ŷ_ij − y_ij|;  ∂loss_i/∂ŷ_ij = sign(ŷ_ij − y_ij)/k (0 at a tie)."""

    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        g = np.sign(y_pred - y_true)
        g *= 1.0 / _units(y_pred)
        return g


def _hinge_labels(y_true):
    """Keras 3: labels that are all 0 or 1 become −1 or +1; others are used as they are."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


@registry.register("hinge", "Hinge")
class Hinge(Loss):
    """loss_i = (1/k) Σ_j max(1 − y_ij·ŷ_ij, 0), y in {−1, +1} (0/1 labels are converted).

    ∂loss_i/∂ŷ_ij = −y_ij/k where the margin 1 − y·ŷ is positive, else 0.
    """

    name = "hinge"

    def per_sample(self, y_true, y_pred):
        y = _hinge_labels(y_true)
        return np.mean(np.maximum(1.0 - y * y_pred, 0.0), axis=-1)

    def gradient(self, y_true, y_pred):
        y = _hinge_labels(y_true)
        return np.where(1.0 - y * y_pred > 0, -y, 0.0).astype(y_pred.dtype) / _units(y_pred)


@registry.register("squared_hinge", "SquaredHinge")
class SquaredHinge(Loss):
    """loss_i = (1/k) Σ_j max(1 − y_ij·ŷ_ij, 0)²;  ∂loss_i/∂ŷ_ij = −2·y_ij·max(1 − y·ŷ, 0)/k."""

    name = "squared_hinge"

    def per_sample(self, y_true, y_pred):
        y = _hinge_labels(y_true)
        return np.mean(np.square(np.maximum(1.0 - y * y_pred, 0.0)), axis=-1)

    def gradient(self, y_true, y_pred):
        y = _hinge_labels(y_true)
        margin = np.maximum(1.0 - y * y_pred, 0.0)
        return (-2.0 * y * margin / _units(y_pred)).astype(y_pred.dtype)


@registry.register("categorical_crossentropy", "CategoricalCrossentropy")
class CategoricalCrossentropy(Loss):
    """loss_i = −Σ_j y_ij · log q_ij with q = clip(ŷ / Σ_j ŷ_j, ε, 1 − ε) (Keras 3, ε = 1e-7).

    After a softmax output the chain rule collapses to δ(L) = ŷ − y (the fused shortcut).
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def per_sample(self, y_true, y_pred):
        eps = epsilon()
        q = np.divide(y_pred, y_pred.sum(axis=-1, keepdims=True))
        np.maximum(q, eps, out=q)          # np.clip(q, ε, 1 − ε), in place
        np.minimum(q, 1.0 - eps, out=q)
        np.log(q, out=q)
        q *= y_true
        out = np.add.reduce(q, axis=-1)
        return np.negative(out, out=out)

    def gradient(self, y_true, y_pred):
        eps = epsilon()
        s = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / s
        g_q = np.where((q > eps) & (q < 1.0 - eps), -y_true / np.maximum(q, eps), 0.0)
        return ((g_q - np.sum(g_q * q, axis=-1, keepdims=True)) / s).astype(y_pred.dtype)

    def fused_delta(self, y_true, y_pred):
        return np.subtract(y_pred, y_true, dtype=y_pred.dtype)

    def per_sample_labels(self, labels, y_pred):
        """``per_sample`` for one-hot targets given as class indices: −log q of the true class
        only (the other terms of the sum are exactly 0), with the same numbers as ``per_sample``."""
        eps = epsilon()
        q = y_pred[np.arange(labels.shape[0]), labels]
        np.divide(q, np.add.reduce(y_pred, axis=-1), out=q)
        np.maximum(q, eps, out=q)
        np.minimum(q, 1.0 - eps, out=q)
        np.log(q, out=q)
        return np.negative(q, out=q)


def labels_path(loss) -> bool:
    """Whether ``loss`` is a built-in (sparse) categorical cross-entropy, whose ``per_sample`` for
    one-hot rows equals ``per_sample_labels`` of their class indices."""
    return type(loss) in (CategoricalCrossentropy, SparseCategoricalCrossentropy)


@registry.register("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels y_i instead of one-hot rows."""

    name = "sparse_categorical_crossentropy"
    targets = "sparse"

    @staticmethod
    def _one_hot(y_true, y_pred):
        labels = np.asarray(y_true).reshape(-1).astype(np.int64)
        k = y_pred.shape[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"sparse labels must lie in [0, {k - 1}], got {labels.min()}..{labels.max()}")
        out = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        out[np.arange(labels.size), labels] = 1.0
        return out

    def per_sample(self, y_true, y_pred):
        return super().per_sample(self._one_hot(y_true, y_pred), y_pred)

    def gradient(self, y_true, y_pred):
        return super().gradient(self._one_hot(y_true, y_pred), y_pred)

    def fused_delta(self, y_true, y_pred):
        return super().fused_delta(self._one_hot(y_true, y_pred), y_pred)


@registry.register("binary_crossentropy", "BinaryCrossentropy")
class BinaryCrossentropy(Loss):
    """loss_i = −(1/k) Σ_j [y·log p + (1 − y)·log(1 − p)], p = clip(ŷ, ε, 1 − ε).

    ∂loss_i/∂ŷ = (p − y)/(p(1 − p))/k; after a sigmoid output δ(L) = (ŷ − y)/k (fused).
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def per_sample(self, y_true, y_pred):
        eps = epsilon()
        p = np.clip(y_pred, eps, 1.0 - eps)
        return -np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p), axis=-1)

    def gradient(self, y_true, y_pred):
        eps = epsilon()
        inside = (y_pred > eps) & (y_pred < 1.0 - eps)
        p = np.clip(y_pred, eps, 1.0 - eps)
        g = np.where(inside, (p - y_true) / (p * (1.0 - p)), 0.0)
        return (g / _units(y_pred)).astype(y_pred.dtype)

    def fused_delta(self, y_true, y_pred):
        d = np.subtract(y_pred, y_true, dtype=y_pred.dtype)
        d *= 1.0 / _units(y_pred)
        return d


def get(identifier) -> Loss:
    """A loss from a name (``"mse"``, ``"categorical_crossentropy"`` ...), a dict or an instance."""
    return registry.get(identifier)


def names() -> list[str]:
    """Canonical loss names."""
    return registry.names()
