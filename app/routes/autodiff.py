"""Automatic differentiation on a live network: the gradient check of the current batch, and the
find-the-bug exercises (app/autodiff.py does the work under the session's lock)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from .. import autodiff
from ..answer_schemas import COMMON, errors
from ..deps import get_store
from ..gradcheck_schemas import GradientCheckRequest, GuessRequest, PlantBugRequest
from ..responses import run_locked
from ..store import SessionStore

router = APIRouter(prefix="/api/sessions", tags=["autodiff"], responses=errors(*COMMON))
Store = Annotated[SessionStore, Depends(get_store)]


@router.post("/{session_id}/gradient-check", responses=errors(404, 409, 422))
async def gradient_check(session_id: str, store: Store,
                         body: Annotated[GradientCheckRequest | None, Body()] = None):
    """∂cost/∂W(l) and ∂cost/∂b(l) of the current batch (the pending one, else the last one updated, else
    the next one) against central finite differences (cost(w + h) − cost(w − h)) / 2h, on a float64 copy
    of the network: the session's weights, state and generators are not touched. Per layer: the entries
    checked (W(l) indices [i, j], i a unit of layer l+1, j of layer l; all of them, or ``max_weights``
    drawn with ``seed``), their analytic and numeric values and relative errors, and the largest."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.gradient_check, session, body or GradientCheckRequest(),
                            inline=False)


@router.get("/{session_id}/bug", responses=errors(404))
async def bug_status(session_id: str, store: Store):
    """The five bugs to choose from, whether one is planted (which stays hidden), the guesses so far."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.bug_status, session)


@router.post("/{session_id}/bug", responses=errors(404, 409, 422))
async def plant_bug(session_id: str, store: Store, body: Annotated[PlantBugRequest | None, Body()] = None):
    """Plant one mistake in this session's backward pass or update (``bug``: a name or "random";
    ``layer``: the l whose ∂cost/∂W(l) goes wrong first). The answer does not say which."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.plant_bug, session, body or PlantBugRequest())


@router.post("/{session_id}/bug/guess", responses=errors(404, 409, 422))
async def guess_bug(session_id: str, body: GuessRequest, store: Store):
    """Name the bug: ``right`` true reveals it (its layer and the line it changed)."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.guess_bug, session, body.bug)


@router.post("/{session_id}/bug/give-up", responses=errors(404, 409))
async def give_up(session_id: str, store: Store):
    """Reveal the planted bug."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.give_up, session)


@router.delete("/{session_id}/bug", responses=errors(404, 409))
async def remove_bug(session_id: str, store: Store):
    """Train correctly again from here (the timeline starts afresh at this step)."""
    session = store.get(session_id)
    return await run_locked(session, autodiff.remove_bug, session)
