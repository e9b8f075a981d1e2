"""Bounded curves: a run's batch losses kept to at most ``max_points`` values, every ``stride``-th
step (stride 1, 2, 4, ...: when the curve outgrows the limit, every other point is dropped and the
stride doubles). Step k of the run is kept when k % stride == 0, so the same run thins the same way
whether its losses arrive a few at a time or all at once."""
from __future__ import annotations

import numpy as np

from .tensors import sanitize


def stride_for(n: int, max_points: int) -> int:
    """The smallest power of 2 that keeps ``n`` steps within ``max_points`` points."""
    stride = 1
    while -(-n // stride) > max_points:
        stride *= 2
    return stride


def kept(n: int, max_points: int | None) -> tuple[list[int] | None, int]:
    """(the indices of n values kept within ``max_points``, stride): value i is step i + 1's, kept
    when (i + 1) % stride == 0, and the newest always (the curve ends where training is); (None, 1)
    when all n fit."""
    if not max_points or n <= max_points:
        return None, 1
    stride = stride_for(n, max_points - 1)
    out = list(range(stride - 1, n, stride))
    if out[-1] != n - 1:
        out.append(n - 1)
    return out, stride


def thin(values: list, max_points: int) -> tuple[list, int]:
    """(every stride-th value, stride) for a whole curve."""
    stride = stride_for(len(values), max_points)
    return list(values[::stride]), stride


def extend(run: dict, values: list, max_points: int) -> None:
    """Add the next batch losses to ``run``'s curve (its "steps" seen so far and "batch_loss_stride")."""
    curve, stride, step = run["history"]["batch_loss"], run["batch_loss_stride"], run["steps"]
    for value in values:
        if step % stride == 0:
            curve.append(value)
        step += 1
        if len(curve) > max_points:
            curve[:] = curve[::2]
            stride *= 2
    run["steps"], run["batch_loss_stride"] = step, stride


def finite_list(values) -> list:
    """A copy of a list of numbers as Python floats, every non-finite one as None (JSON has no NaN);
    one NumPy pass instead of a Python call per number (a 200-run sweep holds 400 000 of them)."""
    array = np.asarray(values, dtype=float)
    finite = np.isfinite(array)
    if finite.all():
        return array.tolist()
    return [v if ok else None for v, ok in zip(array.tolist(), finite.tolist())]


def public_run(run: dict, points: int | None = None) -> dict:
    """A copy of a run's entry for an answer: its curves as ``finite_list``s, the batch losses thinned
    further to at most ``points`` (its ``batch_loss_stride`` multiplied to match)."""
    small = {k: v for k, v in run.items() if k not in ("history", "boundary")}
    out = sanitize(small)
    history = {k: finite_list(v) if isinstance(v, list) else sanitize(v) for k, v in run["history"].items()}
    if points is not None and "batch_loss" in history:
        history["batch_loss"], stride = thin(history["batch_loss"], points)
        out["batch_loss_stride"] = stride * run.get("batch_loss_stride", 1)
    out["history"] = history
    if run.get("boundary") is not None:
        out["boundary"] = {**run["boundary"], "cells": list(run["boundary"]["cells"])}
    elif "boundary" in run:
        out["boundary"] = None
    return out
