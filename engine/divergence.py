"""Where training diverged: cheap finiteness tests, and the search for the first non-finite value.

The hot path tests only a few arrays (each z, ŷ, and the weights after an update); when one
of them fails, these functions look through the step in the order it computed things and
raise ``Diverged`` naming the first quantity that went NaN or ±inf.
"""
from __future__ import annotations

import math

import numpy as np

from .activations import overflow_is_ignored
from .errors import Diverged

_ONES: dict = {}     # dtype → a vector of ones, grown as needed, for _finite's dot product


def _ones(dt, size: int) -> np.ndarray:
    """A vector of ``size`` ones of dtype ``dt`` (a view of one kept per dtype, grown as needed)."""
    ones = _ONES.get(dt)
    if ones is None or ones.size < size:
        ones = _ONES[dt] = np.ones(max(size, 1024), dt)
    return ones[:size]


def _dot(flat: np.ndarray, ones: np.ndarray) -> float:
    """Σ flat as one BLAS dot product with ones. Large finite values may overflow it to inf, which
    only sends the caller to the exact test: NumPy's overflow warning is silenced here (inside a
    training loop that already ignores overflow, without the ~1.5 µs of setting np.errstate)."""
    if overflow_is_ignored():
        return float(np.dot(flat, ones))
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.dot(flat, ones))


def finite(arr: np.ndarray, ones: np.ndarray | None = None) -> bool:
    """Whether ``arr`` holds no NaN or ±inf: a BLAS dot product with ones first (any NaN or inf
    makes it non-finite; about twice as fast as arr.sum()), the exact test only if that fails.
    ``ones``: a 1-D ``arr``'s own vector of ones (same size and dtype), kept by the caller."""
    flat = arr if arr.ndim == 1 else arr.ravel(order="K")
    dt = flat.dtype
    if ones is None and (dt == np.float32 or dt == np.float64):
        ones = _ones(dt, flat.size)
    if ones is not None and math.isfinite(_dot(flat, ones)):
        return True
    return bool(np.isfinite(flat).all())


def all_finite(arrays) -> bool:
    """Whether every array of ``arrays`` is finite: one BLAS dot product with ones per array,
    summed as a Python float (a NaN or ±inf anywhere makes the sum non-finite), then the
    exact test of each array only if that sum is not finite (it may overflow on finite values)."""
    total = 0.0
    for arr in arrays:
        flat = arr.ravel(order="K")
        dt = flat.dtype
        if dt != np.float32 and dt != np.float64:
            if not np.isfinite(flat).all():
                return False
            continue
        total += _dot(flat, _ones(dt, flat.size))
    if total - total == 0.0:
        return True
    return all(finite(arr) for arr in arrays)


def verify_weights(model) -> None:
    """Raise Diverged if an update left a weight non-finite, naming the gradient or weight
    where the non-finite value first appeared (no-op when the last update was checked)."""
    if not model.__dict__.get("_unchecked_update"):
        return
    dense_layers = model._plan()[2]
    if _all_finite_packed(model._weight_lists[0]):
        model._unchecked_update = False
        return
    raise_gradient_divergence(model, model.step - 1)
    for number, dense in enumerate(dense_layers, start=1):
        if not finite(dense.kernel):
            raise Diverged(f"W({number})", number, model.step, model.epoch)
        if dense.bias is not None and not finite(dense.bias):
            raise Diverged(f"b({number})", number, model.step, model.epoch)


def _all_finite_packed(views) -> bool:
    """Whether the model's weight (or gradient) views are all finite: one test of the flat vector
    behind them (engine.packing.pack_weights), or one test per view if they tile none."""
    flat = views[0].base if views else None
    if flat is not None and flat.ndim == 1 and flat.size == sum(v.size for v in views):
        return finite(flat)
    return all(finite(v) for v in views)


def raise_gradient_divergence(model, step: int) -> None:
    """Raise Diverged for the first non-finite δ, ∂cost/∂W or ∂cost/∂b, output layer first
    (the order backward computes them)."""
    dense_layers = model._plan()[2]
    if _all_finite_packed(model._weight_lists[1]) and all_finite([d.delta for d in dense_layers
                                                                   if d.delta is not None]):
        return
    for number in range(len(dense_layers), 0, -1):
        dense = dense_layers[number - 1]
        if dense.delta is not None and not finite(dense.delta):
            raise Diverged(f"δ({number + 1})", number, step, model.epoch)
        if dense.d_kernel is not None and not finite(dense.d_kernel):
            raise Diverged(f"∂cost/∂W({number})", number, step, model.epoch)
        if dense.use_bias and dense.d_bias is not None and not finite(dense.d_bias):
            raise Diverged(f"∂cost/∂b({number})", number, step, model.epoch)


def raise_forward_divergence(model, entries) -> None:
    """A z or ŷ is non-finite: blame an unchecked update's gradients or weights if they are
    not finite, else the first non-finite z(l) or a(l) of this forward."""
    verify_weights(model)
    for entry in entries:
        check(model, entry.z, f"z({entry.index + 1})", entry.index)
        check(model, entry.a, f"a({entry.index + 1})", entry.index)
    raise Diverged("ŷ", len(entries), model.step, model.epoch)   # not reached: ŷ is the last a


def check(model, arr: np.ndarray, quantity: str, layer: int | None) -> None:
    """Raise Diverged if ``arr`` holds NaN or ±inf."""
    if arr is not None and not finite(arr):
        raise Diverged(quantity, layer, model.step, model.epoch)
