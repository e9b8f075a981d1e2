"""The answers of the stepping routes as pydantic models, and the error answers, for the OpenAPI
document. The routes send pre-serialised bytes (``responses.run_locked``): these models describe
those answers without validating them (tests/app/test_openapi.py checks real answers against them)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = float | None       # null stands for a value that is not finite (the session stops at one)


class Summary(BaseModel):
    min: Number
    max: Number
    mean: Number
    std: Number


class Tensor(BaseModel):
    """An array: ``values`` as nested lists whose nesting matches ``shape`` (encoding=json), or the
    base64 of its float32 little-endian bytes (dtype "float32le"), or of int8 values q with
    value ≈ q · scale (dtype "int8q", big tensors in b64 play frames). A tensor left out of an answer
    too large for the budget has ``omitted: true`` and a ``summary`` instead of values."""

    model_config = ConfigDict(extra="forbid")
    shape: list[int]
    label: str | None = Field(None, description="The lecture's name of it, e.g. W(1), δ(2), ŷ.")
    values: list[Any] | str | float | int | None = Field(None, description="Nested lists of numbers, "
                                                         "or base64 with dtype.")
    dtype: Literal["float32le", "int8q"] | None = Field(None, description="Only with encoding=b64.")
    scale: float | None = Field(None, description="int8q only: value ≈ q · scale.")
    nonfinite: bool | None = Field(None, description="true if a value was NaN or infinite (sent as null, or 0 "
                                   "in b64).")
    omitted: bool | None = Field(None, description="true: too large for the answer, see summary.")
    summary: Summary | None = None


class LayerEntry(BaseModel):
    """One Dense layer l: the fields its phase computed (?fields= and ?layers= choose which)."""

    model_config = ConfigDict(extra="forbid")
    index: int = Field(description="l: the layer's weights W(l) map a(l) to z(l+1).")
    name: str
    activation: str
    W: Tensor | None = Field(None, description="W(l) as the forward pass used it (units × inputs).")
    b: Tensor | None = None
    z: Tensor | None = Field(None, description="z(l+1) = W(l) a(l) + b(l), one row per sample.")
    a: Tensor | None = Field(None, description="a(l+1) = f(z(l+1)).")
    mask: Tensor | None = Field(None, description="The dropout mask (layers with dropout, training only).")
    delta: Tensor | None = Field(None, description="δ(l+1) = ∂cost/∂z(l+1), one row per sample.")
    dW: Tensor | None = Field(None, description="∂cost/∂W(l), the batch mean.")
    db: Tensor | None = None
    dW_applied: Tensor | None = Field(None, description="ΔW(l) the optimizer applied.")
    db_applied: Tensor | None = None
    slots: dict[str, Tensor] | None = Field(None, description="The optimizer's state (e.g. Adam's m, v).")
    W_updated: Tensor | None = Field(None, description="W(l) after the update.")
    b_updated: Tensor | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indices: list[int] = Field(description="Rows of the training set in this minibatch.")
    x: Tensor | None = Field(None, description="a(1), the inputs.")
    y: Tensor | None = Field(None, description="The targets (classes one-hot).")
    y_pred: Tensor | None = Field(None, description="ŷ, the network's output.")


class Diverged(BaseModel):
    step: int | None = None
    layer: int | str | None = None
    quantity: str | None = None
    epoch: int | None = None


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epoch: int
    step: int
    phase: str
    batch: int
    steps_per_epoch: int
    learning_rate: float
    metrics: dict[str, Number]
    batch_loss: Number
    diverged: Diverged | None
    n_params: int
    branch: int = Field(description="The timeline branch the session stands on (GET .../timeline).")
    branch_head: int = Field(description="That branch's last step (the step is earlier after a seek).")


class Omitted(BaseModel):
    label: str | None
    shape: list[int]


class StepAnswer(BaseModel):
    """The answer of forward, backward, update and step (and each play frame's data)."""

    model_config = ConfigDict(extra="forbid")
    step: int = Field(description="Updates applied so far.")
    phase: Literal["forward", "backward", "ready", "diverged"]
    loss: Number = None
    penalty: Number = Field(None, description="The regularization penalty l1·Σ|W| + l2·ΣW² included in loss.")
    learning_rate: float | None = None
    batch: Batch | None = None
    layers: list[LayerEntry] | None = None
    state: State | None = None
    omitted: list[Omitted] | None = Field(None, description="Tensors sent as summaries (answer too large).")
    hint: str | None = Field(None, description="How to get the omitted tensors in full.")


class EpochAnswer(StepAnswer):
    """The rest of the epoch: its metrics by name (loss, acc, val_loss, val_acc, ...: every key of
    the session's history) and its last minibatch as a /step answer."""

    model_config = ConfigDict(extra="allow")
    epoch: int | None = None
    batch_loss: Number = None


class HistoryAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epoch: int
    step: int
    history: dict[str, list[Number]] = Field(description="Per epoch (loss, acc, val_...) or per batch "
                                             "(batch_loss); null for a value that was not finite. With "
                                             "`points`, longer curves are thinned: batch_step and "
                                             "epoch_number give their steps and epochs.")
    batch_loss_stride: int = Field(1, description="batch_loss holds every stride-th step (1: every step).")
    epoch_stride: int = Field(1, description="The per-epoch curves hold every stride-th epoch (1: every one); "
                                             "epoch_number gives their epochs.")


class ErrorMessage(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='The field: ["body", "layers", 0, "units"], ["query", "layers"].')
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrors(BaseModel):
    detail: list[FieldError]


ERRORS = {
    401: "A token is needed (the server was started with --token): ?token=, the cookie it sets, or "
         "Authorization: token ...",
    403: "Another site's request, or a Host that is not this server's.",
    404: "No such session or comparison (it may have expired).",
    409: "Not now: a phase out of order, a session that diverged (POST /reset), a 2-D view of a data set "
         "that has none.",
    413: "The request body is over its limit (max_json_bytes; max_upload_bytes for imports, "
         "max_csv_bytes for CSV files): the message names it.",
    422: "Bad input: loc names the field.",
    503: "The server is full (sessions, weights or running comparisons): the message says what to do.",
}
COMMON = (401, 403, 413)        # any request: the security checks and the body limit


def errors(*codes: int) -> dict:
    """``responses=`` for a route: each status with its description and error model."""
    return {code: {"description": ERRORS[code],
                   "model": ValidationErrors if code == 422 else ErrorMessage} for code in codes}
