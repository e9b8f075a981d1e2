"""Epoch averages of the loss and metrics, as Keras 3's trackers report them.

``EpochMeter`` adds each step's batch loss and metric values as they come (the web app and
the learning-rate comparison need the batch loss at every step). engine/fast/meters.py's
``LabelMeter`` is fit's shortcut with exactly its numbers (many batches worked out at once).
``evaluate`` gives the same quantities over a whole data set at inference (Keras' evaluate, and
every run's val_* logs).
"""
from __future__ import annotations

import numpy as np

from .losses import labels_path
from .metrics import CategoricalAccuracy, SparseCategoricalAccuracy

LABEL_METRICS = (CategoricalAccuracy, SparseCategoricalAccuracy)   # counted from argmax ŷ = label


class EpochMeter:
    """Running, sample-weighted means of the loss and metrics over one epoch (Keras 3's trackers)."""

    def __init__(self, model):
        self.model = model
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.sums = {"loss": 0.0, **{name: 0.0 for name in self.model.metrics}}

    def update(self, trace, labels: np.ndarray | None = None) -> None:
        """Add a batch; ``labels`` (class indices of the one-hot targets, from fit) lets the
        accuracies count argmax ŷ = label directly (argmax once), with the same numbers."""
        n = trace.batch_size
        self.count += n
        sums = self.sums
        sums["loss"] += trace.loss * n
        predicted = None
        for name, metric in self.model.metrics.items():
            if labels is not None and type(metric) in LABEL_METRICS:
                if predicted is None:
                    predicted = np.argmax(trace.y_pred, axis=-1)
                sums[name] += float(np.count_nonzero(predicted == labels))
            else:
                sums[name] += float(np.add.reduce(metric.per_sample(trace.y, trace.y_pred), axis=None))

    def result(self) -> dict[str, float]:
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}


def class_labels(model, y: np.ndarray) -> np.ndarray | None:
    """The class index of each target row when the loss is cross-entropy and the targets are
    sparse labels or exact one-hot rows (then the loss and accuracy take the label paths);
    None otherwise."""
    if not labels_path(model.loss):
        return None
    if model.loss.targets == "sparse":
        return y
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] < 2:
        return None
    labels = np.argmax(y, axis=-1)
    if np.count_nonzero(y) != y.shape[0] or not np.all(y[np.arange(y.shape[0]), labels] == 1):
        return None
    return labels


def evaluate(model, x, y) -> dict[str, float]:
    """Loss (+ regularisation penalty) and metrics over all of ``x``, ``y`` at inference."""
    x = model.prepare_x(x)
    y = model.prepare_y(y, x.shape[0])
    if x.shape[0] == 0:
        raise ValueError("evaluate() needs at least one sample; got an empty x (the mean loss of no "
                         "samples is undefined)")
    y_pred = model.predict(x)
    logs = {"loss": float(np.mean(model.loss.per_sample(y, y_pred))) + model.penalty()}
    for name, metric in model.metrics.items():
        logs[name] = metric(y, y_pred)
    return logs
