"""The fast path: ReferenceStep's numbers (engine/step.py) in less time, behind one object.

``FastStep`` (engine/fast/step.py) computes forward → backward → apply_gradients as
``ReferenceStep`` does, with the same numbers (bit for bit; to float rounding where the learning
rate is folded in: tests/engine/test_two_paths.py). ``fit`` trains with it, comparison runs
(engine/compare.py) too, and so does every model the server builds (``use_fast_step``); the
lecture's maths is read in engine/step.py, engine/layers/dense.py and engine/optimizers.

Each trick, and what it saves (interleaved A/B medians, MNIST 784-128-64-10, sigmoid, SGD, one
BLAS thread: ``python -m benchmarks.fast_tricks``):

  (to be measured)
"""
from __future__ import annotations

from .step import FastStep, plain_rate

__all__ = ["FastStep", "plain_rate", "step_of", "use_fast_step"]


def step_of(model) -> FastStep:
    """The FastStep that trains ``model``: its stepper if that is one, else one made once and kept
    as ``model.fast_step`` (the model's own forward/backward go on using its ReferenceStep)."""
    if isinstance(model.stepper, FastStep):
        return model.stepper
    if model.fast_step is None:
        model.fast_step = FastStep(model)
    return model.fast_step


def use_fast_step(model):
    """Make ``model``'s own forward, backward and apply_gradients run on its FastStep; returns it."""
    model.stepper = step_of(model)
    return model
