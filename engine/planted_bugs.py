"""Find the bug: five mistakes one can make writing backpropagation by hand, planted on purpose.

Nothing else in the engine imports this module: a model trains through it only when someone asks
(``PlantedStep(model, bug, layer)`` as its run's stepper; the web server's POST .../bug). Each bug is
ReferenceStep (engine/step.py) with one line changed, marked ``# BUG`` below. ``layer`` is always the
l whose ∂cost/∂W(l) goes wrong first (where the gradient check points):

  missing_f_prime   δ(l+1) = W(l+1)ᵀ·δ(l+2), the ⊙ f′(z(l+1)) left out in that one layer (a layer with
                    a non-linear f, not a fused output). Wrong: ∂cost/∂W(l) and every layer below.
  no_batch_mean     ∂cost/∂W(l) = δ(l+1)·a(l)ᵀ summed over the batch, the 1/batch forgotten (and in
                    ∂cost/∂b(l)): each step of layer l is batch times too long (batch 1: no difference).
  update_sign       W(l) ← W(l) + η·∂cost/∂W(l) (and b(l)): layer l climbs the cost. ∂cost/∂W itself is
                    right, so the check reads the gradient the update descends along, −∂cost/∂W(l) here.
  softmax_chain     softmax + cross-entropy: instead of the fused δ(L) = ŷ − y, the unfused chain
                    ∂loss/∂ŷ ⊙ f′(z(L)) with softmax's f′ taken element by element as a(1 − a) (its
                    Jacobian's diagonal; the off-diagonal −a_k·a_j terms forgotten). Output layer only.
  transposed_W      the transpose in δ(l+1) = (W(l+1)ᵀ·δ(l+2)) ⊙ f′(z(l+1)) goes wrong: W(l+1) is read
                    *reshaped* to (units of l+1, units of l+2) instead of transposed. For a square
                    W(l+1) that is exactly W(l+1)·δ(l+2) (the ᵀ forgotten); for any other shape it is
                    the same mistake as code makes it (reshape for transpose: the entries read in the
                    wrong order), which keeps every shape right. Needs a layer above l (l < L − 1)
                    whose W(l+1) has more than one row and column (otherwise both read the same).
"""
from __future__ import annotations

import numpy as np

from . import divergence
from .step import ReferenceStep
from .trace import Phase

MISSING_F_PRIME, NO_BATCH_MEAN, UPDATE_SIGN, SOFTMAX_CHAIN, TRANSPOSED_W = (
    "missing_f_prime", "no_batch_mean", "update_sign", "softmax_chain", "transposed_W")
NAMES = (MISSING_F_PRIME, NO_BATCH_MEAN, UPDATE_SIGN, SOFTMAX_CHAIN, TRANSPOSED_W)
TITLES = {
    MISSING_F_PRIME: "f′(z) left out in one layer",
    NO_BATCH_MEAN: "the 1/batch of the mean forgotten",
    UPDATE_SIGN: "the sign of the update flipped",
    SOFTMAX_CHAIN: "softmax + cross-entropy through the unfused chain",
    TRANSPOSED_W: "W transposed wrongly in the backward pass",
}
RIGHT_AND_WRONG = {     # (what the step should compute, what the planted step computes), layer l
    MISSING_F_PRIME: ("δ({l1}) = (W({l1})ᵀ·δ({l2})) ⊙ f′(z({l1}))", "δ({l1}) = W({l1})ᵀ·δ({l2})"),
    NO_BATCH_MEAN: ("∂cost/∂W({l}) = (1/batch) Σ δ({l1})·a({l})ᵀ", "∂cost/∂W({l}) = Σ δ({l1})·a({l})ᵀ"),
    UPDATE_SIGN: ("W({l}) ← W({l}) − η·∂cost/∂W({l})", "W({l}) ← W({l}) + η·∂cost/∂W({l})"),
    SOFTMAX_CHAIN: ("δ({l1}) = ŷ − y", "δ({l1}) = ∂loss/∂ŷ ⊙ ŷ(1 − ŷ)"),
    TRANSPOSED_W: ("δ({l1}) = (W({l1})ᵀ·δ({l2})) ⊙ f′(z({l1}))",
                   "δ({l1}) = (W({l1}) read reshaped·δ({l2})) ⊙ f′(z({l1}))"),
}


