"""Option specs (JSON-friendly dicts with default and bounds) and their validation."""
from __future__ import annotations

import math
import os
from numbers import Integral, Real

SEED_MAX = 2**32 - 1


def int_option(default, lo, hi, help: str) -> dict:
    """Spec of an integer option with inclusive bounds lo..hi."""
    return {"type": "int", "default": default, "min": lo, "max": hi, "help": help}


def float_option(default, lo, hi, help: str) -> dict:
    """Spec of a float option with inclusive bounds lo..hi."""
    return {"type": "float", "default": default, "min": lo, "max": hi, "help": help}


def choice_option(default, choices, help: str) -> dict:
    """Spec of an option that must be one of ``choices``."""
    return {"type": "choice", "default": default, "choices": list(choices), "help": help}


def list_option(default, choices, help: str) -> dict:
    """Spec of a non-empty list of distinct items taken from ``choices``."""
    return {"type": "list", "default": list(default), "choices": list(choices), "help": help}


def text_option(default, help: str, required: bool = False, kind: str = "str") -> dict:
    """Spec of a string option (``kind`` "str", or "path" for a file or folder path)."""
    return {"type": kind, "default": default, "required": required, "help": help}


def seed_option() -> dict:
    """The shared ``seed`` spec: an int 0..2**32-1 that fixes every random draw."""
    return int_option(0, 0, SEED_MAX, "Random seed: the same seed gives the same data.")


def _bounds(name: str, spec: dict) -> str:
    """'name must be between min and max': the bounds, for error messages."""
    return f"{name} must be between {spec['min']} and {spec['max']}"


def check(dataset: str, name: str, spec: dict, value):
    """``value`` converted to the spec's type; ValueError naming the option and its bounds otherwise."""
    kind = spec["type"]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, Real) or (
                not isinstance(value, Integral) and not float(value).is_integer()):
            raise ValueError(f"Option {name} of {dataset!r} must be an integer; {_bounds(name, spec)}, "
                             f"got {value!r}")
        value = int(value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"Option {name} of {dataset!r} must be a number; {_bounds(name, spec)}, "
                             f"got {value!r}")
        value = float(value)
    if kind in ("int", "float"):
        if not spec["min"] <= value <= spec["max"]:
            raise ValueError(f"Option {name} of {dataset!r} is out of range: {_bounds(name, spec)}, "
                             f"got {value!r}")
        return value
    if kind == "choice":
        if value not in spec["choices"]:
            raise ValueError(f"Option {name} of {dataset!r} must be one of {spec['choices']}, got {value!r}")
        return value
    if kind == "list":
        items = [value] if isinstance(value, str) else list(value)
        bad = [v for v in items if v not in spec["choices"]]
        if not items or bad or len(set(items)) != len(items):
            raise ValueError(f"Option {name} of {dataset!r} must be a non-empty list of distinct names "
                             f"among {spec['choices']}, got {value!r}")
        return items
    if value is None:
        return None
    if kind == "path" and not isinstance(value, (str, os.PathLike)) or kind == "str" and not isinstance(
            value, str):
        raise ValueError(f"Option {name} of {dataset!r} must be a {kind}, got {value!r}")
    return os.fspath(value) if kind == "path" and not isinstance(value, str) else value


def validate(dataset: str, specs: dict[str, dict], given: dict) -> dict:
    """Every option of ``specs``: given values checked, missing ones filled with their defaults."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ValueError(f"Unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for data "
                         f"set {dataset!r}; valid options: {', '.join(specs) or 'none'}")
    out = {}
    for name, spec in specs.items():
        if given.get(name) is not None:
            out[name] = check(dataset, name, spec, given[name])
        elif spec.get("required"):
            raise ValueError(f"Option {name} of {dataset!r} is required: {spec['help']}")
        else:
            out[name] = spec["default"] if spec["type"] != "list" else list(spec["default"])
    return out
