"""Request and answer bodies. Static bounds live here; the limits of ``Settings`` are checked by
``check_limits`` (they differ per app), and both answer 422 naming the field."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationInfo, field_validator

from engine import activations, initializers, losses, optimizers
from engine.datasets import names as dataset_names

from .errors import Unprocessable
from .settings import Settings

LR_HELP = "Learning rate in (0, 100]."
# Static bounds on list lengths: validation stops there, whatever the server's Settings (which
# check_limits applies after, with their own exact numbers).
MAX_LAYER_ENTRIES = 64      # entries of "layers" (Settings.max_layers is 8)
MAX_RATE_ENTRIES = 64       # entries of "learning_rates" (Settings.max_learning_rates is 8)
MAX_INDEX_ENTRIES = 4096    # entries of "indices" (Settings.max_indices is 1024)
# Numbers are strict: true/false (and "1") are refused where a number is expected; an integer such
# as 1 is still a valid float.
# The one default session: what POST /api/sessions builds from an empty body, what /api/options
# publishes as "defaults", and what the page starts with (a tiny net on XOR that learns in seconds).
DEFAULT_SESSION = {
    "dataset": {"name": "xor", "noise": 0.05, "train_fraction": 0.5, "seed": 0},
    "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"},
               {"units": 2, "activation": "softmax"}],
    "loss": "categorical_crossentropy", "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "batch_size": 16, "seed": 0,
}

PRESETS = {       # one click each on the page; each is a valid POST /api/sessions body
    "lecture_mnist": {
        "title": "MNIST, as in the lecture",
        "description": "784-128-64-10, ReLU and softmax, SGD η 0.05 with momentum 0.9, batch 128.",
        "session": {"dataset": {"name": "mnist"}, "loss": "categorical_crossentropy",
                    "layers": [{"units": 128, "activation": "relu"}, {"units": 64, "activation": "relu"},
                               {"units": 10, "activation": "softmax"}],
                    "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
                    "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                    "batch_size": 128, "seed": 0}},
    "lecture_figure": {
        "title": "The lecture's figure",
        "description": "Three hidden layers of sigmoid units and a softmax output, on the spiral.",
        "session": {"dataset": {"name": "spiral", "seed": 0}, "loss": "categorical_crossentropy",
                    "layers": [{"units": 6, "activation": "sigmoid"}, {"units": 6, "activation": "sigmoid"},
                               {"units": 6, "activation": "sigmoid"}, {"units": 2, "activation": "softmax"}],
                    "optimizer": {"name": "sgd", "learning_rate": 1.0}, "kernel_initializer": "glorot_uniform",
                    "bias_initializer": "zeros", "batch_size": 16, "seed": 0}},
}


def _known(registry, family: str, value: str) -> str:
    """``value`` if ``registry`` knows it (aliases and any case too), else a ValueError listing the names."""
    if str(value).lower() not in registry.all_names():
        raise ValueError(f"unknown {family} {value!r}; valid names: {', '.join(registry.names())}")
    return value


class RegularizationSpec(BaseModel):
    """The penalty l1·Σ|W| + l2·ΣW² on kernels, added to the cost; ∂cost/∂W gets l1·sign(W) + 2·l2·W."""

    model_config = ConfigDict(extra="forbid")
    l1: StrictFloat = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False, description="Rate of the L1 penalty Σ|W|.")
    l2: StrictFloat = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False, description="Rate of the L2 penalty ΣW².")


class LayerSpec(BaseModel):
    """One Dense layer (the last one is the output layer)."""

    model_config = ConfigDict(extra="forbid")
    units: StrictInt = Field(ge=1, description="Number of units.")
    activation: str = Field("linear", description="Name of f, e.g. tanh, relu, softmax.")
    dropout: StrictFloat = Field(0.0, ge=0.0, lt=1.0, allow_inf_nan=False, description="Dropout rate after it.")
    regularization: RegularizationSpec | None = Field(None, description="This layer's kernel penalty "
                                                      "(replaces the network's regularization).")

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        return _known(activations.registry, "activation", v)


class DatasetSpec(BaseModel):
    """A registered data set and its options (see /api/options)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(description="Data set name, e.g. spiral, circle, plane, mnist.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v not in dataset_names():
            raise ValueError(f"unknown data set {v!r}; valid names: {', '.join(dataset_names())}")
        return v

    def options(self) -> dict:
        return dict(self.model_extra or {})


class OptimizerSpec(BaseModel):
    """An optimizer by name, with its learning rate and other hyperparameters (see /api/options)."""

    model_config = ConfigDict(extra="allow")
    name: str = "sgd"
    learning_rate: StrictFloat | None = Field(None, gt=0, le=100, allow_inf_nan=False,
                                              description=LR_HELP + " Default: the optimizer's.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _known(optimizers.registry, "optimizer", v)


class SessionCreate(BaseModel):
    """A training session: data set, layers (output last), loss, optimizer, initializers, batch size, seed."""

    model_config = ConfigDict(extra="forbid")
    dataset: DatasetSpec = Field(default_factory=lambda: DatasetSpec(**DEFAULT_SESSION["dataset"]),
                                 description="Default: xor (see /api/options defaults).")
    layers: list[LayerSpec] = Field(default_factory=lambda: [LayerSpec(**x) for x in DEFAULT_SESSION["layers"]],
                                    min_length=1, max_length=MAX_LAYER_ENTRIES,
                                    description="Output layer last. Default: 8 tanh, 8 tanh, 2 softmax.")
    loss: str | None = Field(None, description="Default: categorical_crossentropy for classification, "
                             "mean_squared_error for regression.")
    optimizer: OptimizerSpec = Field(default_factory=lambda: OptimizerSpec(**DEFAULT_SESSION["optimizer"]))
    kernel_initializer: str = DEFAULT_SESSION["kernel_initializer"]
    bias_initializer: str = DEFAULT_SESSION["bias_initializer"]
    batch_size: StrictInt = Field(DEFAULT_SESSION["batch_size"], ge=1)
    seed: StrictInt = Field(DEFAULT_SESSION["seed"], ge=0, le=2**32 - 1)
    regularization: RegularizationSpec | None = Field(None, description="L1 / L2 / L1+L2 penalty on every "
                                                      "kernel (a layer's own replaces it); none by default.")

    @field_validator("loss")
    @classmethod
    def _loss(cls, v):
        return v if v is None else _known(losses.registry, "loss", v)

    @field_validator("kernel_initializer", "bias_initializer")
    @classmethod
    def _init(cls, v: str) -> str:
        return _known(initializers.registry, "initializer", v)


class CompareCreate(SessionCreate):
    """A session config plus the rates to compare (or ``mode: range_test`` and its range)."""

    mode: Literal["compare", "range_test"] = "compare"
    learning_rates: list[StrictFloat] = Field(default_factory=list, max_length=MAX_RATE_ENTRIES,
                                              description="Rates in (0, 100]; numbers only (true/false "
                                              "and strings are refused).")
    epochs: StrictInt = Field(5, ge=1)
    min_lr: StrictFloat = Field(1e-5, gt=0, le=100, allow_inf_nan=False)
    max_lr: StrictFloat = Field(10.0, gt=0, le=100, allow_inf_nan=False)
    steps: StrictInt | None = Field(None, ge=2, description="Range test batches (default: one pass).")
    grid: dict[str, list[Any]] | None = Field(None, description="A sweep: every combination of these axes' "
                                              "values (learning_rate, optimizer, batch_size, kernel_initializer, "
                                              "activation, layers, seed).")
    runs: list[dict[str, Any]] | None = Field(None, description="A sweep: one run per entry, each a dict of "
                                              "those axes' values (overrides of the session config).")
    seeds: list[StrictInt] | None = Field(None, min_length=1, max_length=10, description="Range test: one per "
                                          "seed (weights and batch order), suggested from their mean curve.")

    @field_validator("learning_rates")
    @classmethod
    def _rates(cls, v: list[float]) -> list[float]:
        for i, rate in enumerate(v):
            if not (isinstance(rate, (int, float)) and 0 < rate <= 100):
                raise ValueError(f"learning_rates[{i}] = {rate!r} must be in (0, 100]")
        return v


class ForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indices: list[StrictInt] | None = Field(None, max_length=MAX_INDEX_ENTRIES,
                                            description="Training rows to look at (a one-off batch).")


class OptimizerPatch(BaseModel):
    """New optimizer hyperparameters (any of /api/options'), or a new optimizer ``name``. Those left out
    keep their current values (the new optimizer's defaults when ``name`` changes the optimizer)."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, description="Another optimizer (its state starts afresh).")
    learning_rate: StrictFloat | None = Field(None, gt=0, le=100, allow_inf_nan=False, description=LR_HELP)

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return v if v is None else _known(optimizers.registry, "optimizer", v)


class SessionPatch(BaseModel):
    """Change the optimizer's hyperparameters and/or the batch size mid-session; the weights are kept.

    The optimizer's state (momenta, averages, iteration count) is kept when it stays the same optimizer
    (slots it did not have start at their initial value); another optimizer starts with a fresh state.
    A new batch size applies immediately: the next batch drawn has the new size, and the epoch goes on
    through the same shuffled order of rows. The answer's ``changes`` says what was kept."""

    model_config = ConfigDict(extra="forbid")
    optimizer: OptimizerPatch | None = None
    batch_size: StrictInt | None = Field(None, ge=1, description="Samples per batch, from the next batch on.")
    regularization: RegularizationSpec | None = Field(None, description="The kernel penalty of every layer "
                                                      "from the next step on (zeros: none).")


class SessionPatched(BaseModel):
    id: str
    config: dict[str, Any]
    state: dict[str, Any]
    dataset: dict[str, Any] | None = None
    changes: dict[str, Any]


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: Literal["initial", "new"] = Field("initial", description="initial: the same initial "
                                               "weights again; new: fresh weights from seed (or a new one).")
    seed: StrictInt | None = Field(None, ge=0, le=2**32 - 1, description="Only with weights: new.")

    @field_validator("seed")
    @classmethod
    def _seed_needs_new_weights(cls, v, info: ValidationInfo):
        if v is not None and info.data.get("weights") == "initial":
            raise ValueError('seed only applies to new weights: send weights: "new" with the seed, '
                             "or leave the seed out to restart from the initial weights")
        return v


class SessionPublic(BaseModel):
    id: str
    config: dict[str, Any]
    state: dict[str, Any]
    dataset: dict[str, Any] | None = None


class HealthPublic(BaseModel):
    status: str
    version: str
    sessions: int = Field(description="Sessions the server holds now.")
    max_sessions: int = Field(description="The most it holds at once (backprop-lab serve --max-sessions).")


def optimizer_config(spec: OptimizerSpec) -> dict:
    """{"name", "learning_rate", ...} with each extra hyperparameter checked against its bounds."""
    cls = type(optimizers.get(spec.name))
    hyper = cls.hyperparameters()
    out = {"name": spec.name, "learning_rate": spec.learning_rate or hyper["learning_rate"]["default"]}
    return {**out, **check_hyperparameters(spec.name, spec.model_extra or {})}


def check_hyperparameters(name: str, values: dict) -> dict:
    """``values`` (hyperparameters other than the learning rate) checked against the bounds of
    optimizer ``name``; 422 naming body.optimizer.<key> for an unknown or out-of-range one."""
    hyper = type(optimizers.get(name)).hyperparameters()
    out = {}
    for key, value in values.items():
        loc = ["body", "optimizer", key]
        if key not in hyper or key == "learning_rate":
            raise Unprocessable(loc, f"unknown hyperparameter of {name}; valid: {', '.join(hyper)}")
        info = hyper[key]
        if info["type"] == "bool":
            if not isinstance(value, bool):
                raise Unprocessable(loc, f"must be true or false, got {value!r}")
        elif not _in_bounds(value, info):
            bounds = f"{'(' if info['min_exclusive'] else '['}{info['min']}, {info['max']}]"
            raise Unprocessable(loc, f"must be a number in {bounds}, got {value!r}")
        out[key] = value
    return out


def _in_bounds(value, info: dict) -> bool:
    """A real number (not a bool) in [min, max], or (min, max] when ``min_exclusive`` (e.g. epsilon)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    low_ok = value > info["min"] if info["min_exclusive"] else value >= info["min"]
    return low_ok and value <= info["max"]


def check_indices(indices, settings: Settings) -> None:
    """422 naming body.indices when a one-off batch has more than ``max_indices`` rows."""
    if isinstance(indices, list) and len(indices) > settings.max_indices:
        raise Unprocessable(["body", "indices"], f"at most {settings.max_indices} rows, got {len(indices)}")


def check_limits(body: SessionCreate, settings: Settings) -> None:
    """422 naming the field when the body exceeds one of the server's limits."""
    if len(body.layers) > settings.max_layers:
        raise Unprocessable(["body", "layers"], f"at most {settings.max_layers} layers, got {len(body.layers)}")
    for i, layer in enumerate(body.layers):
        if layer.units > settings.max_units:
            raise Unprocessable(["body", "layers", i, "units"],
                                f"at most {settings.max_units} units, got {layer.units}")
    if body.batch_size > settings.max_batch_size:
        raise Unprocessable(["body", "batch_size"], f"at most {settings.max_batch_size}, got {body.batch_size}")
    if "path" in body.dataset.options():
        raise Unprocessable(["body", "dataset", "path"], "file paths are not accepted over HTTP")
    if isinstance(body, CompareCreate):
        _check_compare(body, settings)


def _check_compare(body: CompareCreate, settings: Settings) -> None:
    if body.epochs > settings.max_epochs:
        raise Unprocessable(["body", "epochs"], f"at most {settings.max_epochs}, got {body.epochs}")
    swept = body.grid is not None or body.runs is not None      # a sweep: app/sweeps.py checks it
    if body.mode == "compare" and not swept:
        n = len(body.learning_rates)
        if not 1 <= n <= settings.max_learning_rates:
            raise Unprocessable(["body", "learning_rates"],
                                f"give 1 to {settings.max_learning_rates} learning rates, got {n}")
    elif body.min_lr >= body.max_lr:
        raise Unprocessable(["body", "max_lr"], f"must be above min_lr = {body.min_lr}")
    if body.steps is not None and body.steps > settings.max_range_test_steps:
        raise Unprocessable(["body", "steps"], f"at most {settings.max_range_test_steps}, got {body.steps}")
