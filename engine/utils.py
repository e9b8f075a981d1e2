"""Small helpers from keras.utils: one-hot labels and the global seed."""
from __future__ import annotations

import numpy as np

from .backend import floatx

_SEED: int | None = None


def to_categorical(y, num_classes: int | None = None, dtype: str | None = None) -> np.ndarray:
    """One-hot rows: label c becomes a row of zeros with a 1 in column c (Keras' to_categorical)."""
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical needs integer class labels")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"class labels must be ≥ 0, got {labels.min()}")
    n = int(num_classes) if num_classes is not None else int(labels.max(initial=-1)) + 1
    if labels.size and labels.max() >= n:
        raise ValueError(f"label {labels.max()} does not fit num_classes={n}")
    out = np.zeros((*labels.shape, n), dtype=dtype or floatx())
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def set_random_seed(seed: int) -> None:
    """Seed for models created afterwards without an explicit ``seed`` (as keras.utils.set_random_seed)."""
    global _SEED
    _SEED = int(seed)


def default_seed() -> int | None:
    """The seed set by ``set_random_seed``, or None (then each model draws fresh entropy)."""
    return _SEED
