"""The fast path: ReferenceStep's numbers (engine/step.py) in less time, behind one object.

``FastStep`` (engine/fast/step.py) computes forward → backward → apply_gradients as
``ReferenceStep`` does, with the same numbers, bit for bit (tests/engine/test_two_paths.py). Every
training run takes its steps (engine/runner.py: ``fit``, the server, comparison runs, the range
test), and every model the server builds uses it for its own phases too (``use_fast_step``); the
lecture's maths is read in engine/step.py, engine/layers/dense.py and engine/optimizers.

Each trick, and what going without it costs fit: MNIST 784-128-64-10, sigmoid, SGD(0.01), one BLAS
thread, CPU time per step of the fastest of ~290 short epochs, A/B interleaved, at batch 32 / 128
(``python -m benchmarks.fast_tricks``; a shared 2-core machine: a few per cent is the noise):

  work arrays (buffers.py): z, a, δ, δ/batch, g written into arrays kept per batch size
      instead of allocated at every step .......................................... 22 % / 11 %
  one-block forward test (buffers.py BatchBuffers.block): every z and ŷ in one vector, so
      that the forward's finiteness test is one NumPy call, not one per array ....... 5 % / 2 %
      (that call is np.add.reduce, divergence.block_finite: 6 µs a step less than the dot
      product with ones it replaced, timed within fit's steps, 1.5 % at batch 32)
  deferred finiteness tests (step.py, runner.py): δ, the gradients and the new weights are
      tested by the next forward's test of z (or verify_weights), not at every step . 20 % / 5 %
  packed update (packing.py): weights, gradients and the optimizer's slots in flat vectors,
      so an update is one ``optimizer.update`` call, not one per array ............. 3 % / 1 %
      (with Adam, a dozen NumPy calls per array: 8 % at batch 32)
  Adam's rule into two kept scratch vectors (rules.py): Adam.update's operations in its
      order, with ``out=`` instead of ~10 temporaries the size of all weights
      (``--opt adam``; a full MNIST epoch: 7–9 % at batch 32) ....................... 5–7 % / 2 %
  layer steps (step.py LayerStep): each Dense layer's views in the packed vectors, their
      transposes (W, ∂cost/∂W, Kᵀ) and its role worked out once per packing, not looked up
      at every step; the weights' placement tested by K alone (sigmoid and relu) ........ 4–5 % / 1–2 %
  batched loss meter (meters.py LabelMeter): ŷ stored, the losses and hits worked out a
      block of batches at a time, not per step ....................................... 11 % / 4 %
  x.take(rows) for the batch instead of x[rows] (runner.py) ........................... 1 % / 1 %
  the write choice (writes.py): the new weights written over the old ones, or into a kept
      vector then copied over, whichever its timing of both on alternate updates finds
      faster; with two BLAS threads, writing lines the other core read in the forward is
      slow, and copying saves (wall time, 2 BLAS threads) ............................ 23–29 % / 1–8 %
      (one BLAS thread: it keeps writing in place; within the noise)
  all of them together (ReferenceStep, fit's loop otherwise the same) ................ 48 % / 28 %

Dropped: the folded rate (plain SGD's η folded into δ/batch, so the update was W ← W − G in one
pass; 3–6 % at batch 32, 2–5 % at 128): its weights differed from the reference step's in the last
bits, and fit folded while the server's Step could not (it shows ∂cost/∂W), so the same run gave
different weights depending on who stepped it; every caller now takes the same exact step. Its
replacement, plain SGD's η·g written into a kept array (the same numbers as ``w -= lr * g``),
measured −1 % (the allocator reuses the freed array): not kept either.
The optimizers' rules are written as formulas (engine/optimizers), in place where that reads as the
formula; Adam's still makes temporaries, which its kept rule above avoids (the other rules' scratch
buffers were dropped earlier as not worth their complexity).
Tried with the layer steps, not kept (under 2 %, within the noise): plain SGD's update in chunks of
16–32 k weights, so that η·g stays in cache (−1 to −2 %, slower at 128); the forward's test as one dot
with the block's own vector of ones, without divergence.finite's look-ups (0–1 %); Sigmoid's forward
and backward as one method each (0 %); testing the optimizer's slots by the identity of their list
alone (~1 %, and wrong when two FastSteps take turns on one model: tests/engine/test_layer_steps.py).
"""
from __future__ import annotations

from .step import FastStep

__all__ = ["FastStep", "step_of", "use_fast_step"]


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
