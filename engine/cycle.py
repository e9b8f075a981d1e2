"""The lecture's training step, one phase at a time: forward → backward → apply_gradients.

``StepCycle`` is the part of ``Sequential`` (engine.models) that propagates a batch, sends the
error back and updates the weights, recording every number in a Trace (engine.trace). ``fit``
(engine.training) is built from exactly these three calls, so what the web app shows step by
step is what training does.
"""
from __future__ import annotations

import operator

import numpy as np

from . import divergence, packing
from .errors import Diverged, StepOrderError
from .layers import Activation, Dense, Dropout, Flatten
from .trace import LayerTrace, Trace


class StepCycle:
    """forward → backward → apply_gradients for a Sequential model (mixed into it)."""

    def _plan(self):
        """(groups, leading Flatten layers, Dense layers), worked out once per layer list."""
        plan = self.__dict__.get("_plan_cache")
        if plan is None or plan[0] != len(self.layers):
            groups = self._groups()
            flatten = [x for x in self.layers if isinstance(x, Flatten)]
            plan = self._plan_cache = (len(self.layers), groups, flatten, [g[0] for g in groups])
        return plan[1], plan[2], plan[3]

    def _backward_plan(self):
        """(Dense layers, index of the first Dense in self.layers, fused δ(L)?) for backward."""
        dense_layers = self._plan()[2]
        cached = self.__dict__.get("_backward_cache")
        if cached is None or cached[0] is not dense_layers or cached[1] is not self.loss:
            cached = self._backward_cache = (dense_layers, self.loss, self.layers.index(dense_layers[0]),
                                             self._fused())
        return dense_layers, cached[2], cached[3]

    def forward(self, x, y=None, training: bool = True) -> Trace:
        """Propagate a batch: z(l+1) = a(l)·W(l)ᵀ + b(l), a(l+1) = f(z(l+1)); the loss if ``y``."""
        x = self.prepare_x(x)
        trace = self._forward(x, training)
        if y is not None:
            self._fill_loss(trace, self.prepare_y(y, x.shape[0]))
        return trace

    def _forward(self, x: np.ndarray, training: bool = True) -> Trace:
        """``forward`` for inputs already checked by ``prepare_x`` (fit prepares them once)."""
        groups, flatten, _ = self._plan()
        block = self._blocks.get(x.shape[0])
        if block is None:
            self._make_block(x)
            block = self._blocks[x.shape[0]]
        out = x
        for layer in flatten:
            out = layer.forward(out, training)
        entries = []
        zs = []
        for number, (dense, rest) in enumerate(groups, start=1):
            entry = LayerTrace(number, dense.name, dense.activation.name, dense.W, dense.bias, out)
            out = dense.forward(out, training)
            entry.z = z = dense.z
            zs.append(z)
            for layer in rest:
                out = layer.forward(out, training)
                if isinstance(layer, Dropout):
                    entry.mask = layer.mask
                elif isinstance(layer, Activation):
                    outer, inner = layer.activation.name, entry.activation
                    if outer != "linear":          # linear∘f = f: an identity Activation changes nothing
                        entry.activation = outer if inner == "linear" else f"{outer}∘{inner}"
            entry.a = out
            entries.append(entry)
        # A non-finite a(l) makes z(l+1) non-finite, and non-finite weights make their z non-finite,
        # so z of every layer and ŷ suffice; where it first appeared is found only on failure.
        if out is block[1] and all(map(operator.is_, zs, block[2])):      # every z in the block
            finite = divergence.finite(block[0], block[3])
        else:
            finite = divergence.all_finite([*zs, out])
        if not finite:
            self._raise_forward_divergence(entries)
        trace = Trace(x=x, layers=entries, y_pred=out, training=training, step=self.step)
        self.trace, self.phase = trace, "forward"
        return trace

    def _make_block(self, x: np.ndarray) -> None:
        """The work arrays for batches of ``x.shape[0]`` rows, with every z(l+1) and ŷ in one block
        (engine.packing.batch_block) so that the forward's finiteness test is one dot product."""
        blocks = self._blocks
        groups, _, dense_layers = self._plan()
        if len(blocks) >= 4:              # as Dense keeps buffers for a few batch sizes only
            blocks.clear()
            for dense in dense_layers:
                dense.forget_buffers()
        plain = not any(rest for _, rest in groups) and x.dtype == self.dtype and x.ndim == 2
        blocks[x.shape[0]] = packing.batch_block(dense_layers, x.shape[0], x.shape[1]) if plain else \
            (None, None, (), None)

    def _fill_loss(self, trace: Trace, y: np.ndarray, labels: np.ndarray | None = None) -> None:
        """The batch's loss from targets ``y``; ``labels`` (the class index of each one-hot row of
        ``y``, given by fit for cross-entropy) takes the cheaper path with the same numbers."""
        trace.y = y
        if labels is None:
            per_sample = self.loss.per_sample(y, trace.y_pred)
        else:
            per_sample = self.loss.per_sample_labels(labels, trace.y_pred)
        trace.per_sample_loss = per_sample
        mean = np.add.reduce(per_sample, axis=None) / per_sample.size if per_sample.size else np.nan
        trace.loss = float(mean) + self.penalty()     # as np.mean: the sum in its dtype, then / n
        if not np.isfinite(trace.loss):
            raise Diverged("loss", None, self.step, self.epoch)

    def penalty(self) -> float:
        """Σ of the regularisers' penalties (0 without regularisers)."""
        total = 0.0
        for layer in self._plan()[2]:
            if layer.kernel_regularizer is not None or layer.bias_regularizer is not None:
                total += layer.penalty()
        return total

    def _fused(self) -> bool:
        """True when the output activation cancels against the loss (δ(L) = ŷ − y)."""
        last = self.layers[-1]
        act = last.activation.name if isinstance(last, (Dense, Activation)) else None
        return act is not None and act == self.loss.fused_activation

    def backward(self, y=None, check: bool = True, grad_scale: float | None = None) -> Trace:
        """Send the error back: δ(L) from the loss, δ(l) = (δ(l+1)·W(l)) ⊙ f′(z(l)), and the gradients.

        ``check=False`` (fit) leaves the finiteness test of δ and ∂cost/∂W to the next forward (a
        non-finite gradient makes the updated weights, and so the next z, non-finite), which
        then names the gradient where it first appeared; ``check=True`` tests them here.
        ``grad_scale`` r (fit, plain SGD) makes ∂cost/∂W and ∂cost/∂b come out multiplied by r.
        """
        self._require_compiled()
        if self.trace is None or self.phase != "forward":
            raise StepOrderError("backward() needs a forward pass first (forward → backward → update)")
        trace = self.trace
        if y is not None:
            self._fill_loss(trace, self.prepare_y(y, trace.batch_size))
        if trace.y is None:
            raise StepOrderError("backward() needs targets: pass y to forward() or backward()")
        dense_layers, first_dense, fused = self._backward_plan()
        delta = self.loss.fused_delta(trace.y, trace.y_pred) if fused else None
        grad = None if fused else self.loss.gradient(trace.y, trace.y_pred)
        layers = self.layers
        for i in range(len(layers) - 1, first_dense - 1, -1):
            grad = layers[i].backward(grad, need_input_grad=i > first_dense, delta=delta, grad_scale=grad_scale)
            delta = None
        for entry, dense in zip(trace.layers, dense_layers):
            entry.delta, entry.dW, entry.db = dense.delta, dense.dW, dense.d_bias
        self.grad_scale = grad_scale
        if check:
            self._raise_gradient_divergence(self.step)
        trace.phase, self.phase = "backward", "backward"
        return trace

    def apply_gradients(self, return_deltas: bool = True, check: bool = True, scaled: bool = False) -> Trace:
        """One optimizer update of every W and b; the trace gets ΔW, Δb and the optimizer's state.

        ``check=False`` (fit) defers the finiteness test of the new weights to the next forward
        (or ``verify_weights``, which fit calls at the end of every epoch). ``scaled=True`` (fit):
        backward ran with grad_scale = ``fold_rate()``, so W ← W − (the gradients).
        """
        self._require_compiled()
        if self.phase != "backward":
            raise StepOrderError("apply_gradients() needs gradients from backward() first; "
                                 "each backward pass can be applied only once")
        if scaled != (self.grad_scale is not None):
            raise ValueError(f"apply_gradients(scaled={scaled}) does not fit the gradients: backward ran with "
                             f"grad_scale={self.grad_scale!r}")
        if scaled and return_deltas:
            raise ValueError("apply_gradients(scaled=True) does not return ΔW; pass return_deltas=False")
        params, grads = self._weight_lists
        trace = self.trace
        trace.learning_rate = self.optimizer.current_learning_rate()
        if scaled:
            self.optimizer.apply_scaled(params, grads)
            deltas = None
        else:
            deltas = self.optimizer.apply(params, grads, return_deltas=return_deltas)
        self.step += 1
        self.phase, trace.phase = "ready", "updated"
        if return_deltas:
            self._fill_updates(trace, deltas)
        self._unchecked_update = True
        if check:
            self.verify_weights()
        return trace

    def fold_rate(self) -> float | None:
        """r for a folded step (backward(grad_scale=r), then apply_gradients(scaled=True)): the
        optimizer's plain_rate() (plain SGD's lr_t) when it is at most 1, else None. With r ≤ 1,
        r·∂cost/∂W is finite exactly when ∂cost/∂W is, so a divergence is named as without folding."""
        rate = self.optimizer.plain_rate()
        return rate if rate is not None and rate <= 1.0 else None

    def unfold_gradients(self) -> None:
        """Make the gradient arrays (and the trace's ∂cost/∂W, ∂cost/∂b) hold ∂cost/∂W itself again
        after a folded backward (to float rounding): fit calls it when an epoch ends early."""
        if self.grad_scale is not None:
            for g in self._weight_lists[1]:
                g /= g.dtype.type(self.grad_scale)
            self.grad_scale = None

    def verify_weights(self) -> None:
        """Raise Diverged if an unchecked update left a weight non-finite (see engine.divergence)."""
        divergence.verify_weights(self)

    def _raise_gradient_divergence(self, step: int) -> None:
        divergence.raise_gradient_divergence(self, step)

    def _raise_forward_divergence(self, entries) -> None:
        divergence.raise_forward_divergence(self, entries)

    def _fill_updates(self, trace: Trace, deltas: list[np.ndarray]) -> None:
        slots = self.optimizer.slots()
        position = 0
        for entry, dense in zip(trace.layers, self._plan()[2]):
            entry.dW_applied = deltas[position].T
            entry.slots = {name: values[position].T for name, values in slots.items() if len(values) > position}
            if dense.use_bias:
                entry.db_applied = deltas[position + 1]
            position += len(dense.params())

    def train_on_batch(self, x, y) -> float:
        """forward + backward + apply_gradients on one batch; returns the batch's loss."""
        trace = self.forward(x, y, training=True)
        self.backward()
        self.apply_gradients(return_deltas=False)
        return trace.loss
