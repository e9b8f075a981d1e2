"""/api/sessions/{id}/timeline, /seek, /branch: every step a session took, to go back to and branch from."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from .. import postmortem, travel
from ..answer_schemas import COMMON, errors
from ..deps import get_settings, get_store
from ..errors import Conflict, NotFound, Unprocessable
from ..responses import RenderOptions, render_options, run_locked
from ..schemas import check_hyperparameters
from ..settings import Settings
from ..store import SessionStore
from ..timeline_schemas import BranchAnswer, BranchRequest, DeletedAnswer, SeekAnswer, SeekRequest, TimelineAnswer

router = APIRouter(prefix="/api/sessions", tags=["timeline"], responses=errors(*COMMON))
Store = Annotated[SessionStore, Depends(get_store)]
Render = Annotated[RenderOptions, Depends(render_options)]


@router.get("/{session_id}/timeline", response_model=TimelineAnswer, responses=errors(404))
async def timeline(session_id: str, store: Store,
                   curves: bool = Query(False, description="Also each branch's batch losses, for the overlay."),
                   points: int = Query(3000, ge=2, le=100_000, description="At most this many points per curve "
                                       "(every k-th step, and the last).")):
    """The branches (id, the branch it leaves, the step it starts from, what changed, its last step,
    where it diverged) and the current position; keyframes kept every ``keyframe_interval`` steps."""
    session = store.get(session_id)
    return await run_locked(session, session.timeline.public, curves, points)


@router.post("/{session_id}/seek", response_model=SeekAnswer, responses=errors(404, 409, 422))
async def seek(session_id: str, body: SeekRequest, store: Store, options: Render):
    """Stand at a step of a branch: the answer is the frame Step answered for that step (or, with
    phase forward/backward, the next batch's Forward/Backward frame). Stepping on replays the same
    future, bit for bit; doing something else there starts a new branch."""
    session = store.get(session_id)
    return await run_locked(session, travel.seek, session, body.step, body.branch, body.phase, options=options,
                            inline=False)


@router.post("/{session_id}/branch", response_model=BranchAnswer, responses=errors(404, 409, 422))
async def branch(session_id: str, body: BranchRequest, store: Store,
                 settings: Annotated[Settings, Depends(get_settings)]):
    """A new branch from a step (default: the current one) with another optimizer or its settings
    and/or batch size; the session stands at its start. Branches share their past."""
    if body.batch_size is not None and body.batch_size > settings.max_batch_size:
        raise Unprocessable(["body", "batch_size"], f"at most {settings.max_batch_size}, got {body.batch_size}")
    session = store.get(session_id)

    def work():
        optimizer = None
        if body.optimizer is not None:
            opt = body.optimizer
            optimizer = check_hyperparameters(opt.name or session.config["optimizer"]["name"], opt.model_extra or {})
            if opt.name is not None:
                optimizer["name"] = opt.name
            if opt.learning_rate is not None:
                optimizer["learning_rate"] = opt.learning_rate
        penalty = body.regularization.model_dump() if body.regularization is not None else None
        return travel.branch(session, body.step, body.branch, optimizer, body.batch_size, penalty)
    return await run_locked(session, work, inline=False)


@router.delete("/{session_id}/branches/{branch_id}", response_model=DeletedAnswer, responses=errors(404, 409))
async def delete_branch(session_id: str, branch_id: int, store: Store):
    """Delete a branch and the branches that leave it (not the first one, not the current line)."""
    session = store.get(session_id)

    def work():
        try:
            removed = session.timeline.delete(branch_id)
        except KeyError:
            raise NotFound(f"no branch {branch_id} in this session's timeline") from None
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        return {"deleted": removed, "timeline": session.timeline.public()}
    return await run_locked(session, work)



@router.post("/{session_id}/post-mortem", responses=errors(404, 409))
async def post_mortem(session_id: str, store: Store):
    """After a divergence: the last finite step (the session then stands there and can step again),
    ‖∂cost/∂W‖ and ‖ΔW‖/‖W‖ per layer over the 50 steps before it and the one after, the first layer
    whose gradient grew out of line (10 × its median), and a learning rate suggested by a range test
    from that state (100 batches from η/10⁴ to η). 409 when the branch never diverged."""
    session = store.get(session_id)
    return await run_locked(session, postmortem.post_mortem, session, inline=False)
