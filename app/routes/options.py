"""GET /api/options: valid names and defaults for every choice, the data sets, and the limits."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from engine import activations, initializers, losses, optimizers
from engine.datasets import list_datasets

from ..answer_schemas import COMMON, errors
from ..deps import get_settings
from ..schemas import DEFAULT_SESSION, PRESETS
from ..settings import Settings
from ..tensors import sanitize

router = APIRouter(tags=["options"], responses=errors(*COMMON))

def _optimizers() -> list[dict]:
    out = []
    for name in optimizers.registry.names():
        cls = type(optimizers.get(name))
        out.append({"name": name, "class_name": cls.__name__, "hyperparameters": cls.hyperparameters(),
                    "help": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""})
    return out


def _datasets() -> list[dict]:
    """The registry's data sets, without the file-path options the server does not accept."""
    rows = list_datasets()
    for row in rows:
        row["options"] = {k: v for k, v in row["options"].items() if v.get("type") != "path"}
    return rows


@router.get("/api/options")
async def options(settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    return sanitize({
        "activations": activations.names(), "losses": losses.registry.names(),
        "optimizers": _optimizers(), "initializers": initializers.registry.names(),
        "datasets": await run_in_threadpool(_datasets), "limits": settings.public(), "defaults": DEFAULT_SESSION,
        "learning_rate": {"min_exclusive": 0, "max": 100}, "presets": PRESETS,
    })
