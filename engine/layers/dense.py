"""Dense: z = a·K + b (K = Wᵀ, shape (inputs, units)), a′ = f(z), with backward next to forward."""
from __future__ import annotations

import numpy as np

from .. import activations, initializers, regularizers
from .base import Layer


class Dense(Layer):
    """A fully connected layer: z = a·K + b (K = Wᵀ, shape (inputs, units)), a′ = f(z).

    Backward, given g = ∂loss/∂a′ per sample:  δ = g ⊙ f′(z) (softmax: its Jacobian),
    ∂cost/∂K = aᵀ·δ / batch (+ regulariser gradient), ∂cost/∂b = mean over rows of δ,
    and ∂loss/∂a = δ·Kᵀ = δ·W, which the layer below receives.
    """

    trainable = True

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)                                    # width of z and a
        self.activation = activations.get(activation)              # f
        self.use_bias = bool(use_bias)                             # whether b exists
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer) if kernel_regularizer else None
        self.bias_regularizer = regularizers.get(bias_regularizer) if bias_regularizer else None
        self._kernel = self._bias = None    # K (inputs, units) and b (units,): see the properties
        self.a_in = self.z = self.a = None  # a(l), z(l+1), a(l+1) of the last forward
        self.delta = None                   # δ(l+1) = ∂loss_i/∂z(l+1) of the last backward, one row per sample
        self.d_kernel = self.d_bias = None  # ∂cost/∂K and ∂cost/∂b of the last backward

    def build(self, input_dim, rng, dtype):
        kernel = self.kernel_initializer((input_dim, self.units), dtype=dtype, rng=rng)
        self._kernel = np.ascontiguousarray(kernel, dtype=dtype)
        if self.use_bias:
            self._bias = np.ascontiguousarray(self.bias_initializer((self.units,), dtype=dtype, rng=rng), dtype=dtype)
        self.input_dim = input_dim
        self.built = True
        return self.units

    # ----- the step: forward, then backward ------------------------------------------------
    def forward(self, a, training=False):
        """z = a·K + b, then a′ = f(z); keeps a, z and a′ for backward (and the trace)."""
        if a.shape[-1] != self._kernel.shape[0]:
            raise ValueError(f"Layer {self.name!r} expects inputs of shape (batch, {self._kernel.shape[0]}), "
                             f"got {tuple(a.shape)}")
        self.a_in = a
        self.z = a @ self.kernel + self.bias if self.use_bias else a @ self.kernel   # z = a·K + b
        self.a = self.activation.forward(self.z)                                       # a′ = f(z)
        return self.a

    def backward(self, g, need_input_grad=True, delta=None):
        """δ, ∂cost/∂K, ∂cost/∂b from g = ∂loss/∂a′ (or from δ itself: the fused δ(L) = ŷ − y);
        returns the gradient passed down, δ·Kᵀ (None when ``need_input_grad`` is False)."""
        if delta is None:
            delta = self.activation.backward(self.z, self.a, g)        # δ = g ⊙ f′(z)  (softmax: g·Jacobian)
        self.delta = delta
        delta_mean = delta / delta.shape[0]                            # δ / batch: the cost is the batch mean
        self.d_kernel = self.a_in.T @ delta_mean                       # ∂cost/∂K = aᵀ·δ / batch
        if self.kernel_regularizer is not None:
            self.d_kernel += self.kernel_regularizer.gradient(self.kernel)   # + ∂penalty/∂K
        if self.use_bias:
            self.d_bias = delta_mean.sum(axis=0)                       # ∂cost/∂b = mean of δ over rows
            if self.bias_regularizer is not None:
                self.d_bias += self.bias_regularizer.gradient(self.bias)     # + ∂penalty/∂b
        return delta @ self.kernel.T if need_input_grad else None      # g passed down = δ·Kᵀ

    # ----- the weights -----------------------------------------------------------------------
    @property
    def kernel(self) -> np.ndarray | None:
        """K = W(l)ᵀ, shape (inputs, units). Assigning copies the values into this array (its
        shape and dtype stay), so whatever holds it — the optimizer, engine.fast's packed vector —
        goes on training the new values."""
        return self._kernel

    @kernel.setter
    def kernel(self, value) -> None:
        self._kernel = self._assign("kernel", self._kernel, value)

    @property
    def bias(self) -> np.ndarray | None:
        """b(l), shape (units,), or None without a bias; assigning copies, as for ``kernel``."""
        return self._bias

    @bias.setter
    def bias(self, value) -> None:
        self._bias = self._assign("bias", self._bias, value)

    def _assign(self, name: str, current, value):
        """``value`` copied into ``current`` (shape checked), or ``value`` itself before the build."""
        if current is None:
            return value
        copy_into(current, value, self.name, name)
        return current

    def place(self, kernel: np.ndarray, bias: np.ndarray | None = None) -> None:
        """Keep K (and b) in the given arrays from now on (same shapes and dtype; the current values
        are copied in): engine.fast puts every layer's weights into one flat vector this way."""
        kernel[...] = self._kernel
        self._kernel = kernel
        if self.use_bias:
            bias[...] = self._bias
            self._bias = bias

    @property
    def W(self) -> np.ndarray:
        """The lecture's W(l), shape (units, inputs): a view of the kernel, no copy."""
        return self._kernel.T

    @property
    def dW(self) -> np.ndarray | None:
        """∂cost/∂W(l) = δ(l+1)ᵀ·a(l) / batch, shape (units, inputs): a view, no copy."""
        return None if self.d_kernel is None else self.d_kernel.T

    def params(self) -> list[np.ndarray]:
        return [self._kernel, self._bias] if self.use_bias else [self._kernel]

    def grads(self) -> list[np.ndarray]:
        return [self.d_kernel, self.d_bias] if self.use_bias else [self.d_kernel]

    def penalty(self) -> float:
        """The regularisers' contribution to the cost, e.g. λ·Σ K²."""
        total = 0.0
        if self.kernel_regularizer is not None:
            total += float(self.kernel_regularizer(self.kernel))
        if self.bias_regularizer is not None and self.use_bias:
            total += float(self.bias_regularizer(self.bias))
        return total

    def get_config(self):
        return {
            "name": self.name, "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "input_dim": self.input_dim,
        }


def copy_into(target: np.ndarray, value, layer: str, what: str) -> None:
    """Write ``value`` into ``target`` in place (``target``'s dtype, exactly its shape), or raise a
    ValueError naming the layer and the array (``what``: "kernel", "bias", "weight")."""
    try:
        value = np.asarray(value, dtype=target.dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Layer {layer!r}: {what} of shape {target.shape} expected, got {exc}") from None
    if value.shape != target.shape:
        raise ValueError(f"Layer {layer!r}: {what} shape {value.shape} does not match {target.shape}")
    target[...] = value
