"""The optimizer base class: learning-rate decay, slot variables, flat updates, state.

Subclasses (one module each, as in Keras) write their update rule in ``_update``; see
engine/optimizers/__init__.py for the registry and ``get``.
"""
from __future__ import annotations

import inspect
import math
import operator

import numpy as np

from .. import packing
from ..errors import ConfigError
from ..registry import Registry


def _check_float(name: str, value, low: float, high: float, *, open_low=False, open_high=False) -> float:
    """``value`` as a float if it is a finite number in [low, high] (ends open if asked), else ValueError."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and math.isfinite(value):
        v = float(value)
        if (v > low if open_low else v >= low) and (v < high if open_high else v <= high):
            return v
    bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    raise ConfigError(f"{name} must be a finite number in {bounds}; got {value!r}", ("optimizer", name))


class Optimizer:
    """Base class: lr_t = learning_rate / (1 + decay · iterations), then the subclass's rule.

    Slot variables (momenta, averages) are created on the first ``apply``, one per weight position,
    in the weight's dtype. ``learning_rate`` may be changed between updates (state is kept); the
    other hyperparameters are fixed at construction (call ``reset()`` after changing them).
    """

    _HYPER: dict[str, tuple] = {}   # hyperparameter → (min, max, "float"|"bool", one-line help[, min excluded])
    _SCRATCH = 2                    # work buffers kept per weight, reused by every update

    def __init__(self, learning_rate, decay=0.0, name=None, **kwargs):
        if "lr" in kwargs:                     # Keras 2 spelling, as in SGD(lr=0.01)
            learning_rate = kwargs.pop("lr")
        if kwargs:
            valid = ", ".join(["learning_rate", "lr", *self._HYPER, "decay", "name"])
            raise ConfigError(f"Unknown argument(s) for {type(self).__name__}: "
                              f"{', '.join(sorted(kwargs))}. Valid: {valid}", ("optimizer", sorted(kwargs)[0]))
        self.learning_rate = learning_rate
        self.decay = _check_float("decay", decay, 0.0, math.inf)   # Keras 2 time decay of the lr
        self.name = name or type(self).__name__.lower()           # display / config name
        self.iterations = 0                                        # updates applied so far
        self._rows: list[dict[str, np.ndarray]] = []               # per weight: slots + scratch
        self._flat = None      # (params, grads, (flat weights, flat grads, flat slots)) when packed

    @property
    def learning_rate(self) -> float:
        """The base learning rate (before decay); assignable between updates."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate = _check_float("learning_rate", value, 0.0, math.inf, open_low=True)

    def current_learning_rate(self) -> float:
        """The learning rate the next update will use: learning_rate / (1 + decay · iterations)."""
        if self.decay:
            return self._learning_rate / (1.0 + self.decay * self.iterations)
        return self._learning_rate

    def _start_update(self, params, grads) -> None:
        """Check that ``grads`` and this optimizer's state fit ``params``; make the state on first use."""
        if len(params) != len(grads):
            raise ValueError(f"Got {len(params)} parameters but {len(grads)} gradients")
        if not self._rows:
            self._build(params)
        elif len(self._rows) != len(params):
            raise ValueError(f"{type(self).__name__} holds state for {len(self._rows)} parameters, "
                             f"got {len(params)}; call reset() before using it on other weights")

    def apply(self, params, grads, return_deltas: bool = False):
        """Update every array of ``params`` in place from ``grads``; return the ΔW if asked."""
        self._start_update(params, grads)
        lr = self.current_learning_rate()
        flat = self._flat_state(params, grads)
        if flat is not None:                   # all weights in one vector: one update for all
            p, g, row = flat
            before = p.copy() if return_deltas else None
            self._update(p, g, row, self._coefficients(lr, p.dtype.type))
            self.iterations += 1
            if return_deltas:
                return packing.views_of(np.subtract(p, before, out=before), [q.shape for q in params])
            return None
        coeffs: dict = {}                      # dtype → this update's scalars
        deltas = [] if return_deltas else None
        for p, g, row in zip(params, grads, self._rows):
            c = coeffs.get(p.dtype)
            if c is None:
                c = coeffs[p.dtype] = self._coefficients(lr, p.dtype.type)
            if type(g) is not np.ndarray or g.dtype != p.dtype:
                g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"Gradient shape {g.shape} does not match parameter shape {p.shape}")
            before = p.copy() if return_deltas else None
            self._update(p, g, row, c)
            if return_deltas:
                deltas.append(np.subtract(p, before, out=before))
        self.iterations += 1
        return deltas

    def plain_rate(self) -> float | None:
        """r when the next update is exactly W ← W − r·g (plain SGD), else None; fit then computes
        the gradients as r·g directly (Dense.backward's grad_scale) and calls ``apply_scaled``."""
        return None

    def apply_scaled(self, params, grads) -> None:
        """W ← W − G for gradients G that already hold r·g (r = ``plain_rate()``): the update of
        ``apply`` in one pass over the weights instead of two (lr·g, then W − lr·g)."""
        self._start_update(params, grads)
        flat = self._flat_state(params, grads)
        for p, g in ((flat[0], flat[1]),) if flat is not None else zip(params, grads):
            if g.shape != p.shape:
                raise ValueError(f"Gradient shape {g.shape} does not match parameter shape {p.shape}")
            np.subtract(p, g, out=p)
        self.iterations += 1

    def _flat_state(self, params, grads):
        """(flat weights, flat gradients, flat slots) when ``params`` and ``grads`` tile two flat
        vectors (engine.packing) in the same layout, else None. The per-weight slots become views
        of the flat ones (made on the first such update and kept while the same arrays come)."""
        cached = self._flat
        if cached is not None and ((cached[0] is params and cached[1] is grads) or (   # a model's tuples
                len(cached[0]) == len(params) and all(map(operator.is_, cached[0], params))
                and all(map(operator.is_, cached[1], grads)))):
            return cached[2]
        self._flat = None
        p, g = packing.base_of(params), packing.base_of(grads)
        if p is None or g is None or g.dtype != p.dtype or g.size != p.size or \
                any(a.shape != b.shape for a, b in zip(params, grads)) or \
                any(row[name].shape != a.shape for row, a in zip(self._rows, params) for name in row):
            return None
        shapes = [a.shape for a in params]
        row = {}
        for name in self._rows[0]:         # the slots' values are kept; scratch buffers start empty
            row[name] = np.concatenate([r[name].ravel() for r in self._rows]).astype(p.dtype, copy=False) \
                if not name.startswith("_buf") else np.empty(p.size, p.dtype)
            for r, view in zip(self._rows, packing.views_of(row[name], shapes)):
                r[name] = view
        self._flat = (params if type(params) is tuple else tuple(params),
                      grads if type(grads) is tuple else tuple(grads), (p, g, row))
        return self._flat[2]

    def _build(self, params) -> None:
        """Create the slot variables and work buffers, one row per weight position."""
        init = self._slot_init()
        self._rows = [{**{name: np.full_like(p, value) for name, value in init.items()},
                       **{f"_buf{k}": np.empty_like(p) for k in range(self._SCRATCH)}} for p in params]

    def _slot_init(self) -> dict[str, float]:
        """This optimizer's state arrays (one of each per weight) and the value each starts at."""
        return {}

    def _coefficients(self, lr: float, dt: type) -> tuple:
        """Scalars shared by every weight of dtype ``dt`` in this update."""
        raise NotImplementedError

    def _update(self, p: np.ndarray, g: np.ndarray, row: dict, c: tuple) -> None:
        """Apply this optimizer's rule to one weight ``p`` in place."""
        raise NotImplementedError

    def slots(self) -> dict[str, list[np.ndarray]]:
        """The optimizer state by name, one (live) array per weight position."""
        return {name: [row[name] for row in self._rows] for name in self._slot_init()}

    def get_state(self) -> dict:
        """The training state as plain data: {"iterations": int, "slots": {name: [array per weight]}}.

        The arrays are copies; ``slots`` is empty before the first update (or when the optimizer
        keeps no slots, as plain SGD). ``set_state`` restores it (used by ``engine.saving``).
        """
        return {"iterations": int(self.iterations),
                "slots": {name: [a.copy() for a in arrays] for name, arrays in self.slots().items()}}

    def set_state(self, state: dict, shapes: list[tuple] | None = None) -> None:
        """Restore ``get_state()``'s output (on an optimizer with the same hyperparameters).

        ``slots`` must hold exactly this optimizer's slot names, each with the same number of
        arrays (and, when the weights' ``shapes`` are given, one array of each weight's shape);
        an empty ``slots`` leaves the slots to be created on the next update. Raises ValueError
        on a mismatch, leaving the current state untouched.
        """
        iterations = state.get("iterations", 0)
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise ValueError(f"iterations must be a non-negative integer; got {iterations!r}")
        slots = state.get("slots") or {}
        rows: list[dict[str, np.ndarray]] = []
        if slots:
            expected = set(self._slot_init())
            if set(slots) != expected:
                raise ValueError(f"{type(self).__name__} expects slots {sorted(expected)}, got {sorted(slots)}")
            counts = {len(arrays) for arrays in slots.values()}
            if len(counts) != 1:
                raise ValueError(f"every slot needs one array per weight; got counts {sorted(counts)}")
            for i in range(counts.pop()):
                row = {name: np.array(arrays[i], copy=True) for name, arrays in slots.items()}
                slot_shapes = {a.shape for a in row.values()}
                if len(slot_shapes) != 1:
                    raise ValueError(f"slot arrays for weight {i} have different shapes: {sorted(slot_shapes)}")
                ref = next(iter(row.values()))
                if shapes is not None and (i >= len(shapes) or ref.shape != tuple(shapes[i])):
                    want = f"shape {tuple(shapes[i])}" if i < len(shapes) else f"only {len(shapes)} weights"
                    raise ValueError(f"optimizer state for weight {i} has shape {ref.shape}, but the model has "
                                     f"{want} (was the state saved from another model?)")
                row.update({f"_buf{k}": np.empty_like(ref) for k in range(self._SCRATCH)})
                rows.append(row)
            if shapes is not None and len(rows) != len(shapes):
                raise ValueError(f"optimizer state for {len(rows)} weights, but the model has {len(shapes)}")
        self._rows, self._flat = rows, None
        self.iterations = int(iterations)

    def carry_state_from(self, old: "Optimizer") -> tuple[list[str], list[str]]:
        """Continue ``old``'s training with this optimizer's hyperparameters (same class): its
        iteration count and the slots both use are taken over; slots only this one uses start at
        their initial value. Returns (slot names kept, slot names started afresh)."""
        if type(old) is not type(self):
            raise ValueError(f"cannot carry {type(old).__name__} state into {type(self).__name__}")
        self.iterations = old.iterations
        self._flat = None
        if not old._rows:
            self._rows = []
            return [], []
        before, init = set(old._slot_init()), self._slot_init()
        kept = [n for n in init if n in before]
        started = [n for n in init if n not in before]
        self._rows = [{**{f"_buf{k}": np.empty_like(row["_buf0"]) for k in range(self._SCRATCH)},
                       **{n: row[n].copy() for n in kept},
                       **{n: np.full_like(row["_buf0"], init[n]) for n in started}} for row in old._rows]
        return kept, started

    def reset(self) -> None:
        """Forget all state: slot variables and the iteration count."""
        self._rows, self._flat = [], None
        self.iterations = 0

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this optimizer (without its state)."""
        hyper = {k: getattr(self, k) for k in self._HYPER}
        return {"name": self.name, "learning_rate": self.learning_rate, **hyper, "decay": self.decay}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        """A new optimizer from ``get_config()``'s output."""
        return cls(**config)

    @classmethod
    def hyperparameters(cls) -> dict[str, dict]:
        """{name: {"default", "min", "max", "min_exclusive", "type", "help"}} for a settings form.

        A float must lie in [min, max], or in (min, max] when ``min_exclusive`` (learning_rate, epsilon).
        """
        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
        spec = {"learning_rate": (0.0, 100.0, "float", "Step size, > 0: how far each update moves W.", True),
                **cls._HYPER,
                "decay": (0.0, 1.0, "float", "Keras 2 time decay: lr_t = learning_rate / (1 + decay·t).")}
        return {name: {"default": defaults[name], "min": lo, "max": hi, "min_exclusive": bool(rest and rest[0]),
                       "type": kind, "help": text}
                for name, (lo, hi, kind, text, *rest) in spec.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


registry = Registry("optimizer", base=Optimizer)
_EPSILON = (0.0, 1.0, "float", "ε > 0, added to the denominator so the step stays finite.", True)
_RHO = (0.0, 1.0, "float", "ρ: decay rate of the running mean of squared gradients.")
_MOMENTUM = (0.0, 1.0, "float", "μ: fraction of the previous step kept (0 = none).")
