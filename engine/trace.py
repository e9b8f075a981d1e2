"""The forward/backward trace: every number of one training step, in the lecture's notation.

Layer 1 is the input. Entry ``index = l`` of ``Trace.layers`` belongs to the Dense layer that
holds W(l) and b(l) and makes layer l+1: z(l+1) = W(l)·a(l) + b(l), a(l+1) = f(z(l+1)),
δ(l+1) = ∂loss/∂z(l+1), ∂cost/∂W(l) = δ(l+1)ᵀ·a(l) / batch. Batches are rows, so each
array of activations has shape (batch, units). The trace holds references to the arrays
the model computed (no copies on the hot path); W and b are the live weights, which
``apply_gradients`` changes in place, so copy them before an update if you need the old ones.

Only the newest step's trace is current. engine.fast's FastStep (fit, the server, comparison runs)
writes z, a, δ, ∂cost/∂W and ∂cost/∂b into work arrays it reuses from step to step (one set per
batch size), so the arrays of an older trace change when the next forward/backward runs: serialize
or copy what you need from a trace before the model takes its next step (the server sends each
step's frame before stepping again). engine.step's ReferenceStep makes new arrays at every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class Phase(str, Enum):
    """Where a model is in its cycle: READY → FORWARD → BACKWARD → READY; a trace ends UPDATED.

    A str, so ``model.phase == "ready"`` holds, and it prints (and goes into JSON) as "ready"."""

    READY = "ready"
    FORWARD = "forward"
    BACKWARD = "backward"
    UPDATED = "updated"      # a trace's phase once its update is applied (the model is READY again)

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


@dataclass
class LayerTrace:
    """One Dense layer's share of a step; ``index`` l ⇒ W(l), b(l), z(l+1), a(l+1), δ(l+1)."""

    index: int                          # l, the lecture's layer number of this layer's input
    name: str                           # the Dense layer's name ("dense_1" ...)
    activation: str                     # the name of f
    W: np.ndarray                       # W(l), shape (units, inputs) — a live view of the kernel
    b: np.ndarray | None                # b(l), shape (units,), or None without a bias
    a_in: np.ndarray | None = None      # a(l), shape (batch, inputs)
    z: np.ndarray | None = None         # z(l+1) = a(l)·W(l)ᵀ + b(l), shape (batch, units)
    a: np.ndarray | None = None         # a(l+1) = f(z(l+1)) (after dropout, if any)
    mask: np.ndarray | None = None      # the dropout mask applied to f(z(l+1)), if any
    delta: np.ndarray | None = None     # δ(l+1) = ∂loss_i/∂z(l+1), one row per sample
    dW: np.ndarray | None = None        # ∂cost/∂W(l), shape (units, inputs), batch mean
    db: np.ndarray | None = None        # ∂cost/∂b(l), shape (units,), batch mean
    dW_applied: np.ndarray | None = None  # ΔW(l) = W after − W before the optimizer's update
    db_applied: np.ndarray | None = None  # Δb(l)
    slots: dict = field(default_factory=dict)  # optimizer state for W and b (velocity, m, v ...)

    @classmethod
    def start(cls, index: int, dense, a_in: np.ndarray) -> "LayerTrace":
        """The entry of Dense layer ``index`` = l before its forward: W(l), b(l) and a(l)."""
        return cls(index, dense.name, dense.activation.name, dense.W, dense.bias, a_in)

    def note(self, layer) -> None:
        """Record a layer that follows the Dense one: a Dropout's mask, an Activation's f (g∘f)."""
        from .layers import Activation, Dropout
        if isinstance(layer, Dropout):
            self.mask = layer.mask                  # None at inference
        elif isinstance(layer, Activation):
            outer = layer.activation.name
            if outer != "linear":                   # linear∘f = f: an identity Activation changes nothing
                self.activation = outer if self.activation == "linear" else f"{outer}∘{self.activation}"

    def label(self, quantity: str) -> str:
        """The lecture's label of a quantity of this entry: "W(1)", "z(2)", "δ(2)" ..."""
        shifted = {"z", "a", "delta", "mask"}
        symbol = {"delta": "δ", "dW": "∂cost/∂W", "db": "∂cost/∂b", "dW_applied": "ΔW",
                  "db_applied": "Δb", "a_in": "a"}.get(quantity, quantity)
        number = self.index + 1 if quantity in shifted else self.index
        return f"{symbol}({number})"


@dataclass
class Trace:
    """Everything one forward (and then backward and update) produced for one batch."""

    x: np.ndarray                          # a(1), the batch's inputs, one row per sample
    layers: list[LayerTrace]               # one entry per Dense layer, input to output
    y: np.ndarray | None = None            # targets (one-hot rows for classification)
    y_pred: np.ndarray | None = None       # ŷ = a(L)
    loss: float | None = None              # the batch's mean loss (+ regularisation penalty)
    per_sample_loss: np.ndarray | None = None  # loss_i for each row
    training: bool = True                  # whether dropout was active
    phase: Phase = Phase.FORWARD           # FORWARD → BACKWARD → UPDATED
    step: int = 0                          # weight updates applied before this forward
    learning_rate: float | None = None     # the rate of the update, once applied

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    def fill_updates(self, dense_layers, deltas: list[np.ndarray], slots: dict[str, list[np.ndarray]]) -> None:
        """ΔW(l), Δb(l) (``deltas``, in get_weights() order) and the optimizer's slots per entry,
        in the lecture's layout (W's shape: the kernel-shaped arrays transposed, no copies)."""
        position = 0
        for entry, dense in zip(self.layers, dense_layers):
            entry.dW_applied = deltas[position].T
            entry.slots = {name: values[position].T for name, values in slots.items() if len(values) > position}
            if dense.use_bias:
                entry.db_applied = deltas[position + 1]
            position += len(dense.params())
