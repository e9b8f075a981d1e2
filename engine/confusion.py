"""Confusion matrices: how often each true class is predicted as each class."""
from __future__ import annotations

import numpy as np


def confusion_matrix(labels, predicted, n_classes: int) -> np.ndarray:
    """(K, K) int64 counts: entry [i, j] = number of samples of true class i predicted as class j."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.int64).reshape(-1)
    if labels.shape != predicted.shape:
        raise ValueError(f"{labels.size} labels but {predicted.size} predictions")
    k = int(n_classes)
    return np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)


def model_confusion(model, x, labels, n_classes: int) -> dict:
    """{"matrix": (K, K) counts, "accuracy": trace / total, "n": samples} of ``model`` on ``x``."""
    matrix = confusion_matrix(labels, model.predict_classes(x), n_classes)
    n = int(matrix.sum())
    return {"matrix": matrix, "accuracy": float(np.trace(matrix) / n) if n else None, "n": n}
