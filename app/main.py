"""``create_app(settings)``: the FastAPI app (routers, static files, error handlers, state)."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import engine

from . import errors, security
from .api_docs import DESCRIPTION
from .body_limit import BodyLimitMiddleware
from .compare_jobs import CompareManager
from .downloads import MnistDownload
from .routes import autodiff, compare, datasets, health, options, pages, sessions, timeline, views, ws
from .settings import Settings
from .store import SessionStore
from .uploads import Uploads


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own session store and comparison workers."""
    settings = settings or Settings()
    policy = security.Policy(settings)      # first: an unsafe or malformed setting fails here

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.compare.shutdown()
        app.state.uploads.cleanup()

    app = FastAPI(title="Backprop Lab", version=engine.__version__, docs_url=None, redoc_url=None,
                  lifespan=lifespan, description=DESCRIPTION)
    app.state.settings = settings
    app.state.uploads = Uploads(settings)
    app.state.store = SessionStore(settings, app.state.uploads)
    app.state.mnist_download = MnistDownload(settings)
    app.state.compare = CompareManager(settings)
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)   # inside the security checks
    app.add_middleware(security.SecurityMiddleware, policy=policy)
    for module in (health, options, sessions, timeline, views, autodiff, datasets, compare, ws, pages):
        app.include_router(module.router)
    pages.STATIC.mkdir(exist_ok=True)
    keep = pages.STATIC / ".gitkeep"
    if not keep.exists():
        keep.touch()
    app.mount("/static", StaticFiles(directory=str(pages.STATIC)), name="static")
    return app
