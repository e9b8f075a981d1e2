"""Typed dependencies: the app's settings, session store and comparison manager (overridable in tests).

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a hop
that costs more than everything these do."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from .settings import Settings
from .store import SessionStore

if TYPE_CHECKING:
    from .compare_jobs import CompareManager


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> SessionStore:
    return request.app.state.store


async def get_compare(request: Request) -> "CompareManager":
    return request.app.state.compare
