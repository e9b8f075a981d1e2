"""Global numeric settings, as in ``keras.backend``: the default float type and epsilon."""
from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7          # Keras' fuzz factor: clips probabilities, pads denominators


def floatx() -> str:
    """The default float type of new models and weights ('float32' unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: 'float32' (fast) or 'float64' (for gradient checks)."""
    global _FLOATX
    if value not in ("float32", "float64"):
        raise ValueError(f"floatx must be 'float32' or 'float64', got {value!r}")
    _FLOATX = value


def epsilon() -> float:
    """Keras' fuzz factor, 1e-7."""
    return _EPSILON


def as_float(x, dtype=None) -> np.ndarray:
    """``x`` as a C-contiguous float array of ``dtype`` (default: floatx()), copied only if needed."""
    return np.ascontiguousarray(x, dtype=dtype or _FLOATX)
