"""The lecture's training step, as the lecture writes it: forward → backward → apply_gradients.

Notation: layer 1 is the input; W(l), b(l) feed layer l+1. In code a batch is a matrix with one
row per sample, and a Dense layer keeps Keras' kernel K = W(l)ᵀ, shape (inputs, units), so the
lecture's column equations become row equations (z = a·K + b is z(l+1) = W(l)·a(l) + b(l) for
every row at once). Where each equation is computed:

  z(l+1) = W(l)·a(l) + b(l)              engine/layers/dense.py   Dense.forward        z = a·K + b
  a(l+1) = f(z(l+1))                     engine/layers/dense.py   Dense.forward        a′ = f(z)
                                         (f and f′: engine/activations.py, one class per f)
  cost = mean over the batch of loss_i   engine/step.py           ReferenceStep.fill_loss
         (+ the regularisers' penalty)   (loss_i, ∂loss_i/∂ŷ: engine/losses.py)
  δ(L) = ∂loss/∂ŷ ⊙ f′(z(L))             engine/layers/dense.py   Dense.backward       δ = g ⊙ f′(z)
       = ŷ − y  (softmax + cross-entropy, sigmoid + binary cross-entropy: the loss's fused_delta)
  δ(l) = (W(l)ᵀ·δ(l+1)) ⊙ f′(z(l))       engine/layers/dense.py   Dense.backward: its last line
                                         passes g = δ(l+1)·K(l)ᵀ down (= W(l)ᵀ·δ(l+1), row by row),
                                         and the first line of the layer below's backward makes
                                         δ(l) = g ⊙ f′(z(l)); ReferenceStep.backward is the loop
  ∂cost/∂W(l) = δ(l+1)·a(l)ᵀ / batch     engine/layers/dense.py   Dense.backward       ∂cost/∂K = aᵀ·δ / batch
  ∂cost/∂b(l) = mean of δ(l+1)           engine/layers/dense.py   Dense.backward
  W ← W − η·∂cost/∂W (and b)             engine/optimizers/sgd.py SGD.update; momentum, Nesterov
                                         there too; Adam, Adagrad, RMSprop, Adadelta: the ``update``
                                         of engine/optimizers/<name>.py; ReferenceStep.apply_gradients

``Sequential`` (engine/models.py) owns a step object, ``model.stepper``, and its forward, backward
and apply_gradients call it. A new model's stepper is the ``ReferenceStep`` below. Training runs
(engine/runner.py: ``fit``, the web server, comparison runs, the range test) use engine/fast's
``FastStep`` instead: the same numbers, bit for bit (tests/engine/test_two_paths.py), with work
arrays kept from step to step, one update of all weights packed in one vector, and the finiteness
tests deferred.
"""
from __future__ import annotations

import numpy as np

from . import divergence
from .errors import Diverged
from .trace import LayerTrace, Phase, Trace

__all__ = ["Phase", "ReferenceStep", "mean_loss"]


