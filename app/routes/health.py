"""GET /api/health: answers at once, even while an epoch or a comparison runs."""
from __future__ import annotations

from fastapi import APIRouter

import engine

from ..schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=HealthPublic)
async def health() -> HealthPublic:
    return HealthPublic(status="ok", version=engine.__version__)
