"""One contiguous vector behind many arrays, so that one NumPy call covers them all.

A model keeps every kernel and bias as a view into one flat vector (and every gradient as a
view into another), in the order of ``model.get_weights()``. The optimizers' rules are
elementwise, so one update of the flat vectors gives exactly the numbers of one update per
array, with a handful of NumPy calls per step instead of a handful per array. Likewise every
z(l+1) and ŷ of a batch live in one block, whose finiteness one dot product tests.
"""
from __future__ import annotations

import math

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
        size = math.prod(shape)
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


def pack_weights(dense_layers, dtype) -> tuple[tuple, tuple]:
    """Move the layers' kernels and biases into one flat vector and point their gradients into
    another (Dense.bind); returns (weight views, gradient views) in get_weights() order."""
    params = [p for dense in dense_layers for p in dense.params()]
    flat, views = pack(params, dtype)
    grads = views_of(np.zeros_like(flat), [p.shape for p in params])
    position = 0
    for dense in dense_layers:
        count = len(dense.params())
        dense.bind(views[position:position + count], grads[position:position + count])
        position += count
    return tuple(views), tuple(grads)


def batch_block(dense_layers, n: int, width: int):
    """(block, ŷ view, z views, ones): give each Dense layer work arrays for batches of ``n`` rows
    whose z — and the output layer's a, ŷ — are views of one flat block; ``ones`` (as long as the
    block) is for its finiteness test, a dot product. (None, None, (), None) when an activation
    cannot write into a given array (then each array is tested on its own)."""
    if not all(d.activation.supports_out for d in dense_layers):
        return None, None, (), None
    shapes = [(n, d.units) for d in dense_layers] + [(n, dense_layers[-1].units)]
    block = np.empty(sum(r * c for r, c in shapes), dense_layers[0].kernel.dtype)
    views = views_of(block, shapes)
    for dense, z in zip(dense_layers, views):
        a = views[-1] if dense is dense_layers[-1] else None
        dense.use_buffers(n, width, z, a)
        width = dense.units
    return block, views[-1], tuple(views[:-1]), np.ones_like(block)