class ReferenceStep:
    """One model's forward → backward → apply_gradients, equation by equation (see the module
    docstring). Every array is computed afresh, and every z, a, δ, gradient and weight is tested
    for NaN/∞ where it is made, so a ``Diverged`` names it at once. The model checks the phase
    order before calling these methods."""

    def __init__(self, model):
        self.model = model

    def forward(self, x: np.ndarray, training: bool = True) -> Trace:
        """a(1) = x, then for each Dense layer: z(l+1) = W(l)·a(l) + b(l), a(l+1) = f(z(l+1))."""
        model = self.model
        a = x
        for layer in model.leading_layers():          # Flatten: images → rows
            a = layer.forward(a, training)
        entries = []
        for number, (dense, rest) in enumerate(model.groups(), start=1):
            entry = LayerTrace.start(number, dense, a)          # W(l), b(l), a(l)
            a = dense.forward(a, training)                      # z(l+1) = a(l)·K(l) + b(l), a(l+1) = f(z(l+1))
            for layer in rest:                                  # Activation, Dropout layers after it
                a = layer.forward(a, training)
                entry.note(layer)
            entry.z, entry.a = dense.z, a
            divergence.check(entry.z, f"z({number + 1})", number, model.step, model.epoch)
            divergence.check(entry.a, f"a({number + 1})", number, model.step, model.epoch)
            entries.append(entry)
        trace = Trace(x=x, layers=entries, y_pred=a, training=training, step=model.step)
        model.trace, model.phase = trace, Phase.FORWARD
        return trace

    def fill_loss(self, trace: Trace, y: np.ndarray, labels: np.ndarray | None = None) -> None:
        """cost = mean over the batch of loss_i(y, ŷ), plus the regularisers' penalty (``labels``,
        the classes of one-hot targets, is FastStep's shortcut: not needed here)."""
        model = self.model
        trace.y = y
        trace.per_sample_loss = model.loss.per_sample(y, trace.y_pred)          # loss_i
        trace.loss = mean_loss(trace.per_sample_loss) + model.penalty()        # cost
        if not np.isfinite(trace.loss):
            raise Diverged("loss", None, model.step, model.epoch)

    def backward(self, check: bool = True) -> Trace:
        """δ(L) from the loss, then each layer's backward from the output down (see below). Every δ
        and gradient is tested as it is made (``check`` is FastStep's; here it changes nothing)."""
        model = self.model
        trace = model.trace
        if model.fused():
            delta, g = model.loss.fused_delta(trace.y, trace.y_pred), None     # δ(L) = ŷ − y
        else:
            delta, g = None, model.loss.gradient(trace.y, trace.y_pred)        # g = ∂loss/∂ŷ
        layers = model.trained_layers()
        for i in range(len(layers) - 1, -1, -1):
            # Dense holding W(l): δ(l+1) = g ⊙ f′(z(l+1)) (or the fused δ(L)); ∂cost/∂W(l), ∂cost/∂b(l);
            # then g = δ(l+1)·K(l)ᵀ for the layer below, whose δ(l) = g ⊙ f′(z(l)) = (W(l)ᵀ·δ(l+1)) ⊙ f′(z(l)).
            # Activation: g ⊙ f′; Dropout: g ⊙ mask. The first layer passes nothing down.
            g = layers[i].backward(g, need_input_grad=i > 0, delta=delta)
            delta = None                                   # only the output layer takes δ(L) directly
        dense_layers = model.dense_layers
        for entry, dense in zip(trace.layers, dense_layers):
            entry.delta, entry.dW, entry.db = dense.delta, dense.dW, dense.d_bias
        divergence.check_gradients(dense_layers, model.step, model.epoch)
        trace.phase = model.phase = Phase.BACKWARD
        return trace

    def apply_gradients(self, return_deltas: bool = True, check: bool = True) -> Trace:
        """The optimizer's rule on every W and b (SGD: W ← W − η·∂cost/∂W); ΔW and its state
        go into the trace when ``return_deltas``. The new weights are tested at once (``check``
        is FastStep's)."""
        model = self.model
        trace, dense_layers = model.trace, model.dense_layers
        params = [p for dense in dense_layers for p in dense.params()]
        grads = [g for dense in dense_layers for g in dense.grads()]
        trace.learning_rate = model.optimizer.current_learning_rate()          # η
        deltas = model.optimizer.apply(params, grads, return_deltas=return_deltas)   # W ← W − η·∂cost/∂W
        model.step += 1
        model.phase, trace.phase = Phase.READY, Phase.UPDATED
        if return_deltas:
            trace.fill_updates(dense_layers, deltas, model.optimizer.slots())
        divergence.check_weights(dense_layers, model.step, model.epoch)
        return trace

    def verify_weights(self) -> None:
        """Nothing to do: every update was tested when it was made."""


def mean_loss(per_sample: np.ndarray) -> float:
    """The batch's mean loss: the sum in the array's dtype, then / n in that dtype too (as
    engine.fast.meters.LabelMeter computes it for many batches at once); NaN for an empty batch."""
    return float(np.add.reduce(per_sample, axis=None) / per_sample.size) if per_sample.size else float("nan")

