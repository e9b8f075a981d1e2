"""Sequential: Keras' model API on top of an inspectable forward → backward → update cycle.

``forward``, ``backward`` and ``apply_gradients`` are the two phases of the lecture's training
loop (propagation, then weight update). The model checks their order and calls its step object,
``model.stepper``: engine/step.py's ``ReferenceStep``, where the lecture's equations are, or
engine/fast's ``FastStep`` (the same numbers, faster), which ``fit`` trains with.
"""
from __future__ import annotations

import numpy as np

from . import losses, optimizers
from . import metrics as metrics_mod
from .backend import as_float, floatx
from .errors import StepOrderError
from .layers import Activation, Dense, Dropout, Flatten, Layer
from .layers.dense import copy_into
from .saving import load_model  # noqa: F401  (Keras: ``from keras.models import Sequential, load_model``)
from .step import ReferenceStep
from .trace import Phase, Trace
from .utils import default_seed


class Sequential:
    """A linear stack of layers (``add``), trained with ``compile`` + ``fit``; the step itself
    (forward, backward, apply_gradients) is computed by ``self.stepper`` (engine/step.py)."""

    def __init__(self, layers=None, name: str | None = None, seed: int | None = None, dtype: str | None = None):
        self.name = name or "sequential"
        self.layers: list[Layer] = []                  # in order, input to output
        self.dtype = np.dtype(dtype or floatx())       # float32 unless asked otherwise
        self.seed = seed if seed is not None else default_seed()   # None: fresh entropy
        init_ss, shuffle_ss, dropout_ss = np.random.SeedSequence(self.seed).spawn(3)
        self.init_rng = np.random.default_rng(init_ss)         # initial weights
        self.shuffle_rng = np.random.default_rng(shuffle_ss)   # batch order in fit
        self.dropout_rng = np.random.default_rng(dropout_ss)   # dropout masks
        self.loss = self.optimizer = None
        self.metrics: dict[str, metrics_mod.Metric] = {}       # history key → metric
        self.trace: Trace | None = None     # the newest step's numbers
        self.phase = Phase.READY            # READY → FORWARD → BACKWARD → READY
        self.step = 0                       # weight updates applied so far
        self.epoch: int | None = None       # set by fit while it runs (for Diverged)
        self.stop_training = False          # a callback may set it to end fit early
        self.built = False
        self.stepper = ReferenceStep(self)  # computes forward, backward, apply_gradients
        self.fast_step = None               # the engine.fast.FastStep fit trains with (made on first use)
        for layer in layers or []:
            self.add(layer)

    # ----- building -------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer (Keras' ``model.add``); the model builds once the input width is known."""
        if not isinstance(layer, Layer):
            raise ValueError(f"add() takes a layer such as Dense(8), got {layer!r}")
        if isinstance(layer, Flatten) and any(isinstance(x, Dense) for x in self.layers):
            raise ValueError("Flatten is only supported before the first Dense layer")
        kind = type(layer).__name__.lower()
        if layer.name is None:
            layer.name = f"{kind}_{sum(type(x) is type(layer) for x in self.layers) + 1}"
        self.layers.append(layer)
        if self.built:
            self._width = self._build_layer(layer, self._width)
        elif self.layers[0].input_dim is not None and isinstance(layer, Dense):
            self.build(self.layers[0].input_dim)

    def build(self, input_dim: int) -> None:
        """Create every layer's weights for inputs of width ``input_dim``."""
        if self.built:
            return
        if not any(isinstance(x, Dense) for x in self.layers):
            raise ValueError("the model needs at least one Dense layer")
        width = int(input_dim)
        for layer in self.layers:
            width = self._build_layer(layer, width)
        self.input_dim, self._width, self.built = int(input_dim), width, True

    def _build_layer(self, layer: Layer, width: int) -> int:
        rng = self.dropout_rng if isinstance(layer, Dropout) else self.init_rng
        return layer.build(width, rng, self.dtype)

    @property
    def dense_layers(self) -> list[Dense]:
        """The Dense layers, input to output: the i-th (from 1) holds W(i) and b(i)."""
        return [x for x in self.layers if isinstance(x, Dense)]

    @property
    def output_units(self) -> int:
        return self.dense_layers[-1].units

    def leading_layers(self) -> list[Layer]:
        """The layers before the first Dense (Flatten)."""
        return self.layers[:self._first_dense()]

    def groups(self) -> list[tuple[Dense, list[Layer]]]:
        """Each Dense with the Activation/Dropout layers that follow it (one lecture layer)."""
        groups = []
        for layer in self.trained_layers():
            if isinstance(layer, Dense):
                groups.append((layer, []))
            else:
                groups[-1][1].append(layer)
        return groups

    def trained_layers(self) -> list[Layer]:
        """The layers from the first Dense to the output: those backward goes through."""
        return self.layers[self._first_dense():]

    def _first_dense(self) -> int:
        return next(i for i, layer in enumerate(self.layers) if isinstance(layer, Dense))

    def fused(self) -> bool:
        """True when the output activation cancels against the loss, so that δ(L) = ŷ − y
        (the loss's ``fused_delta``): softmax with cross-entropy, sigmoid with binary cross-entropy."""
        last = self.layers[-1]
        act = last.activation.name if isinstance(last, (Dense, Activation)) else None
        return act is not None and act == self.loss.fused_activation

    def penalty(self) -> float:
        """Σ of the regularisers' penalties (0 without regularisers)."""
        return sum(dense.penalty() for dense in self.dense_layers
                   if dense.kernel_regularizer is not None or dense.bias_regularizer is not None)

    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the loss, the optimizer (name, dict or instance) and the reported metrics."""
        if loss is None:
            raise ValueError(f"compile() needs a loss. Valid names: {', '.join(losses.registry.all_names())}")
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self._metric_ids = list(metrics or [])
        self._resolve_metrics()
        self.phase, self.trace = Phase.READY, None

    def _resolve_metrics(self) -> None:
        units = self.output_units if self.dense_layers else None
        self.metrics = {str(m): metrics_mod.get(m, loss=self.loss, output_units=units) for m in self._metric_ids}

    def _require_compiled(self) -> None:
        if self.loss is None or self.optimizer is None:
            raise StepOrderError("the model is not compiled: call compile(optimizer, loss) first")

    # ----- data checks ----------------------------------------------------------------
    def prepare_x(self, x) -> np.ndarray:
        """``x`` as a float array of rows; builds the model from its width if needed."""
        arr = as_float(x, self.dtype)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1) if self.built and arr.size == self.input_dim else arr.reshape(-1, 1)
        if arr.ndim > 2 and not (self.layers and isinstance(self.layers[0], Flatten)):
            raise ValueError(f"inputs must be rows (batch, features); got shape {arr.shape}. Flatten them first.")
        width = int(np.prod(arr.shape[1:]))
        if not self.built:
            self.build(width)
        elif width != self.input_dim:
            first = self.dense_layers[0]
            raise ValueError(f"Layer {first.name!r} expects inputs of shape (batch, {self.input_dim}), got {arr.shape}")
        return arr

    def prepare_y(self, y, n: int) -> np.ndarray:
        """Targets checked against the output layer: one-hot/real rows, or labels for sparse losses."""
        self._require_compiled()
        units, out = self.output_units, self.dense_layers[-1]
        if self.loss.targets == "sparse":
            arr = np.asarray(y).reshape(-1)
            if arr.shape[0] != n:
                raise ValueError(f"got {arr.shape[0]} labels for {n} samples")
            if arr.size and (arr.min() < 0 or arr.max() >= units or np.any(arr != np.round(arr))):
                raise ValueError(f"sparse labels must be integers in [0, {units - 1}] to fit layer {out.name!r}")
            return arr.astype(np.int64)
        arr = as_float(y, self.dtype)
        if arr.ndim == 1 and units == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape != (n, units):
            raise ValueError(
                f"targets of shape {arr.shape} do not fit output layer {out.name!r} of shape (batch, {units})"
                f" for {n} samples" + (" (one-hot encode class labels with to_categorical)" if arr.ndim == 1 else "")
            )
        return arr

    # ----- the step, one phase at a time (computed by self.stepper) -----------------------
    def forward(self, x, y=None, training: bool = True) -> Trace:
        """Propagate a batch: z(l+1) = W(l)·a(l) + b(l), a(l+1) = f(z(l+1)); the loss too if ``y``."""
        x = self.prepare_x(x)
        trace = self.stepper.forward(x, training)
        if y is not None:
            self.stepper.fill_loss(trace, self.prepare_y(y, x.shape[0]))
        return trace

    def backward(self, y=None) -> Trace:
        """Send the error back: δ(L) from the loss, δ(l) = (W(l)ᵀ·δ(l+1)) ⊙ f′(z(l)), and every
        ∂cost/∂W(l), ∂cost/∂b(l). ``y``: the targets, if forward was given none."""
        self._require_compiled()
        if self.trace is None or self.phase != Phase.FORWARD:
            raise StepOrderError("backward() needs a forward pass first (forward → backward → update)")
        if y is not None:
            self.stepper.fill_loss(self.trace, self.prepare_y(y, self.trace.batch_size))
        if self.trace.y is None:
            raise StepOrderError("backward() needs targets: pass y to forward() or backward()")
        return self.stepper.backward()

    def apply_gradients(self, return_deltas: bool = True) -> Trace:
        """One optimizer update of every W and b (SGD: W ← W − η·∂cost/∂W); with
        ``return_deltas`` the trace gets ΔW, Δb and the optimizer's state."""
        self._require_compiled()
        if self.phase != Phase.BACKWARD:
            raise StepOrderError("apply_gradients() needs gradients from backward() first; "
                                 "each backward pass can be applied only once")
        return self.stepper.apply_gradients(return_deltas=return_deltas)

    def train_on_batch(self, x, y) -> float:
        """forward + backward + apply_gradients on one batch; returns the batch's loss."""
        trace = self.forward(x, y, training=True)
        self.backward()
        self.apply_gradients(return_deltas=False)
        return trace.loss

    def verify_weights(self) -> None:
        """Raise Diverged if an update whose test was deferred (engine.fast) left a weight non-finite."""
        for stepper in {id(s): s for s in (self.stepper, self.fast_step) if s is not None}.values():
            stepper.verify_weights()

    # ----- Keras' training API (the loop itself is in training.py) ------------------------
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over the data; returns a History (see engine.training.fit)."""
        from .training import fit
        return fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                   validation_split=validation_split, validation_data=validation_data,
                   shuffle=shuffle, initial_epoch=initial_epoch)

    def predict(self, x, batch_size: int | None = None, verbose=0) -> np.ndarray:
        """ŷ for every row of ``x`` (inference: no dropout); the training trace is left alone."""
        x = self.prepare_x(x)
        step = int(batch_size or 4096)
        chunks = []
        for start in range(0, x.shape[0], step):
            out = x[start:start + step]
            for layer in self.layers:
                out = _infer(layer, out)
            chunks.append(out)
        return np.concatenate(chunks) if chunks else np.zeros((0, self.output_units), self.dtype)

    def layer_outputs(self, x) -> list[np.ndarray]:
        """a(l+1) of every Dense layer (with the Activation after it) for the rows of ``x``, at
        inference (no dropout); the training trace is left alone. The last one is ŷ."""
        out, outputs = self.prepare_x(x), []
        for layer in self.layers:
            out = _infer(layer, out)
            if isinstance(layer, Dense):
                outputs.append(out)
            elif isinstance(layer, Activation) and outputs:
                outputs[-1] = out
        return outputs

    def predict_classes(self, x, batch_size: int | None = None) -> np.ndarray:
        """The class of each row: argmax of ŷ, or ŷ > 0.5 for a single output unit."""
        y_pred = self.predict(x, batch_size)
        if y_pred.shape[-1] == 1:
            return (y_pred[:, 0] > 0.5).astype(np.int64)
        return np.argmax(y_pred, axis=-1)

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """[loss, *metrics] over the whole data set (the loss alone when there are no metrics)."""
        from .training import evaluate
        logs = evaluate(self, x, y)
        if return_dict:
            return logs
        values = list(logs.values())
        return values if len(values) > 1 else values[0]

    # ----- weights and description -------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of [K1, b1, K2, b2, ...] in Keras' layout: K has shape (inputs, units)."""
        return [p.copy() for dense in self.dense_layers for p in dense.params()]

    def set_weights(self, weights) -> None:
        """Overwrite every kernel and bias (Keras' layout); the shapes must match exactly."""
        params = [(dense, p) for dense in self.dense_layers for p in dense.params()]
        if len(weights) != len(params):
            raise ValueError(f"set_weights expected {len(params)} arrays, got {len(weights)}")
        for (dense, p), w in zip(params, weights):
            copy_into(p, w, dense.name, "weight")

    def count_params(self) -> int:
        return sum(p.size for dense in self.dense_layers for p in dense.params())

    def summary(self, print_fn=print) -> None:
        """Print each layer's type, output shape and parameter count, as Keras does."""
        rows, width = [], getattr(self, "input_dim", None)
        for layer in self.layers:
            if isinstance(layer, Dense):
                width = layer.units
            count = sum(p.size for p in layer.params()) if isinstance(layer, Dense) and layer.built else 0
            rows.append((f"{layer.name} ({type(layer).__name__})", f"(None, {width})", f"{count:,}"))
        line = "─" * 62
        print_fn(f'Model: "{self.name}"\n{line}\n{"Layer (type)":<28}{"Output Shape":<20}{"Param #":>12}\n{line}')
        for name, shape, count in rows:
            print_fn(f"{name:<28}{shape:<20}{count:>12}")
        print_fn(f"{line}\nTotal params: {self.count_params() if self.built else 0:,}\n{line}")

    def save(self, path) -> None:
        """Save as a JSON config + ``.npz`` weights (never pickle); see engine.saving."""
        from .saving import save_model
        save_model(self, path)


def _infer(layer: Layer, x: np.ndarray) -> np.ndarray:
    """Inference through one layer without touching what its training forward stored."""
    if isinstance(layer, Dense):
        z = x @ layer.kernel
        if layer.use_bias:
            z += layer.bias
        return layer.activation.forward(z)
    if isinstance(layer, Activation):
        return layer.activation.forward(x)
    if isinstance(layer, Flatten):
        return x.reshape(x.shape[0], -1)
    return x   # Dropout is the identity at inference

