"""Request bodies of the automatic-differentiation routes: the live gradient check and the planted bugs
(engine/live_check.py, engine/planted_bugs.py). Static bounds here; what depends on the session (its
layers, which bugs fit it) is checked by app/autodiff.py, each a 422 naming the field."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

MAX_WEIGHTS = 512           # entries of W(l) (and of b(l)) checked per layer, at most
DEFAULT_WEIGHTS = 64        # the default network's W(1), W(2), W(3) have 16, 64, 16: all of them
MAX_LAYER_LIST = 16


class GradientCheckRequest(BaseModel):
    """Which layers, how many weights per layer, and the finite-difference step h."""

    model_config = ConfigDict(extra="forbid")
    layers: list[StrictInt] | None = Field(None, min_length=1, max_length=MAX_LAYER_LIST,
                                           description="Layer indices l (W(l), b(l)); default: every layer.")
    max_weights: StrictInt = Field(DEFAULT_WEIGHTS, ge=1, le=MAX_WEIGHTS,
                                   description="Entries of W(l), and of b(l), checked per layer: all of them "
                                   "when there are fewer, else a seeded sample.")
    h: StrictFloat = Field(1e-5, ge=1e-8, le=1e-2, allow_inf_nan=False,
                           description="The step of the central difference (cost(w + h) − cost(w − h)) / 2h.")
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1, description="Seeds the sample of weights.")


class PlantBugRequest(BaseModel):
    """Plant one of engine/planted_bugs.py's mistakes (or a random one that fits the network)."""

    model_config = ConfigDict(extra="forbid")
    bug: StrictStr = Field("random", max_length=40, description="A bug's name (GET .../bug lists them) or "
                           "\"random\".")
    layer: StrictInt | None = Field(None, ge=1, le=64, description="The layer l whose ∂cost/∂W(l) goes wrong "
                                    "first; default: a random one where the bug fits.")
    seed: StrictInt | None = Field(None, ge=0, le=2**32 - 1, description="Seeds the random choices.")


class GuessRequest(BaseModel):
    """The student's guess: one of the five bugs' names."""

    model_config = ConfigDict(extra="forbid")
    bug: StrictStr = Field(max_length=40, description="A bug's name.")
