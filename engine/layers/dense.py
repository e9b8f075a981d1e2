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
        self._bound = False                 # whether K and b are views of a model's flat vector
        self._bound_grads = None            # where ∂cost/∂K and ∂cost/∂b go once bound
        self._fwd_bufs = None               # the work arrays of the last forward's batch
        self.d_kernel = self.d_bias = None  # ∂cost/∂K and ∂cost/∂b of the last backward
        self.a_in = self.z = self.a = None  # what the last forward saw and made
        self.delta = None                   # δ = ∂loss_i/∂z, one row per sample
        self._bufs: dict[int, dict] = {}    # batch size → work arrays (see _buffers)

    def build(self, input_dim, rng, dtype):
        kernel = self.kernel_initializer((input_dim, self.units), dtype=dtype, rng=rng)
        self.kernel = np.ascontiguousarray(kernel, dtype=dtype)
        if self.use_bias:
            self.bias = np.ascontiguousarray(self.bias_initializer((self.units,), dtype=dtype, rng=rng), dtype=dtype)
        self.input_dim = input_dim
        self.built = True
        return self.units

    @property
    def kernel(self) -> np.ndarray | None:
        """K = W(l)ᵀ, shape (inputs, units). Assigning copies the values into the array the model
        trains (a view of its flat weight vector), so ``layer.kernel = K`` keeps training it."""
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
        """``value`` copied into ``current`` when bound to the model's vector, else ``value`` itself."""
        if not self._bound or current is None:
            return value
        copy_into(current, value, self.name, name)
        return current

    @property
    def W(self) -> np.ndarray:
        """The lecture's W(l), shape (units, inputs): a view of the kernel, no copy."""
        return self._kernel.T

    @property
    def dW(self) -> np.ndarray | None:
        """∂cost/∂W(l) = δ(l+1)ᵀ·a(l) / batch, shape (units, inputs): a view, no copy."""
        return None if self.d_kernel is None else self.d_kernel.T

    def bind(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Keep K (and b) in the arrays ``params`` from now on and write ∂cost/∂K (and ∂cost/∂b)
        into ``grads``: views of the model's flat vectors (engine.packing), same shapes and dtype.
        The current weights (and gradients, if computed) are copied in first."""
        for old, new in zip(self.params(), params):
            new[...] = old
        if self.d_kernel is not None:
            for old, new in zip(self.grads(), grads):
                new[...] = old
            self.d_kernel, self.d_bias = grads[0], grads[1] if self.use_bias else None
        self._kernel, self._bias = params[0], params[1] if self.use_bias else None
        self._bound, self._bound_grads = True, grads

    def _grad_arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Where ∂cost/∂K and ∂cost/∂b go: the bound views, or new arrays."""
        bound = self._bound_grads
        if bound is not None and bound[0].shape == self.kernel.shape and bound[0].dtype == self.kernel.dtype:
            return bound[0], bound[1] if self.use_bias else None
        return np.empty_like(self.kernel), np.empty_like(self.bias) if self.use_bias else None

    def params(self) -> list[np.ndarray]:
        return [self._kernel, self._bias] if self.use_bias else [self._kernel]

    def grads(self) -> list[np.ndarray]:
        return [self.d_kernel, self.d_bias] if self.use_bias else [self.d_kernel]

    def forward(self, x, training=False):
        if x.shape[-1] != self._kernel.shape[0]:
            raise ValueError(
                f"Layer {self.name!r} expects inputs of shape (batch, {self._kernel.shape[0]}), "
                f"got {tuple(x.shape)}"
            )
        self.a_in = x
        bufs = self._fwd_bufs = self._buffers(x)      # backward uses the same work arrays
        if bufs is None:                       # an unusual input (not 2-D, another dtype): plain arrays
            z = x @ self._kernel
            if self.use_bias:
                z += self._bias
            self.z = z
            self.a = self.activation.forward(z)
            return self.a
        z = np.matmul(x, self._kernel, out=bufs["z"])
        if self.use_bias:
            z += self._bias
        self.z = z
        act = self.activation
        self.a = act.forward(z, out=bufs["a"]) if act.supports_out else act.forward(z)
        return self.a

    def _buffers(self, x):
        """This layer's work arrays for batches of ``x.shape[0]`` rows (made once, then reused).

        z, a, δ, δ/batch and ∂loss/∂input are written into them at every step, so the arrays a
        trace references hold the newest step's numbers (see engine.trace). None for inputs that
        are not 2-D rows of the kernel's dtype, which take the allocating path.
        """
        if x.ndim != 2 or x.dtype != self._kernel.dtype:
            return None
        n = x.shape[0]
        cache = self._bufs
        bufs = cache.get(n)
        if bufs is None:
            if len(cache) >= 4:                # batch sizes come and go (partial last batches): keep a few
                cache.clear()
            bufs = cache[n] = self.make_buffers(n, x.shape[1])
        return bufs

    def make_buffers(self, n: int, inputs: int, z=None, a=None) -> dict[str, np.ndarray]:
        """Work arrays for batches of ``n`` rows; ``z``/``a`` given (views of a model's block) are used."""
        shape, dt = (n, self.units), self._kernel.dtype
        return {"z": np.empty(shape, dt) if z is None else z, "a": np.empty(shape, dt) if a is None else a,
                "delta": np.empty(shape, dt), "delta_mean": np.empty(shape, dt), "grad_in": np.empty((n, inputs), dt),
                "inv_n": dt.type(1.0 / n)}

    def use_buffers(self, n: int, inputs: int, z: np.ndarray, a: np.ndarray | None = None) -> None:
        """Write z (and a) of batches of ``n`` rows into the given arrays (a model's block) from now on."""
        self._bufs[n] = self.make_buffers(n, inputs, z=z, a=a)

    def forget_buffers(self) -> None:
        """Drop the work arrays of every batch size (they are made again when needed)."""
        self._bufs.clear()

    def backward(self, grad, need_input_grad=True, delta=None, grad_scale=None):
        """Chain rule through f and the product; ``delta`` given directly skips f (fused loss).

        ∂cost/∂K = a_inᵀ·(δ/batch) and ∂cost/∂b = Σ_rows δ/batch, as Keras' autodiff of the
        batch-mean cost computes them (the 1/batch enters before the products). With
        ``grad_scale`` r the two come out as r·∂cost/∂K and r·∂cost/∂b (δ/batch is scaled by r
        first): fit passes plain SGD's learning rate, so the update is one subtraction.
        """
        bufs = self._fwd_bufs
        act = self.activation
        if delta is not None:
            self.delta = delta
        elif bufs is not None and act.supports_out:
            self.delta = act.backward(self.z, self.a, grad, out=bufs["delta"])
        else:
            self.delta = act.backward(self.z, self.a, grad)
        delta = self.delta
        dt = self._kernel.dtype
        if bufs is not None and delta.dtype == dt:
            factor = bufs["inv_n"] if grad_scale is None else dt.type(grad_scale / delta.shape[0])
            scaled = np.multiply(delta, factor, out=bufs["delta_mean"])
        else:
            scaled = np.multiply(delta, dt.type((1.0 if grad_scale is None else grad_scale) / delta.shape[0]))
        if self.d_kernel is None:                   # the kernel's shape and dtype never change
            self.d_kernel, self.d_bias = self._grad_arrays()
        if scaled.dtype == dt:
            np.matmul(self.a_in.T, scaled, out=self.d_kernel)
        else:
            self.d_kernel[...] = self.a_in.T @ scaled
        if self.kernel_regularizer is not None:
            penalty = self.kernel_regularizer.gradient(self._kernel)
            self.d_kernel += penalty if grad_scale is None else penalty * grad_scale
        if self.use_bias:
            np.add.reduce(scaled, axis=0, dtype=dt, out=self.d_bias)
            if self.bias_regularizer is not None:
                penalty = self.bias_regularizer.gradient(self._bias)
                self.d_bias += penalty if grad_scale is None else penalty * grad_scale
        if not need_input_grad:
            return None
        if bufs is not None and delta.dtype == dt:
            return np.matmul(delta, self._kernel.T, out=bufs["grad_in"])
        return delta @ self._kernel.T

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
