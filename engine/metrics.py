"""Metrics: numbers reported during training that the optimizer does not minimise.

Each metric maps a batch to per-sample values (shape (batch,)); ``fit`` averages them over
the epoch, weighted by sample, as Keras 3 does. ``"acc"``/``"accuracy"`` is resolved at
``compile`` from the loss and the output width, as Keras resolves it.
"""
from __future__ import annotations

import numpy as np

from .registry import Registry


class Metric:
    """Base class: ``per_sample(y_true, y_pred)`` → (batch,) values whose mean is the metric."""

    name = "metric"

    def per_sample(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, y_true, y_pred) -> float:
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def __repr__(self):
        return f"{type(self).__name__}()"


registry = Registry("metric", base=Metric)


@registry.register("categorical_accuracy")
class CategoricalAccuracy(Metric):
    """1 if argmax ŷ_i = argmax y_i, else 0."""

    name = "categorical_accuracy"

    def per_sample(self, y_true, y_pred):
        return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


@registry.register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(Metric):
    """1 if argmax ŷ_i equals the integer label y_i, else 0."""

    name = "sparse_categorical_accuracy"

    def per_sample(self, y_true, y_pred):
        labels = np.asarray(y_true).reshape(-1)
        return (np.argmax(y_pred, axis=-1) == labels).astype(np.float64)


@registry.register("binary_accuracy")
class BinaryAccuracy(Metric):
    """Mean over outputs of [ (ŷ > threshold) = (y > 0.5) ], threshold 0.5.

    Deviation from Keras 3, on purpose: a label of −1 (hinge's ±1 labels) counts as class 0,
    where Keras compares the 0/1 prediction with −1 and never scores such a sample correct.
    """

    name = "binary_accuracy"

    def __init__(self, threshold: float = 0.5):
        self.threshold = float(threshold)   # ŷ above it counts as class 1

    def per_sample(self, y_true, y_pred):
        positive = y_true > 0.5
        return np.mean((y_pred > self.threshold) == positive, axis=-1).astype(np.float64)


@registry.register("mean_absolute_error", "mae")
class MeanAbsoluteError(Metric):
    """(1/k) Σ_j |ŷ_ij − y_ij|."""

    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)


@registry.register("mean_squared_error", "mse")
class MeanSquaredError(Metric):
    """(1/k) Σ_j (ŷ_ij − y_ij)²."""

    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        return np.mean(np.square(y_pred - y_true), axis=-1)


ACCURACY_NAMES = ("acc", "accuracy")


def get(identifier, loss=None, output_units: int | None = None) -> Metric:
    """A metric by name; ``acc``/``accuracy`` is resolved from the output, as Keras 3 does.

    one output unit → binary_accuracy (threshold 0.5); sparse categorical cross-entropy →
    sparse_categorical_accuracy; otherwise categorical_accuracy (argmax).
    """
    if isinstance(identifier, str) and identifier.lower() in ACCURACY_NAMES:
        if output_units == 1:
            return BinaryAccuracy()
        if getattr(loss, "name", "") == "sparse_categorical_crossentropy":
            return SparseCategoricalAccuracy()
        return CategoricalAccuracy()
    return registry.get(identifier)


def names() -> list[str]:
    """Names accepted by ``compile(metrics=[...])``."""
    return [*ACCURACY_NAMES, *registry.all_names()]
