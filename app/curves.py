"""Bounded curves: a run's batch losses kept to at most ``max_points`` values, every ``stride``-th
step (stride 1, 2, 4, ...: when the curve outgrows the limit, every other point is dropped and the
stride doubles). Step k of the run is kept when k % stride == 0, so the same run thins the same way
whether its losses arrive a few at a time or all at once."""
from __future__ import annotations


def stride_for(n: int, max_points: int) -> int:
    """The smallest power of 2 that keeps ``n`` steps within ``max_points`` points."""
    stride = 1
    while -(-n // stride) > max_points:
        stride *= 2
    return stride


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
