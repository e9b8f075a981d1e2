"""GET /api/health: answers at once, even while an epoch or a comparison runs."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

import engine

from ..answer_schemas import COMMON, errors
from ..deps import get_store
from ..schemas import HealthPublic
from ..store import SessionStore

router = APIRouter(tags=["health"], responses=errors(*COMMON))


@router.get("/api/health", response_model=HealthPublic)
async def health(store: Annotated[SessionStore, Depends(get_store)]) -> HealthPublic:
    """Status, version, and the load: how many sessions the server holds and its cap (no ids)."""
    return HealthPublic(status="ok", version=engine.__version__, sessions=len(store),
                        max_sessions=store.settings.max_sessions)
