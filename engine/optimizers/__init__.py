"""Keras 3 optimizers in NumPy: SGD (momentum, Nesterov), Adam (AMSGrad), Adagrad, RMSprop, Adadelta.

Each optimizer updates a list of weight arrays in place, with Keras 3's update rules and defaults,
so that training from the same weights, data and batch order ends at Keras 3's weights to float32
precision. Keras 2's ``decay`` argument is kept (Keras 3 ignores it): before every update the
learning rate becomes lr_t = learning_rate / (1 + decay · iterations), iterations counted before it.

Layout (as Keras): ``base`` holds the Optimizer base class and the registry; each optimizer has its
own module. ``get(identifier)`` takes a name, a dict or an instance and raises ValueError listing
the valid names.
"""
from __future__ import annotations

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .base import Optimizer, registry
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Optimizer", "RMSprop", "deserialize", "get", "registry",
           "serialize"]


def get(identifier, **overrides) -> Optimizer:
    """An optimizer from a name ("sgd"), a dict, an instance or a class; ``overrides`` set arguments."""
    return registry.get(identifier, **overrides)


def serialize(optimizer: Optimizer) -> dict:
    """{"class_name": ..., "config": ...}, which ``deserialize`` turns back into an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict) -> Optimizer:
    """An optimizer from ``serialize``'s output (or a {"name": ..., **kwargs} dict)."""
    return registry.get(config)
