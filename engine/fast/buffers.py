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


@dataclass
class BatchBuffers:
    """Every Dense layer's work arrays for batches of ``n`` rows. The z of every layer and the
    output layer's a are views of one vector, ``block``: the forward's finiteness test of all of
    them is one sum (divergence.block_finite; one test instead of one per array saves about 10 µs a step)."""

    layers: list[LayerBuffers]
    block: np.ndarray

    @classmethod
    def make(cls, n: int, dense_layers) -> "BatchBuffers":
        dt = dense_layers[0].kernel.dtype
        units = [dense.units for dense in dense_layers]
        block = np.zeros(n * (sum(units) + units[-1]), dt)    # (an a that f never writes stays 0)
        views = [block[n * start:n * (start + u)].reshape(n, u)
                 for start, u in zip(np.cumsum([0, *units]), [*units, units[-1]])]
        layers = [LayerBuffers(z, views[-1] if dense is dense_layers[-1] else np.empty_like(z), np.empty_like(z),
                               np.empty_like(z), np.empty((n, dense.kernel.shape[0]), dt))
                  for dense, z in zip(dense_layers, views)]
        return cls(layers, block)


class WorkArrays:
    """BatchBuffers for the last few batch sizes seen."""

    KEEP = 4                  # batch sizes kept (partial last batches come and go)

    def __init__(self, dense_layers):
        self.dense_layers = dense_layers
        self.by_size: dict[int, BatchBuffers] = {}

    def get(self, n: int) -> BatchBuffers:
        """The work arrays for batches of ``n`` rows."""
        bufs = self.by_size.get(n)
        if bufs is None:
            if len(self.by_size) >= self.KEEP:
                self.by_size.clear()
            bufs = self.by_size[n] = BatchBuffers.make(n, self.dense_layers)
        return bufs