def layers_for(model, bug: str) -> list[int]:
    """The layers l where ``bug`` can be planted in ``model`` (empty: it does not fit this network)."""
    dense = model.dense_layers
    last = len(dense)
    if bug == MISSING_F_PRIME:
        return [n for n, d in enumerate(dense, start=1)
                if d.activation.name != "linear" and not (n == last and model.fused())]
    if bug in (NO_BATCH_MEAN, UPDATE_SIGN):
        return list(range(1, last + 1))
    if bug == SOFTMAX_CHAIN:
        return [last] if model.fused() and dense[-1].activation.name == "softmax" else []
    if bug == TRANSPOSED_W:       # a W(l+1) with one row or column reads the same reshaped or transposed
        return [n for n in range(1, last) if min(dense[n].kernel.shape) > 1]
    raise ValueError(f"unknown bug {bug!r}; the bugs are {', '.join(NAMES)}")


def choose(model, bug: str = "random", layer: int | None = None, rng: np.random.Generator | None = None):
    """(bug, layer): the named bug (or a random one that fits) in ``layer`` (or a random layer where it
    fits). ValueError when it does not fit, saying where it would."""
    rng = rng or np.random.default_rng(0)
    if bug == "random":
        fitting = [b for b in NAMES if (layer in layers_for(model, b) if layer else layers_for(model, b))]
        if not fitting:
            raise ValueError(f"no bug fits layer {layer}")
        bug = fitting[int(rng.integers(len(fitting)))]
    where = layers_for(model, bug)
    if not where:
        raise ValueError(f"{bug} does not fit this network (it needs a softmax output trained with "
                         "cross-entropy)" if bug == SOFTMAX_CHAIN else f"{bug} does not fit this network")
    if layer is None:
        layer = where[int(rng.integers(len(where)))]
    elif layer not in where:
        raise ValueError(f"{bug} can be planted in layer {', '.join(map(str, where))}, not {layer}")
    return bug, int(layer)


def explain(bug: str, layer: int, output: bool = False) -> dict:
    """The bug's title and the line it changed, right and wrong, with the layer's numbers (``output``:
    layer l feeds the output layer, whose δ(L) starts from ∂loss/∂ŷ)."""
    right, wrong = RIGHT_AND_WRONG[bug]
    if output and bug == MISSING_F_PRIME:
        right, wrong = "δ({l1}) = ∂loss/∂ŷ ⊙ f′(z({l1}))", "δ({l1}) = ∂loss/∂ŷ"
    numbers = {"l": layer, "l1": layer + 1, "l2": layer + 2}
    return {"bug": bug, "layer": layer, "title": TITLES[bug], "right": right.format(**numbers),
            "planted": wrong.format(**numbers)}


