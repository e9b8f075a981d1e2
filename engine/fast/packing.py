"""One contiguous vector behind many arrays, so that one NumPy call covers them all.

FastStep keeps every kernel and bias of a model as a view into one flat vector (and every
gradient as a view into another), in the order of ``model.get_weights()``, and the optimizer's
slots likewise. The optimizers' rules are elementwise, so one update of the flat vectors gives
exactly the numbers of one update per array, with a handful of NumPy calls per step instead of a
handful per array; and one finiteness test of the flat vector covers every weight.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from types import SimpleNamespace

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


@dataclass
class PackedWeights:
    """A model's kernels and biases as views of one flat vector, their gradients of another."""

    params: tuple[np.ndarray, ...]     # K1, b1, K2, b2 ... (get_weights() order): views of ``weights``
    grads: tuple[np.ndarray, ...]      # ∂cost/∂K1, ∂cost/∂b1 ...: views of ``gradients``
    weights: np.ndarray                # every weight, one after another
    gradients: np.ndarray              # every gradient, in the same places

    layers: tuple = ()                 # (dense, K) for each layer packed

    def holds(self, dense_layers) -> bool:
        """Whether ``dense_layers``' weights are still exactly these views (no layer added, none
        placed elsewhere since: Dense.place and Dense.build replace K and b together, so K is tested)."""
        if len(dense_layers) != len(self.layers):
            return False
        for dense, (layer, kernel) in zip(dense_layers, self.layers):
            if dense is not layer or dense.kernel is not kernel:
                return False
        return True


def pack_weights(dense_layers, dtype) -> PackedWeights:
    """Move the layers' kernels and biases into one flat vector (Dense.place: their values are
    kept) and make a flat gradient vector beside it."""
    shapes = [p.shape for dense in dense_layers for p in dense.params()]
    weights = np.empty(sum(math.prod(s) for s in shapes), dtype)
    params = views_of(weights, shapes)
    position = 0
    for dense in dense_layers:
        count = len(dense.params())
        dense.place(*params[position:position + count])
        position += count
    gradients = np.zeros_like(weights)
    layers = tuple((dense, dense.kernel) for dense in dense_layers)
    return PackedWeights(tuple(params), tuple(views_of(gradients, shapes)), weights, gradients, layers)


@dataclass
class PackedSlots:
    """An optimizer's slot arrays as views of one flat vector per slot name."""

    optimizer: object                  # whose weight_slots these are
    arrays: tuple[np.ndarray, ...]     # every slot array, weight by weight, name by name
    flat: SimpleNamespace              # one flat vector per slot name (m, v ...)

    def holds(self, optimizer) -> bool:
        """Whether ``optimizer``'s slots are still these views (not replaced by set_state, reset, or
        packed into another FastStep's vectors)."""
        if optimizer is not self.optimizer:
            return False
        if not self.arrays and not optimizer._slot_init():   # no slots kept (plain SGD): nothing to test
            return True
        return all(map(operator.is_, _slot_arrays(optimizer), self.arrays))


def pack_slots(optimizer, shapes) -> PackedSlots:
    """Put each of ``optimizer``'s slots (one array per weight of ``shapes``) into one flat vector,
    the per-weight arrays becoming views of it (their values are kept)."""
    flat = SimpleNamespace()
    for name in optimizer.slots():
        arrays = [getattr(s, name) for s in optimizer.weight_slots]
        vector = np.concatenate([a.ravel() for a in arrays])
        for s, view in zip(optimizer.weight_slots, views_of(vector, shapes)):
            setattr(s, name, view)
        setattr(flat, name, vector)
    return PackedSlots(optimizer, tuple(_slot_arrays(optimizer)), flat)


def _slot_arrays(optimizer) -> list[np.ndarray]:
    return [a for s in optimizer.weight_slots for a in vars(s).values()]
