"""Keras 3 weight initializers in NumPy: constants, random distributions and variance scaling.

Every initializer is called as ``init(shape, dtype=None, rng=None)``: a Dense kernel has
shape (fan_in, fan_out), a bias (units,). Random draws come only from ``rng`` (a
``np.random.Generator``); without one, from ``np.random.default_rng(seed)``.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import floatx
from .registry import Registry

_TRUNCATED_STD = 0.87962566103423978   # std of a standard normal truncated to [-2, 2]


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras: () → (1, 1); (n,) → (n, n); (a, b) → (a, b);
    kernels (..., in, out) → (in·r, out·r) with r the product of the leading dimensions."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal(mean, stddev²) draws, each one beyond 2·stddev of the mean redrawn until inside."""
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2.0
    while bad.any():
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2.0
    return mean + stddev * x


class Initializer:
    """Base class: ``__call__(shape, dtype=None, rng=None)`` returns a new array of ``shape``."""

    def __call__(self, shape, dtype=None, rng=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this initializer."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """A new initializer from ``get_config()``'s output."""
        return cls(**config)

    def describe(self, shape=None) -> str:
        """The class docstring's first line: what the values are."""
        return (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


registry = Registry("initializer", base=Initializer)


@registry.register("zeros", "zero", "Zeros")
class Zeros(Initializer):
    """All zeros: w = 0."""

    def __call__(self, shape, dtype=None, rng=None):
        return np.zeros(shape, dtype=dtype or floatx())


@registry.register("ones", "one", "Ones")
class Ones(Initializer):
    """All ones: w = 1."""

    def __call__(self, shape, dtype=None, rng=None):
        return np.ones(shape, dtype=dtype or floatx())


@registry.register("constant", "Constant")
class Constant(Initializer):
    """Every value equal to a scalar: w = value."""

    def __init__(self, value=0.0):
        self.value = float(value)   # the scalar every entry gets

    def __call__(self, shape, dtype=None, rng=None):
        return np.full(shape, self.value, dtype=dtype or floatx())

    def get_config(self):
        return {"value": self.value}


class RandomInitializer(Initializer):
    """Base of the random initializers: draws from ``rng``, else from default_rng(seed)."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)   # used only when no rng is passed

    def _rng(self, rng) -> np.random.Generator:
        return rng if rng is not None else np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


@registry.register("random_uniform", "uniform", "RandomUniform")
class RandomUniform(RandomInitializer):
    """Uniform on [minval, maxval): w ~ U(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = float(minval)   # lower bound
        self.maxval = float(maxval)   # upper bound

    def __call__(self, shape, dtype=None, rng=None):
        return self._rng(rng).uniform(self.minval, self.maxval, size=shape).astype(dtype or floatx())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@registry.register("random_normal", "normal", "RandomNormal")
class RandomNormal(RandomInitializer):
    """Normal: w ~ N(mean, stddev²)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = float(mean)       # centre of the distribution
        self.stddev = float(stddev)   # standard deviation

    def __call__(self, shape, dtype=None, rng=None):
        return self._rng(rng).normal(self.mean, self.stddev, size=shape).astype(dtype or floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@registry.register("truncated_normal", "TruncatedNormal")
class TruncatedNormal(RandomNormal):
    """Truncated normal: w ~ N(mean, stddev²), values beyond mean ± 2·stddev redrawn."""

    def __call__(self, shape, dtype=None, rng=None):
        w = _truncated_normal(self._rng(rng), shape, self.mean, self.stddev)
        return w.astype(dtype or floatx())


@registry.register("variance_scaling", "VarianceScaling")
class VarianceScaling(RandomInitializer):
    """Variance scaling: Var(w) = scale / n, n = fan_in, fan_out or (fan_in + fan_out)/2 (≥ 1).

    distribution="uniform":             w ~ U(−limit, limit), limit = √(3·scale/n)
    distribution="truncated_normal":    N(0, σ²) cut at ±2σ, σ = √(scale/n) / 0.87962566103423978
                                        (the divisor restores the variance the cut removes)
    distribution="untruncated_normal":  N(0, scale/n)
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale < math.inf:
            raise ValueError(f"scale must be a positive float, got {scale!r}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid mode {mode!r}; use one of {', '.join(self._MODES)}")
        distribution = str(distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid distribution {distribution!r}; "
                             f"use one of {', '.join(self._DISTRIBUTIONS)}")
        self.scale = float(scale)           # target variance times n
        self.mode = mode                    # which fan n is
        self.distribution = distribution    # uniform, truncated_normal or untruncated_normal

    def variance(self, shape) -> float:
        """The target variance scale / n for a weight of ``shape``."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape, dtype=None, rng=None):
        rng, var = self._rng(rng), self.variance(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            w = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            w = _truncated_normal(rng, shape, 0.0, math.sqrt(var) / _TRUNCATED_STD)
        else:
            w = rng.normal(0.0, math.sqrt(var), size=shape)
        return w.astype(dtype or floatx())

    def _formula(self) -> str:
        """The distribution with its scale formula, e.g. "U(−limit, limit), limit = √(3·1/fan_in)"."""
        n = {"fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "((fan_in+fan_out)/2)"}[self.mode]
        if self.distribution == "uniform":
            return f"U(−limit, limit), limit = √(3·{self.scale:g}/{n})"
        if self.distribution == "truncated_normal":
            return f"N(0, σ²) cut at ±2σ, σ = √({self.scale:g}/{n}) / 0.87962566103423978"
        return f"N(0, σ²), σ = √({self.scale:g}/{n})"

    def describe(self, shape=None) -> str:
        """The formula, with its numbers for ``shape`` when given."""
        if shape is None:
            return self._formula()
        var = self.variance(shape)
        if self.distribution == "uniform":
            value = f"limit = {math.sqrt(3.0 * var):.4g}"
        elif self.distribution == "truncated_normal":
            value = f"σ = {math.sqrt(var) / _TRUNCATED_STD:.4g}"
        else:
            value = f"σ = {math.sqrt(var):.4g}"
        return f"{self._formula()}; shape {tuple(shape)}: {value}, Var(w) = {var:.4g}"

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution; only ``seed`` is configurable."""

    _PRESET: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        super().__init__(*self._PRESET, seed=seed)

    def _formula(self) -> str:
        return type(self).__doc__.split(": ", 1)[1].rstrip(".")

    def get_config(self):
        return {"seed": self.seed}


@registry.register("glorot_uniform", "GlorotUniform")
class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: U(−limit, limit), limit = √(6/(fan_in+fan_out))."""

    _PRESET = (1.0, "fan_avg", "uniform")


@registry.register("glorot_normal", "GlorotNormal")
class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: N(0, σ²) cut at ±2σ, σ = √(2/(fan_in+fan_out)) / 0.87962566103423978."""

    _PRESET = (1.0, "fan_avg", "truncated_normal")


@registry.register("he_normal", "HeNormal")
class HeNormal(_Preset):
    """He normal: N(0, σ²) cut at ±2σ, σ = √(2/fan_in) / 0.87962566103423978."""

    _PRESET = (2.0, "fan_in", "truncated_normal")


@registry.register("he_uniform", "HeUniform")
class HeUniform(_Preset):
    """He uniform: U(−limit, limit), limit = √(6/fan_in)."""

    _PRESET = (2.0, "fan_in", "uniform")


@registry.register("lecun_normal", "LecunNormal")
class LecunNormal(_Preset):
    """LeCun normal: N(0, σ²) cut at ±2σ, σ = √(1/fan_in) / 0.87962566103423978."""

    _PRESET = (1.0, "fan_in", "truncated_normal")


@registry.register("lecun_uniform", "LecunUniform")
class LecunUniform(_Preset):
    """LeCun uniform: U(−limit, limit), limit = √(3/fan_in)."""

    _PRESET = (1.0, "fan_in", "uniform")


def get(identifier, **overrides) -> Initializer | None:
    """An initializer from a name ("glorot_uniform"), dict, instance or class; None stays None."""
    return None if identifier is None else registry.get(identifier, **overrides)


def serialize(initializer: Initializer | None) -> dict | None:
    """{"class_name": ..., "config": ...}, which ``deserialize`` turns back into an initializer."""
    if initializer is None:
        return None
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict | None) -> Initializer | None:
    """An initializer from ``serialize``'s output."""
    return get(config)
