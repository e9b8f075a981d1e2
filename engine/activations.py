"""Activation functions f, each with its derivative written next to it (micrograd style).

Every activation maps z → a = f(z) row by row (rows are samples) and knows how to send a
gradient back: ``backward(z, a, grad_a)`` returns ∂loss/∂z given ∂loss/∂a. For the
element-wise ones that is ``grad_a ⊙ f′(z)``; softmax multiplies by its full Jacobian.

Speed: the built-in activations set ``supports_out = True`` and accept ``out=`` (a preallocated
array of z's shape) in ``forward`` and ``backward``, so a Dense layer can reuse its buffers from
step to step instead of allocating new arrays; the results are bit-for-bit those without ``out``.
An activation written elsewhere need not: Dense calls it without ``out`` then.
"""
from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from .registry import Registry


class Activation:
    """Base class: ``forward`` is f, ``derivative`` is f′ (element-wise), ``backward`` the chain rule."""

    name = "activation"
    elementwise = True          # False only for softmax, whose Jacobian is not diagonal
    supports_out = False        # True: forward/backward accept out= (a buffer of z's shape)

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """f′(z), element by element (softmax: the Jacobian's diagonal a(1 − a))."""
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out=None) -> np.ndarray:
        """∂loss/∂z = ∂loss/∂a ⊙ f′(z) (into ``out`` when given)."""
        d = self.derivative(z, a)
        if out is None:
            d *= grad_a
            return d
        return np.multiply(d, grad_a, out=out)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)

    def get_config(self) -> dict:
        return {}

    def __repr__(self):
        return f"{type(self).__name__}()"


registry = Registry("activation", base=Activation)

# Inside ``overflow_ignored()``: the error state outside it (NumPy already ignores overflow there,
# so Sigmoid need not set np.errstate itself: entering and leaving it costs about 2 µs, per layer
# and step); None elsewhere.
_OVERFLOW_IGNORED = contextvars.ContextVar("overflow_ignored", default=None)


@contextlib.contextmanager
def overflow_ignored():
    """Ignore floating-point overflow and invalid values (np.errstate(over="ignore",
    invalid="ignore")) for a whole training loop: sigmoid's e^(−z) overflows to inf for very
    negative z, which gives the right a = 0, and a step that does overflow (or makes inf − inf)
    is reported by ``Diverged`` naming where, not by NumPy's warnings. Code of the user's that the
    loop calls (callbacks) runs in ``overflow_as_outside()``."""
    token = _OVERFLOW_IGNORED.set(np.geterr())
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            yield
    finally:
        _OVERFLOW_IGNORED.reset(token)


def overflow_is_ignored() -> bool:
    """Whether this code runs inside ``overflow_ignored()`` (NumPy ignores overflow already)."""
    return _OVERFLOW_IGNORED.get() is not None


@contextlib.contextmanager
def overflow_as_outside():
    """Inside ``overflow_ignored()``: the error state of its caller again (and Sigmoid's own guard),
    for user code such as a callback; elsewhere it changes nothing."""
    outer = _OVERFLOW_IGNORED.get()
    if outer is None:
        yield
        return
    token = _OVERFLOW_IGNORED.set(None)
    try:
        with np.errstate(**outer):
            yield
    finally:
        _OVERFLOW_IGNORED.reset(token)


@registry.register("linear", "identity")
class Linear(Activation):
    """f(z) = z;  f′(z) = 1."""

    name = "linear"
    supports_out = True

    def forward(self, z, out=None):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)

    def backward(self, z, a, grad_a, out=None):
        return grad_a


@registry.register("sigmoid")
class Sigmoid(Activation):
    """f(z) = 1 / (1 + e^(−z));  f′(z) = a(1 − a).

    For z → −∞, e^(−z) overflows to inf and 1/inf = 0 (the overflow warning is silenced), for
    z → +∞, e^(−z) = 0 and a = 1; no NaN for any non-NaN z. Cheaper than ½ + ½·tanh(z/2) and
    accurate in relative terms for very negative z, where that form cancels to 0.
    """

    name = "sigmoid"
    supports_out = True

    def forward(self, z, out=None):
        if out is None:
            z = np.asarray(z)
            if z.dtype.kind != "f":
                z = z.astype(np.float64)
        if _OVERFLOW_IGNORED.get() is not None:  # inside a training loop that ignores overflow
            return self._forward(z, out)
        with np.errstate(over="ignore"):
            return self._forward(z, out)

    @staticmethod
    def _forward(z, out):
        a = np.negative(z, out=out)
        np.exp(a, out=a)
        a += 1.0
        return np.reciprocal(a, out=a)

    def derivative(self, z, a, out=None):
        d = np.subtract(1.0, a, dtype=a.dtype, out=out)
        d *= a
        return d

    def backward(self, z, a, grad_a, out=None):
        d = self.derivative(z, a, out)
        d *= grad_a
        return d


