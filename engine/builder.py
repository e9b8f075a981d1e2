"""Build a compiled Sequential from plain data (the server's and the CLI's configs)."""
from __future__ import annotations

from . import losses, regularizers
from .errors import ConfigError
from .layers import Dense, Dropout
from .models import Sequential

OUTPUT_UNITS = ("layers", -1, "units")     # the parameter an output-size mismatch concerns


def default_loss(kind: str, n_classes: int | None) -> str:
    """Categorical cross-entropy for classification, mean squared error for regression."""
    return "categorical_crossentropy" if kind == "classification" else "mean_squared_error"


def build_model(input_dim: int, layers: list[dict], loss: str, optimizer, metrics=None,
                kernel_initializer="glorot_uniform", bias_initializer="zeros",
                seed: int | None = 0, dtype: str | None = None, regularization: dict | None = None) -> Sequential:
    """``layers`` = [{"units": 8, "activation": "tanh", "dropout": 0.0}, ...], output layer last.

    Every Dense gets the same initializers; a positive ``dropout`` adds a Dropout after it.
    ``regularization`` {"l1": a, "l2": b} puts the penalty a·Σ|W| + b·ΣW² on every kernel (a
    layer's own "regularization" replaces it for that layer; zeros: none).
    """
    if not layers:
        raise ConfigError("layers must list at least the output layer", ("layers",))
    model = Sequential(seed=seed, dtype=dtype)
    for i, spec in enumerate(layers):
        extra = {"input_dim": int(input_dim)} if i == 0 else {}
        model.add(Dense(int(spec["units"]), activation=spec.get("activation") or "linear",
                        use_bias=spec.get("use_bias", True), kernel_initializer=kernel_initializer,
                        bias_initializer=bias_initializer,
                        kernel_regularizer=kernel_penalty(spec.get("regularization") or regularization), **extra))
        if spec.get("dropout"):
            model.add(Dropout(float(spec["dropout"])))
    model.compile(optimizer=optimizer, loss=losses.get(loss), metrics=metrics or [])
    return model


def kernel_penalty(spec: dict | None) -> regularizers.Regularizer | None:
    """{"l1": a, "l2": b} as the regularizer it names: L1, L2, L1L2, or None when both are 0."""
    l1, l2 = (float((spec or {}).get("l1") or 0.0), float((spec or {}).get("l2") or 0.0))
    if not l1 and not l2:
        return None
    if l1 and l2:
        return regularizers.L1L2(l1=l1, l2=l2)
    return regularizers.L1(l1) if l1 else regularizers.L2(l2)


def penalty_spec(regularizer) -> dict | None:
    """The {"l1", "l2"} rates of a kernel regularizer (None without one): ``kernel_penalty``'s inverse."""
    if regularizer is None:
        return None
    config = regularizer.get_config()
    return {"l1": float(config.get("l1", 0.0)), "l2": float(config.get("l2", 0.0))}


def check_output(model: Sequential, kind: str, n_classes: int | None, n_targets: int = 1) -> None:
    """ValueError naming the output layer when its width does not fit the data set."""
    out = model.dense_layers[-1]
    if model.loss.targets == "sparse" and kind != "classification":
        raise ConfigError(f"loss {model.loss.name!r} takes class labels; a {kind} data set has real-valued "
                         "targets (use mean_squared_error or mean_absolute_error)", ("loss",))
    want = n_classes if kind == "classification" else n_targets
    if binary_unit(model, kind, n_classes):
        return
    if model.loss.targets == "sparse" or kind == "classification":
        if out.units != want:
            raise ConfigError(f"output layer {out.name!r} has {out.units} units but the data set has {want} "
                              "classes", OUTPUT_UNITS)
    elif out.units != want:
        raise ConfigError(f"output layer {out.name!r} has {out.units} units but the data set has {want} "
                          "target(s)", OUTPUT_UNITS)


def binary_unit(model: Sequential, kind: str, n_classes: int | None) -> bool:
    """Keras' idiom for two classes: one sigmoid unit trained with binary cross-entropy on 0/1
    targets (ŷ = P(class 1)), instead of two softmax units on one-hot rows."""
    return (kind == "classification" and n_classes == 2 and model.dense_layers[-1].units == 1
            and model.loss.name == "binary_crossentropy")
