"""Errors the engine raises on purpose, so callers (the server) can map them to answers."""
from __future__ import annotations


class ConfigError(ValueError):
    """A setting that does not fit, naming the parameter it concerns, so a caller (the server) can
    point at the field without reading the message: ``param`` is a path into a build config, e.g.
    ("loss",), ("optimizer", "momentum"), ("layers", -1, "units") (−1: the output layer)."""

    def __init__(self, message: str, param: tuple):
        super().__init__(message)
        self.param = tuple(param)


class StepOrderError(RuntimeError):
    """forward → backward → apply_gradients was called out of order (e.g. backward first)."""


class Diverged(ArithmeticError):
    """A non-finite value appeared; says where it first did.

    Attributes: ``epoch`` (0-based, or None outside fit), ``step`` (weight updates applied
    when the quantity was computed: a gradient of the update after step s says s, the weights
    that update made say s + 1), ``layer`` (lecture index l of W(l), or None for the loss), ``quantity``
    (``"z(3)"``, ``"a(3)"``, ``"δ(3)"``, ``"dW(2)"``, ``"W(2)"``, ``"loss"`` ...).
    """

    def __init__(self, quantity: str, layer: int | None, step: int, epoch: int | None = None):
        self.quantity, self.layer, self.step, self.epoch = quantity, layer, step, epoch
        where = f"epoch {epoch}, " if epoch is not None else ""
        super().__init__(
            f"Training diverged: {quantity} became non-finite (NaN or inf) at {where}step {step}"
            + (f", layer {layer}" if layer is not None else "")
            + ". Try a lower learning rate."
        )

    def to_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "layer": self.layer, "quantity": self.quantity}
