"""Request bodies and answers of the timeline routes (app/routes/timeline.py)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from .answer_schemas import StepAnswer
from .schemas import OptimizerPatch, RegularizationSpec


class SeekRequest(BaseModel):
    """Where to stand: a step of a branch, and the phase within the cycle that follows it."""

    model_config = ConfigDict(extra="forbid")
    step: StrictInt = Field(..., ge=0, description="Updates applied: 0 is before the first one.")
    branch: StrictInt | None = Field(None, ge=0, description="A branch id (GET .../timeline); default: "
                                     "the current one (a step before its start is on the branch it left).")
    phase: Literal["ready", "forward", "backward"] = Field(
        "ready", description="ready: that step's whole frame, as Step answered it; forward / backward: "
        "the next batch's forward (and backward) done, as those buttons answer.")


class BranchRequest(BaseModel):
    """A new branch from a step, with another optimizer (or its settings) and/or batch size."""

    model_config = ConfigDict(extra="forbid")
    step: StrictInt | None = Field(None, ge=0, description="The step to branch from; default: where the "
                                   "session stands.")
    branch: StrictInt | None = Field(None, ge=0, description="The branch that step is on; default: the "
                                     "current one.")
    optimizer: OptimizerPatch | None = None
    batch_size: StrictInt | None = Field(None, ge=1, description="Samples per batch on the new branch.")
    regularization: RegularizationSpec | None = Field(None, description="The kernel penalty of every layer "
                                                      "on the new branch (zeros: none).")


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch: int = Field(description="The branch the session stands on.")
    step: int = Field(description="The step it stands at.")


class SeekAnswer(StepAnswer):
    """A step answer (or a Forward/Backward one, with phase forward/backward) and where the session now stands."""

    position: Position


class BranchEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    parent: int | None = Field(description="The branch it leaves (null for the first one).")
    start: int = Field(description="The step it starts from (shared with its parent up to there).")
    head: int = Field(description="Its last step.")
    changed: str = Field(description="What differs from its parent, e.g. 'η 0.1 → 0.01'.")
    optimizer: dict[str, Any]
    batch_size: int
    oneoff_steps: list[int] = Field(description="Steps that took chosen rows instead of the scheduled batch.")
    regularization: list[dict[str, float] | None] = Field(description="Each layer's kernel penalty {l1, l2} "
                                                           "on this branch (null: none).")
    epoch_steps: list[int] = Field(description="The steps at which epochs ended on this line, up to its head.")
    diverged: dict[str, Any] | None


class Curve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps_from: int = Field(description="The step of the branch's first batch loss (its start + 1).")
    every: int = Field(description="Every how many steps a point is kept (1: all; the last step always).")
    steps: list[int] = Field(description="The step of each point.")
    batch_loss: list[float | None]


class TimelineAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branches: list[BranchEntry]
    position: Position
    keyframe_interval: int = Field(description="Steps between keyframes (doubles to stay within the budget).")
    keyframes: int
    keyframe_bytes: int
    curves: dict[str, Curve] | None = Field(None, description="With ?curves=true: each branch's batch losses "
                                            "from its start, by branch id.")


class BranchAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    config: dict[str, Any]
    state: dict[str, Any]
    changes: dict[str, Any]
    timeline: TimelineAnswer


class DeletedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deleted: list[int] = Field(description="The branch and the branches that left it.")
    timeline: TimelineAnswer