@registry.register("tanh")
class Tanh(Activation):
    """f(z) = tanh z;  f′(z) = 1 − a²."""

    name = "tanh"
    supports_out = True

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        d = np.square(a, out=out)
        np.subtract(1.0, d, out=d)
        return d

    def backward(self, z, a, grad_a, out=None):
        d = self.derivative(z, a, out)
        d *= grad_a
        return d


@registry.register("relu")
class ReLU(Activation):
    """f(z) = max(0, z);  f′(z) = 1 if z > 0 else 0."""

    name = "relu"
    supports_out = True

    def forward(self, z, out=None):
        return np.maximum(z, 0.0, out=out)          # (z's dtype: 0.0 is a weak scalar)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, z > 0, dtype=grad_a.dtype, out=out)


@registry.register("leaky_relu", "LeakyReLU")
class LeakyReLU(Activation):
    """f(z) = z if z > 0 else α·z (Keras 3: α = negative_slope = 0.2);  f′(z) = 1 or α."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        self.negative_slope = float(negative_slope)   # α, the slope for z ≤ 0

    def forward(self, z):
        return np.where(z > 0, z, z * self.negative_slope).astype(z.dtype, copy=False)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


@registry.register("elu")
class ELU(Activation):
    """f(z) = z if z > 0 else α(e^z − 1) (α = 1);  f′(z) = 1 if z > 0 else a + α."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)   # α, the value f approaches as z → −∞ is −α

    def forward(self, z):
        neg = np.expm1(np.minimum(z, 0.0)) * self.alpha
        return np.where(z > 0, z, neg).astype(z.dtype, copy=False)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, a + self.alpha).astype(z.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


@registry.register("softplus")
class Softplus(Activation):
    """f(z) = log(1 + e^z), computed as logaddexp(0, z);  f′(z) = sigmoid(z)."""

    name = "softplus"

    def forward(self, z):
        return np.logaddexp(0.0, z).astype(z.dtype, copy=False)

    def derivative(self, z, a):
        return Sigmoid().forward(z)


@registry.register("softmax")
class Softmax(Activation):
    """f(z)_k = e^(z_k − max z) / Σ_j e^(z_j − max z) over each row (stable for any finite z).

    Its Jacobian is ∂a_k/∂z_j = a_k(δ_kj − a_j), so backward gives
    ∂loss/∂z = a ⊙ (g − Σ_j g_j a_j) for g = ∂loss/∂a.
    """

    name = "softmax"
    elementwise = False
    supports_out = True

    def forward(self, z, out=None):
        e = np.subtract(z, np.maximum.reduce(z, axis=-1, keepdims=True), out=out)
        np.exp(e, out=e)
        e /= np.add.reduce(e, axis=-1, keepdims=True)
        return e

    def derivative(self, z, a):
        return Sigmoid.derivative(self, z, a)   # the Jacobian's diagonal, a(1 − a)

    def backward(self, z, a, grad_a, out=None):
        dot = np.einsum("ij,ij->i", grad_a, a)[:, None]
        out = np.subtract(grad_a, dot, out=out)
        out *= a
        return out


def get(identifier=None, **overrides) -> Activation:
    """An activation from a name (``"relu"``), a dict, an instance, or None (linear)."""
    if identifier is None:
        return Linear()
    return registry.get(identifier, **overrides)


def serialize(activation: Activation):
    """The name (plus config when it has one) that ``get`` turns back into ``activation``."""
    config = activation.get_config()
    return {"name": activation.name, **config} if config else activation.name


def names() -> list[str]:
    """Canonical activation names."""
    return registry.names()
