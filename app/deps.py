"""Typed dependencies: the app's settings, session store and comparison manager (overridable in tests)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from .settings import Settings
from .store import SessionStore

if TYPE_CHECKING:
    from .compare_jobs import CompareManager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> SessionStore:
    return request.app.state.store


def get_compare(request: Request) -> "CompareManager":
    return request.app.state.compare
