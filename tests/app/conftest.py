"""Fixtures for the server tests: an app per test, an httpx client on it (ASGI transport), a real
uvicorn on 127.0.0.1 for the WebSocket, and helpers that check JSON never carries NaN."""
from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn
from app_helpers import free_port

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def no_local_data(monkeypatch, tmp_path_factory):
    """MNIST is looked for only where a test says (BACKPROP_LAB_DATA), never in the user's cache."""
    monkeypatch.delenv("BACKPROP_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def app(settings):
    application = create_app(settings)
    yield application
    application.state.compare.shutdown()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        yield c


@pytest.fixture
def live_server(app):
    """A real uvicorn serving ``app`` on 127.0.0.1 in a thread; yields "127.0.0.1:port"."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
