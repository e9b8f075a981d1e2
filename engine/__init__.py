"""Backprop Lab's NumPy engine: a Keras-style API whose every step can be inspected.

    from engine.models import Sequential
    from engine.layers import Dense
    from engine.optimizers import SGD

Where the lecture's equations are computed: engine/step.py (its docstring lists each one with its
file and function). engine/fast computes the same numbers faster, for fit and the server.
"""
from . import activations, backend, callbacks, initializers, losses, metrics, optimizers, regularizers, utils
from .callbacks import Callback, History
from .errors import Diverged, StepOrderError
from .gradcheck import gradient_check
from .layers import Activation, Dense, Dropout, Flatten
from .models import Sequential
from .optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop
from .saving import load_model
from .trace import LayerTrace, Trace
from .utils import set_random_seed, to_categorical

__version__ = "0.1.0"

__all__ = [
    "Activation", "Adadelta", "Adagrad", "Adam", "Callback", "Dense", "Diverged", "Dropout", "Flatten",
    "History", "LayerTrace", "RMSprop", "SGD", "Sequential", "StepOrderError", "Trace", "activations",
    "backend", "callbacks", "gradient_check", "initializers", "load_model", "losses", "metrics",
    "optimizers", "regularizers", "set_random_seed", "to_categorical", "utils",
]
