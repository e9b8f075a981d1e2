"""Work arrays: what FastStep writes z, a, δ, δ/batch and the gradient passed down into.

A Dense layer's step makes five arrays of batch × units (or batch × inputs) numbers. The
reference step allocates them afresh; FastStep keeps one set per batch size (a few sizes: the
last batch of an epoch is often smaller) and writes into them with ``out=``, with the same
numbers. The arrays of an older trace therefore change at the next step (see engine/trace.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LayerBuffers:
    """One Dense layer's work arrays for batches of ``n`` rows."""

    z: np.ndarray             # z(l+1), (n, units)
    a: np.ndarray             # a(l+1) = f(z(l+1)), (n, units)
    delta: np.ndarray         # δ(l+1), (n, units)
    delta_mean: np.ndarray    # δ(l+1) / batch (× η when the learning rate is folded in), (n, units)
    grad_in: np.ndarray       # δ(l+1)·K(l)ᵀ, passed to the layer below, (n, inputs)

    @classmethod
    def make(cls, n: int, dense) -> "LayerBuffers":
        inputs, units = dense.kernel.shape
        dt = dense.kernel.dtype
        return cls(*(np.empty((n, units), dt) for _ in range(4)), np.empty((n, inputs), dt))


class WorkArrays:
    """LayerBuffers of every Dense layer, for the last few batch sizes seen."""

    KEEP = 4                  # batch sizes kept (partial last batches come and go)

    def __init__(self, dense_layers):
        self.dense_layers = dense_layers
        self.by_size: dict[int, list[LayerBuffers]] = {}

    def get(self, n: int) -> list[LayerBuffers]:
        """The work arrays for batches of ``n`` rows, one LayerBuffers per Dense layer."""
        bufs = self.by_size.get(n)
        if bufs is None:
            if len(self.by_size) >= self.KEEP:
                self.by_size.clear()
            bufs = self.by_size[n] = [LayerBuffers.make(n, dense) for dense in self.dense_layers]
        return bufs
