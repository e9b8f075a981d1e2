"""Browser tests: a real uvicorn serving create_app() on a free 127.0.0.1 port, driven by
Debian's Chromium through pytest-playwright (launch settings in tests/conftest.py)."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason="Debian's Chromium not found at /usr/bin/chromium "
                                                        "(apt-get install -y chromium)"))


@contextlib.contextmanager
def served(app):
    """``app`` served by a real uvicorn in a thread on a free 127.0.0.1 port; yields its URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="browser-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def server_url():
    """A real server in a thread (uvicorn.Server), shut down after the browser tests."""
    from app.main import create_app
    with served(create_app()) as url:
        yield url


@pytest.fixture
def serve():
    """serve(settings) → the URL of a server of its own with those Settings (stopped after the test)."""
    from app.main import create_app
    with contextlib.ExitStack() as stack:
        yield lambda settings: stack.enter_context(served(create_app(settings)))


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The shared context lets Playwright evaluate its wait_for_function strings, which the page's
    content-security policy forbids; test_page_security.py checks the page with the policy enforced."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}, "bypass_csp": True}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class PageWatch:
    """Everything a page did that a test may want to check: console errors, requests, sockets."""

    def __init__(self, page, base: str):
        self.base = base
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.sockets: list = []
        self.frames_in = 0
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("websocket", self._socket)

    def _socket(self, ws):
        self.sockets.append(ws.url)
        ws.on("framereceived", self._frame)

    def _frame(self, _payload):
        self.frames_in += 1

    def outside(self) -> list[str]:
        ok = (self.base, self.base.replace("http://", "ws://"), "data:", "blob:", "about:")
        return [u for u in self.requests if not u.startswith(ok)]


@pytest.fixture
def lab(page, server_url):
    """The page opened at the default configuration, with a PageWatch attached."""
    watch = PageWatch(page, server_url)
    page.goto(server_url + "/")
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.wait_for_selector("#diagram svg")
    return page, watch
