"""The page under its Content-Security-Policy in a real Chromium: Step, Play and the plotly charts work
with no violation in the console; a classroom link with ?token= opened from another site gives a
working page without the token in its URL; /docs runs with its inline script allowed by hash."""
from __future__ import annotations

import socket
import threading
import time

import pytest

pytestmark = pytest.mark.browser
TOKEN = "browser-class-token-42"


class Console:
    """The console errors and uncaught exceptions of a page (CSP violations are console errors)."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))


@pytest.fixture
def strict_page(browser):
    """A page in a context of its own that enforces the CSP (``bypass_csp`` off, whatever the shared
    browser_context_args say: Playwright's wait_for_function needs eval, which the policy forbids)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=False)
    yield context.new_page()
    context.close()


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` with page.evaluate (DevTools evaluation, which the CSP does not block)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def inline_script_runs(page) -> bool:
    """Whether an injected inline <script> runs (it must not, under the policy)."""
    return page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = true'; document.head.appendChild(s); return window.__injected === true; }""")


def open_lab(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    page.wait_for_selector("#diagram svg")


def test_page_steps_plays_and_draws_under_the_csp(strict_page, server_url):
    page, watch = strict_page, Console(strict_page)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_lab(page, server_url + "/")
    page.click('button[data-action="step"]')
    wait_until(page, "document.body.dataset.step === '1'")
    page.click('button[data-action="play"]')
    wait_until(page, "Number(document.body.dataset.step) >= 3")   # frames drawn while playing
    page.click('button[data-action="play"]')          # Pause
    page.wait_for_selector('button[data-action="play"]:has-text("Play")')
    wait_until(page, "Number(document.querySelector('#chart-step').dataset.points) >= 3")   # drawn after Pause
    assert page.locator("#dataview .main-svg").count() > 0, "plotly drew the data view"
    assert page.locator("#chart-epoch .main-svg").count() > 0, "plotly drew the epoch chart"
    assert any("/ws/sessions/" in u for u in sockets), "Play went over the WebSocket (connect-src 'self')"
    assert watch.errors == []
    assert not inline_script_runs(page), "the policy is in force in this browser"


@pytest.fixture(scope="module")
def classroom_url():
    """A server built as for ``serve --host 0.0.0.0`` (token required), listening on 127.0.0.1."""
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(token=TOKEN, bind_host="0.0.0.0"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="classroom-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the classroom server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    app.state.compare.shutdown()


def test_token_link_from_another_site_opens_a_working_page(strict_page, classroom_url):
    page = strict_page
    link = f"{classroom_url}/?data=spiral&token={TOKEN}"
    page.route("http://school.example/**", lambda route: route.fulfill(
        content_type="text/html", body=f'<!doctype html><a id="lab" href="{link}">Backprop Lab</a>'))
    page.goto("http://school.example/course")
    watch = Console(page)
    page.click("#lab")                                  # a cross-site navigation, as from a course page
    page.wait_for_selector("body[data-session]:not([data-session=''])", timeout=15000)
    assert "token" not in page.url and "data=spiral" in page.url, page.url
    page.click('button[data-action="step"]')
    wait_until(page, "document.body.dataset.step === '1'")
    cookie = next(c for c in page.context.cookies() if c["name"] == "backprop_lab_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] == TOKEN
    assert watch.errors == []


def test_classroom_page_without_the_token_says_where_the_link_is(browser, classroom_url):
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(classroom_url + "/")
        assert response.status == 401 and "link the teacher printed" in page.inner_text("body")
    finally:
        context.close()


def test_docs_runs_under_its_policy(strict_page, server_url):
    page, watch = strict_page, Console(strict_page)
    page.goto(server_url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert watch.errors == []
