"""Keras-style component registries: look a component up by name, dict or instance.

Every component family (activations, losses, optimizers, initializers, regularizers,
metrics) keeps a ``Registry`` keyed by its Keras name. ``Registry.get`` accepts

* a name (``"relu"``, aliases such as ``"mse"`` included),
* a dict ``{"class_name": "SGD", "config": {...}}`` or ``{"name": "sgd", ...kwargs}``,
* an instance (returned unchanged), or a class (instantiated with no arguments),

and raises ``ValueError`` listing the valid names for anything else.
"""
from __future__ import annotations

from typing import Any, Callable


class Registry:
    """A name → factory table for one family of components."""

    def __init__(self, family: str, base: type | tuple[type, ...] | None = None):
        self.family = family            # e.g. "activation", used in error messages
        self.base = base                # instances of this type pass through ``get``
        self._factories: dict[str, Callable[..., Any]] = {}
        self._canonical: dict[str, str] = {}   # alias → canonical name

    def register(self, name: str, *aliases: str):
        """Decorator: register a class or function under ``name`` and ``aliases``."""
        def deco(factory):
            for key in (name, *aliases):
                self._factories[key.lower()] = factory
                self._canonical[key.lower()] = name
            return factory
        return deco

    def names(self) -> list[str]:
        """Canonical names, in registration order."""
        return list(dict.fromkeys(self._canonical.values()))

    def all_names(self) -> list[str]:
        """Every accepted name, aliases included, sorted."""
        return sorted(self._factories)

    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` (an alias or a different case)."""
        key = self._key(name)
        return self._canonical[key]

    def _key(self, name: str) -> str:
        key = str(name).lower()
        if key not in self._factories:
            raise ValueError(
                f"Unknown {self.family} {name!r}. Valid names: {', '.join(self.all_names())}"
            )
        return key

    def get(self, identifier: Any, **overrides):
        """Resolve ``identifier`` (name, dict, instance or class) to a component."""
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            return self._build(self._key(identifier), {**overrides})
        if isinstance(identifier, dict):
            if "class_name" in identifier:
                name, config = identifier["class_name"], dict(identifier.get("config") or {})
            elif "name" in identifier:
                config = {k: v for k, v in identifier.items() if k != "name"}
                name = identifier["name"]
            else:
                raise ValueError(
                    f"A {self.family} given as a dict needs 'class_name' or 'name'; got keys "
                    f"{sorted(identifier)}. Valid names: {', '.join(self.all_names())}"
                )
            return self._build(self._key(name), {**config, **overrides})
        if isinstance(identifier, type) and self.base is not None and issubclass(identifier, self.base):
            return identifier(**overrides)
        raise ValueError(
            f"Could not interpret {self.family} identifier {identifier!r}. "
            f"Valid names: {', '.join(self.all_names())}"
        )

    def _build(self, key: str, config: dict):
        try:
            return self._factories[key](**config)
        except TypeError as exc:
            raise ValueError(f"Bad arguments for {self.family} {key!r}: {exc}") from None
