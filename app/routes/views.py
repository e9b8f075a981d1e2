"""Views of a session computed from its current weights: what every unit draws over the input plane,
and how training is going (warnings about the learning rate)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from .. import session_io
from ..answer_schemas import COMMON, errors
from ..deps import get_settings, get_store
from ..errors import Unprocessable
from ..responses import call_locked, run_locked, run_outside
from ..settings import Settings
from ..store import SessionStore
from ..training_health import report_on, snapshot

router = APIRouter(prefix="/api/sessions", tags=["views"], responses=errors(*COMMON))
Store = Annotated[SessionStore, Depends(get_store)]


@router.get("/{session_id}/unit-maps", responses=errors(404, 409, 422))
async def unit_maps(session_id: str, store: Store, settings: Annotated[Settings, Depends(get_settings)],
                    resolution: int = Query(32, ge=2, description="Grid points per side."),
                    encoding: Literal["json", "b64"] = Query("json", description="b64: float32 LE base64")):
    """On a 2-D data set: each input feature and each unit's activation a(l+1) over the input plane
    (maps of shape (units, resolution, resolution), row i at x2[i], column j at x1[j]), from the
    current weights, with each layer's min and max for one colour scale; 409 for other data sets."""
    if resolution > settings.max_grid:
        raise Unprocessable(["query", "resolution"], f"at most {settings.max_grid}, got {resolution}")
    session = store.get(session_id)
    return await run_locked(session, session_io.unit_maps, session, resolution, encoding,
                            inline=session.cheap_grid(resolution * resolution))


@router.get("/{session_id}/training-health", responses=errors(404))
async def training_health(session_id: str, store: Store,
                          suggest: bool = Query(True, description="Run a quick range test (100 batches, "
                                                "on a copy) when something is wrong.")):
    """Is the learning rate too large? Over the last 60 batch losses: rising (last quarter ≥ 1.5 × the
    first) or oscillating (most steps flip direction by ≥ 25 % of the loss); hidden sigmoid/tanh units
    saturated (at their bounds for 95 % of 512 training rows) and dead ReLUs; each as a warning with its
    numbers, and a rate from a range test at the current weights when the loss misbehaves. Worked out
    on a copy of the model, outside the session's lock: a session playing goes on training."""
    session = store.get(session_id)
    snap = await call_locked(session, snapshot, session)
    return await run_outside(session.report_lock, report_on, snap, suggest)