class PlantedStep(ReferenceStep):
    """ReferenceStep with ``bug`` planted so that ∂cost/∂W(``layer``) is the first gradient to go wrong."""

    def __init__(self, model, bug: str, layer: int):
        super().__init__(model)
        self.bug, self.layer = choose(model, bug, layer)
        # the Dense whose backward is changed: transposed_W is in the one above, which passes g down
        self.target = self.layer + 1 if self.bug == TRANSPOSED_W else self.layer

    def backward(self, check: bool = True):
        """ReferenceStep.backward, with the planted Dense's backward replaced by ``planted_backward``."""
        model, trace = self.model, self.model.trace
        if model.fused() and self.bug != SOFTMAX_CHAIN:
            delta, g = model.loss.fused_delta(trace.y, trace.y_pred), None     # δ(L) = ŷ − y
        else:
            delta, g = None, model.loss.gradient(trace.y, trace.y_pred)        # g = ∂loss/∂ŷ
        layers, number = model.trained_layers(), len(model.dense_layers)
        for i in range(len(layers) - 1, -1, -1):
            if layers[i] in model.dense_layers and number == self.target:
                g = planted_backward(layers[i], g, i > 0, delta, self.bug)
            else:
                g = layers[i].backward(g, need_input_grad=i > 0, delta=delta)
            number -= layers[i] in model.dense_layers
            delta = None
        for entry, dense in zip(trace.layers, model.dense_layers):
            entry.delta, entry.dW, entry.db = dense.delta, dense.dW, dense.d_bias
        divergence.check_gradients(model.dense_layers, model.step, model.epoch)
        trace.phase = model.phase = Phase.BACKWARD
        return trace

    def gradients_used(self, number: int):
        """(∂cost/∂K, ∂cost/∂b) of Dense ``number`` as the update uses them (update_sign: negated)."""
        dense = self.model.dense_layers[number - 1]
        if self.bug == UPDATE_SIGN and number == self.layer:
            return -dense.d_kernel, None if dense.d_bias is None else -dense.d_bias
        return dense.d_kernel, dense.d_bias

    def apply_gradients(self, return_deltas: bool = True, check: bool = True):
        """ReferenceStep.apply_gradients on ``gradients_used``: update_sign's W ← W + η·∂cost/∂W."""
        model = self.model
        trace, dense_layers = model.trace, model.dense_layers
        params = [p for dense in dense_layers for p in dense.params()]
        grads = [g for n in range(1, len(dense_layers) + 1) for g in self.gradients_used(n) if g is not None]
        trace.learning_rate = model.optimizer.current_learning_rate()
        deltas = model.optimizer.apply(params, grads, return_deltas=return_deltas)   # BUG (update_sign)
        model.step += 1
        model.phase, trace.phase = Phase.READY, Phase.UPDATED
        if return_deltas:
            trace.fill_updates(dense_layers, deltas, model.optimizer.slots())
        divergence.check_weights(dense_layers, model.step, model.epoch)
        return trace


def planted_backward(dense, g, need_input_grad: bool, delta, bug: str):
    """Dense.backward (engine/layers/dense.py) with the planted line; returns the g passed down."""
    if bug == MISSING_F_PRIME:
        delta = g                                                   # BUG: δ = g, the ⊙ f′(z) left out
    elif bug == SOFTMAX_CHAIN:
        delta = g * dense.activation.derivative(dense.z, dense.a)   # BUG: softmax's Jacobian as a(1 − a)
    elif delta is None:
        delta = dense.activation.backward(dense.z, dense.a, g)     # δ = g ⊙ f′(z)
    dense.delta = delta
    batch = 1 if bug == NO_BATCH_MEAN else delta.shape[0]           # BUG (no_batch_mean): no 1/batch
    delta_mean = delta / batch
    dense.d_kernel = dense.a_in.T @ delta_mean                      # ∂cost/∂K = aᵀ·δ / batch
    if dense.kernel_regularizer is not None:
        dense.d_kernel += dense.kernel_regularizer.gradient(dense.kernel)
    if dense.use_bias:
        dense.d_bias = delta_mean.sum(axis=0)                       # ∂cost/∂b = mean of δ over rows
        if dense.bias_regularizer is not None:
            dense.d_bias += dense.bias_regularizer.gradient(dense.bias)
    if not need_input_grad:
        return None
    if bug == TRANSPOSED_W:
        W = dense.kernel.reshape(dense.kernel.shape[::-1])          # BUG: W = K reshaped, not K transposed
        return delta @ W                                            # (square: δ·K = δ·Wᵀ instead of δ·W)
    return delta @ dense.kernel.T                                   # g passed down = δ·Kᵀ = δ·W
