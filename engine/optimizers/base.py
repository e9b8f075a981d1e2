"""The optimizer base class: learning-rate decay, slot variables, state.

Subclasses (one module each, as in Keras) write their update rule in ``update``, one weight array
at a time, as Keras 3's ``update_step`` writes it; see engine/optimizers/__init__.py for the
registry and ``get``.
"""
from __future__ import annotations

import inspect
import math
from types import SimpleNamespace

import numpy as np

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

    ``apply(params, grads)`` is one update of every weight array: ``update(w, g, s, lr_t)`` — the
    rule as written in each subclass's docstring — once per array, in place. ``s`` holds that
    array's slot variables (momenta, running averages: ``s.m``, ``s.v`` ...), created on the first
    ``apply`` in the weight's dtype (``prepare``). ``learning_rate`` may be changed between updates
    (state is kept); the other hyperparameters are fixed at construction (call ``reset()`` after
    changing them).
    """

    _HYPER: dict[str, tuple] = {}   # hyperparameter → (min, max, "float"|"bool", one-line help[, min excluded])

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
        self.weight_slots: list[SimpleNamespace] = []              # per weight position: its slot arrays
        self._weights: list[tuple] = []                             # (shape, dtype) of each weight position
        self._restored = False                                      # slots from set_state, not yet cast

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

    def update(self, w: np.ndarray, g: np.ndarray, s: SimpleNamespace, lr: float) -> None:
        """The rule: one weight array ``w`` (in place) from its gradient ``g`` and slots ``s``."""
        raise NotImplementedError

    def apply(self, params, grads, return_deltas: bool = False):
        """One update of every array of ``params`` in place from ``grads``; the ΔW if asked."""
        self.prepare(params, grads)
        lr = self.current_learning_rate()
        deltas = [] if return_deltas else None
        for w, g, s in zip(params, grads, self.weight_slots):
            if type(g) is not np.ndarray or g.dtype != w.dtype:
                g = np.asarray(g, dtype=w.dtype)
            if g.shape != w.shape:
                raise ValueError(f"Gradient shape {g.shape} does not match parameter shape {w.shape}")
            before = w.copy() if return_deltas else None
            self.update(w, g, s, lr)
            if return_deltas:
                deltas.append(np.subtract(w, before, out=before))
        self.iterations += 1
        return deltas

    def prepare(self, params, grads) -> None:
        """Check that ``grads`` and this optimizer's state fit ``params``; make the slots on first use."""
        if len(params) != len(grads):
            raise ValueError(f"Got {len(params)} parameters but {len(grads)} gradients")
        if not self.weight_slots:
            self._weights = [(w.shape, w.dtype) for w in params]
            self.weight_slots = self._new_slots(self._slot_init())
        elif len(self.weight_slots) != len(params):
            raise ValueError(f"{type(self).__name__} holds state for {len(self.weight_slots)} parameters, "
                             f"got {len(params)}; call reset() before using it on other weights")
        elif self._restored:            # set_state's arrays (float64 from JSON ...) in each weight's dtype
            for s, w in zip(self.weight_slots, params):
                for name, value in vars(s).items():
                    setattr(s, name, value.astype(w.dtype, copy=False))
            self._weights, self._restored = [(w.shape, w.dtype) for w in params], False

    def _new_slots(self, init: dict[str, float], old: list[SimpleNamespace] = ()) -> list[SimpleNamespace]:
        """Slot arrays for every weight position: a copy of ``old``'s where it has the name, else
        ``init``'s starting value, in the weight's shape and dtype."""
        old = list(old) or [SimpleNamespace()] * len(self._weights)
        return [SimpleNamespace(**{name: getattr(o, name).copy() if hasattr(o, name) else np.full(shape, value, dtype)
                                   for name, value in init.items()})
                for o, (shape, dtype) in zip(old, self._weights)]

    def _slot_init(self) -> dict[str, float]:
        """This optimizer's state arrays (one of each per weight) and the value each starts at."""
        return {}

    def slots(self) -> dict[str, list[np.ndarray]]:
        """The optimizer state by name, one (live) array per weight position."""
        return {name: [getattr(s, name) for s in self.weight_slots] for name in self._slot_init()}

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
        rows: list[SimpleNamespace] = []
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
                rows.append(SimpleNamespace(**row))
            if shapes is not None and len(rows) != len(shapes):
                raise ValueError(f"optimizer state for {len(rows)} weights, but the model has {len(shapes)}")
        self.weight_slots, self._restored = rows, bool(rows)
        self._weights = [(a.shape, a.dtype) for a in (next(iter(vars(r).values())) for r in rows)]
        self.iterations = int(iterations)

    def carry_state_from(self, old: "Optimizer") -> tuple[list[str], list[str]]:
        """Continue ``old``'s training with this optimizer's hyperparameters (same class): its
        iteration count and the slots both use are taken over; slots only this one uses start at
        their initial value. Returns (slot names kept, slot names started afresh)."""
        if type(old) is not type(self):
            raise ValueError(f"cannot carry {type(old).__name__} state into {type(self).__name__}")
        self.iterations = old.iterations
        self._weights, self._restored = list(old._weights), old._restored
        if not old.weight_slots:
            self.weight_slots = []
            return [], []
        before, init = set(old._slot_init()), self._slot_init()
        self.weight_slots = self._new_slots(init, old.weight_slots)
        return [n for n in init if n in before], [n for n in init if n not in before]

    def reset(self) -> None:
        """Forget all state: slot variables and the iteration count."""
        self.weight_slots, self._weights, self._restored = [], [], False
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
