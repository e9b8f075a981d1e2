"""One contiguous vector behind many weight arrays, so an optimizer updates them all at once.

A model keeps every kernel and bias as a view into one flat vector (and every gradient as a
view into another), in the order of ``model.get_weights()``. The optimizers' rules are
elementwise, so one update of the flat vectors gives exactly the numbers of one update per
array, with a handful of NumPy calls per step instead of a handful per array.
"""
from __future__ import annotations

import numpy as np


def pack(arrays: list[np.ndarray], dtype) -> tuple[np.ndarray, list[np.ndarray]]:
    """A flat vector holding ``arrays`` one after another, and a view of it shaped like each one."""
    flat = np.empty(sum(a.size for a in arrays), dtype=dtype)
    views, offset = [], 0
    for a in arrays:
        view = flat[offset:offset + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        offset += a.size
    return flat, views


def views_of(flat: np.ndarray, shapes) -> list[np.ndarray]:
    """Views of ``flat`` with the given shapes, one after another (no copies)."""
    views, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        views.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return views


def base_of(arrays) -> np.ndarray | None:
    """The flat vector that ``arrays`` tile exactly, in order (as ``pack`` made them), or None."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    start, offset = base.ctypes.data, 0
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or a.ctypes.data != start + offset * base.itemsize:
            return None
        offset += a.size
    return base if offset == base.size else None
