"""Issue 12, items 1-4, tried as an attacker's page would (all traffic to 127.0.0.1): a foreign Host
(DNS rebinding), a WebSocket from another site, cross-site simple requests, and a server exposed on
purpose (the access token); then the CSP and nosniff headers and ``backprop-lab serve``'s options.
Each attack is refused and leaves the session as it was; the same request from a script (no Origin)
or from the server's own page still works."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import socket

import httpx
import pytest
import uvicorn
from app_helpers import SMALL_NET, new_session, strict_json
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app import cli, security
from app.main import create_app
from app.settings import Settings

EVIL = "http://evil.example"
TOKEN = "class-token-0123456789"
CLASSROOM = Settings(token=TOKEN, bind_host="0.0.0.0")      # a classroom bind, served on 127.0.0.1 here
AUTH = {"Authorization": f"token {TOKEN}"}
CSV = b"x1,x2,label\n" + b"".join(b"%d,%d,%d\n" % (i, -i, i % 2) for i in range(40))


async def state(client, sid: str, headers=None) -> dict:
    return strict_json(await client.get(f"/api/sessions/{sid}", headers=headers))["state"]


def live_session(base: str, headers=None) -> str:
    r = httpx.post(f"http://{base}/api/sessions", json=SMALL_NET, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def live_step_count(base: str, sid: str, headers=None) -> int:
    return httpx.get(f"http://{base}/api/sessions/{sid}", headers=headers, timeout=30).json()["state"]["step"]


def socket_steps(url: str, **options) -> int:
    """Open the WebSocket, send "step", return the step count it answers."""
    with connect(url, open_timeout=10, **options) as ws:
        ws.send(json.dumps({"command": "step"}))
        return json.loads(ws.recv(timeout=10))["data"]["step"]


def refused_socket(url: str, **options):
    """The HTTP answer refusing the handshake (a "step" sent if it was accepted after all)."""
    with pytest.raises(InvalidStatus) as refused:
        socket_steps(url, **options)
    return refused.value.response


# ----- 1. DNS rebinding: a Host that is not the server's own --------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "EVIL.example.", "localhost.evil.example",
                                  "127.0.0.1.evil.example", "two words", "[::1", "localhost:http"])
async def test_foreign_host_is_refused_on_every_route(client, host):
    sid = (await new_session(client))["id"]
    for path in ("/api/sessions", f"/api/sessions/{sid}/export", "/", "/docs", "/openapi.json",
                 "/static/js/main.js", "/vendor/plotly.min.js", "/favicon.ico"):
        r = await client.get(path, headers={"Host": host})
        assert r.status_code == 403, (path, r.status_code)
        assert "--allow-host" in r.json()["detail"] and sid not in r.text
    assert (await client.post(f"/api/sessions/{sid}/step", headers={"Host": host})).status_code == 403
    assert (await state(client, sid))["step"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "LOCALHOST.", "127.0.0.1:1234", "[::1]:8000",
                                  "127.0.0.2", "test"])     # "test": the address the ASGI server reports
async def test_own_host_is_served(client, host):
    sid = (await new_session(client))["id"]
    r = await client.get(f"/api/sessions/{sid}/export", headers={"Host": host})
    assert r.status_code == 200 and r.json()["config"]


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [Settings(allowed_hosts=("Lab.School.example", "[fd00::5]"))])
async def test_allow_host_adds_exactly_those_names(client):
    for host in ("lab.school.example", "LAB.school.example:8000", "[fd00::5]:80"):
        assert (await client.get("/api/health", headers={"Host": host})).status_code == 200, host
    for host in ("school.example", "x.lab.school.example", "fd00::5", "evil.example"):
        assert (await client.get("/api/health", headers={"Host": host})).status_code == 403, host


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [CLASSROOM])
async def test_an_address_is_own_only_where_the_request_arrived(app):
    """On 0.0.0.0 the Host may be the address the connection came in on, and only that one."""
    async def health(base: str, host: str) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
            return (await c.get("/api/health", headers={"Host": host, **AUTH})).status_code
    assert await health("http://10.0.0.5:8000", "10.0.0.5:8000") == 200     # arrived at 10.0.0.5
    assert await health("http://127.0.0.1:8000", "10.0.0.5:8000") == 403    # same Host, other address
    assert await health("http://10.0.0.5:8000", "10.0.0.6") == 403


def test_websocket_to_a_rebound_name_is_refused(live_server):
    sid = live_session(live_server)
    port = int(live_server.split(":")[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:     # evil.example resolved to 127.0.0.1
        answer = refused_socket(f"ws://evil.example:{port}/ws/sessions/{sid}", sock=sock)
    assert answer.status_code == 403 and b"--allow-host" in answer.body
    assert live_step_count(live_server, sid) == 0


# ----- 2. Cross-site WebSocket hijacking -----------------------------------------------------------
def test_websocket_from_another_site_is_refused_before_accept(live_server):
    sid = live_session(live_server)
    url = f"ws://{live_server}/ws/sessions/{sid}"
    for origin in (EVIL, "null", "http://127.0.0.1.evil.example:8000", "chrome-extension://abcdef"):
        answer = refused_socket(url, origin=origin)
        assert answer.status_code == 403 and b"cross-site WebSocket refused" in answer.body, origin
    assert live_step_count(live_server, sid) == 0
    assert socket_steps(url) == 1                                   # a script: no Origin
    assert socket_steps(url, origin=f"http://{live_server}") == 2   # the server's own page
    assert socket_steps(url, origin="http://localhost:5173") == 3   # a loopback name, any port


# ----- 3. Cross-site simple requests ---------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("action", ["step", "forward", "backward", "update", "epoch", "reset"])
async def test_cross_site_simple_post_changes_nothing(client, action):
    sid = (await new_session(client))["id"]
    assert (await client.post(f"/api/sessions/{sid}/step")).status_code == 200    # reset has work to undo
    before = await state(client, sid)
    r = await client.post(f"/api/sessions/{sid}/{action}", content='{"weights": "new"}',
                          headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert r.status_code == 403 and "Origin http://evil.example is another site" in r.json()["detail"]
    assert await state(client, sid) == before


@pytest.mark.anyio
@pytest.mark.parametrize("headers", [{}, {"Origin": "http://test"}, {"Origin": "http://localhost:8000"},
                                     {"Origin": "https://[::1]"}, {"Referer": "http://127.0.0.1:8000/?dataset=xor"}])
async def test_scripts_and_own_pages_still_change_the_session(client, headers):
    sid = (await new_session(client))["id"]
    assert strict_json(await client.post(f"/api/sessions/{sid}/forward", headers=headers))["phase"] == "forward"
    assert strict_json(await client.post(f"/api/sessions/{sid}/step", headers=headers))["step"] == 1
    assert (await client.post(f"/api/sessions/{sid}/epoch", headers=headers)).status_code == 200
    assert (await state(client, sid))["epoch"] == 1
    assert strict_json(await client.post(f"/api/sessions/{sid}/reset", headers=headers))["state"]["step"] == 0


@pytest.mark.anyio
async def test_cross_site_create_patch_put_delete_and_referer_are_refused(client, app):
    sid = (await new_session(client))["id"]
    exported = (await client.get(f"/api/sessions/{sid}/export")).content
    tries = [client.post("/api/sessions", json=SMALL_NET, headers={"Origin": EVIL}),
             client.patch(f"/api/sessions/{sid}", json={"batch_size": 8}, headers={"Referer": EVIL + "/page"}),
             client.put(f"/api/sessions/{sid}/export", content=exported, headers={"Origin": "null"}),
             client.delete(f"/api/sessions/{sid}", headers={"Origin": EVIL + ":443"})]
    answers = [await attempt for attempt in tries]
    for r in answers:
        assert r.status_code == 403 and r.json()["detail"].startswith("cross-site"), r.text
    assert "Referer http://evil.example/page is another site" in answers[1].json()["detail"]
    assert [s.id for s in app.state.store.all()] == [sid]
    assert (await client.get(f"/api/sessions/{sid}")).json()["config"]["batch_size"] == 4
    read = await client.get(f"/api/sessions/{sid}", headers={"Origin": EVIL})    # reads: the browser hides them
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


@pytest.mark.anyio
async def test_cross_site_dataset_upload_and_mnist_download_are_refused(client, app):
    for path, body in (("/api/datasets/csv", CSV), ("/api/datasets/mnist/download", b"")):
        r = await client.post(path, content=body, headers={"Origin": EVIL, "Content-Type": "text/plain"})
        assert r.status_code == 403 and "another site" in r.json()["detail"], path
    assert not app.state.uploads._items
    assert strict_json(await client.get("/api/datasets/mnist/download"))["status"] == "idle"
    r = await client.post("/api/datasets/csv", content=CSV, headers={"Origin": "http://localhost:8000"})
    assert r.status_code == 201 and len(app.state.uploads._items) == 1


# ----- 4. Exposed on purpose: the access token -----------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("settings", [CLASSROOM, Settings(token=TOKEN)])   # a loopback bind given a token too
async def test_without_the_token_nothing_answers(client, app):
    wrong = [{}, {"Authorization": "token wrong"}, {"Authorization": f"Basic {TOKEN}"},
             {"Cookie": f"{security.COOKIE}=wrong"}, {"Authorization": b"token \xe9"}]
    for headers in wrong:
        r = await client.get("/api/sessions", headers=headers)
        assert r.status_code == 401 and "Authorization: token" in r.json()["detail"], headers
        assert (await client.post("/api/sessions", json=SMALL_NET, headers=headers)).status_code == 401
    assert app.state.store.all() == []
    for path in ("/", "/?token=wrong", "/?token=%C3%A9", "/static/js/main.js", "/docs"):
        r = await client.get(path)
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html"), path
        assert "link the teacher printed" in r.text and "<script" not in r.text
    sid = strict_json(await client.post("/api/sessions", json=SMALL_NET, headers=AUTH))["id"]
    assert strict_json(await client.post(f"/api/sessions/{sid}/step", headers=AUTH))["step"] == 1
    options = await client.get("/api/options", headers={"Authorization": f"Bearer {TOKEN}"})
    assert options.status_code == 200 and TOKEN not in options.text and "token" not in options.json()["limits"]


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [CLASSROOM])
async def test_token_link_sets_a_strict_httponly_cookie_and_drops_the_token(client):
    r = await client.get(f"/?dataset=xor&token={TOKEN}&layers=4%2C4")
    assert r.status_code == 302 and r.headers["location"] == "/?dataset=xor&layers=4%2C4"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{security.COOKIE}={TOKEN};")
    assert {"httponly", "samesite=strict", "path=/"} <= {p.strip().lower() for p in cookie.split(";")}
    page = await client.get(r.headers["location"])                  # the client sends the cookie back
    assert page.status_code == 200 and '<script type="module" src="/static/js/main.js">' in page.text
    assert (await client.get("/static/js/main.js")).status_code == 200
    assert (await client.get(f"/api/sessions?token={TOKEN}")).status_code == 200   # API: no redirect


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [CLASSROOM])
async def test_token_link_from_another_site_refreshes_from_this_one(client):
    """A navigation begun on another site sends no Strict cookie, even after a 302: a refresh does."""
    r = await client.get(f"/?data=xor&token={TOKEN}", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200 and r.headers["set-cookie"].startswith(f"{security.COOKIE}={TOKEN};")
    assert '<meta http-equiv="refresh" content="0;url=/?data=xor">' in r.text and TOKEN not in r.text
    assert '<meta name="referrer" content="no-referrer">' in r.text and "<script" not in r.text


def test_token_redirect_stays_on_this_server():
    scope = {"path": "//evil.example/x", "raw_path": b"//evil.example/x", "query_string": b"token=t&a=1&token=u"}
    assert security._without_token(scope) == "/evil.example/x?a=1"


@pytest.mark.parametrize("settings", [CLASSROOM])
def test_token_flow_end_to_end_on_a_real_server(live_server):
    with httpx.Client(base_url=f"http://{live_server}", timeout=30) as browser:
        assert browser.get("/").status_code == 401
        link = browser.get(f"/?token={TOKEN}")
        assert link.status_code == 302 and link.headers["location"] == "/"
        assert browser.get("/").status_code == 200 and browser.get("/vendor/plotly.min.js").status_code == 200
        sid = browser.post("/api/sessions", json=SMALL_NET).json()["id"]
    url = f"ws://{live_server}/ws/sessions/{sid}"
    assert refused_socket(url).status_code == 401
    assert refused_socket(url, additional_headers={"Authorization": "token wrong"}).status_code == 401
    assert live_step_count(live_server, sid, AUTH) == 0
    assert socket_steps(url, additional_headers={"Cookie": f"{security.COOKIE}={TOKEN}"}) == 1
    assert socket_steps(url, additional_headers=AUTH) == 2
    assert socket_steps(f"{url}?token={TOKEN}") == 3
    assert refused_socket(url, origin=EVIL, additional_headers=AUTH).status_code == 403


@pytest.mark.parametrize("changes, message", [
    ({"bind_host": "0.0.0.0"}, "access token"), ({"bind_host": "192.168.1.20"}, "access token"),
    ({"bind_host": "::"}, "access token"), ({"token": ""}, "letters, digits"), ({"token": "two words"}, "letters"),
    ({"allowed_hosts": ("http://lab.example/",)}, "--allow-host"), ({"allowed_hosts": ("",)}, "--allow-host")])
def test_unsafe_or_malformed_settings_fail_when_the_app_is_built(changes, message):
    with pytest.raises(ValueError, match=message):
        create_app(Settings(**changes))


# ----- headers on every answer ---------------------------------------------------------------------
def directives(policy: str) -> dict[str, str]:
    return dict((d.strip() + " ").split(" ", 1) for d in policy.split(";"))


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/vendor/plotly.min.js", "/api/health",
                                  "/api/sessions/0123", "/favicon.ico"])
async def test_every_answer_has_the_csp_and_nosniff(client, path):
    for r in (await client.get(path), await client.get(path, headers={"Host": "evil.example"})):
        policy = directives(r.headers["content-security-policy"])
        assert policy["script-src"].strip() == "'self'" and policy["connect-src"].strip() == "'self'"
        assert policy["default-src"].strip() == "'self'" and policy["object-src"].strip() == "'none'"
        assert policy["frame-ancestors"].strip() == "'none'" and policy["base-uri"].strip() == "'self'"
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.anyio
async def test_docs_allows_only_its_own_inline_scripts_by_hash(client):
    r = await client.get("/docs")
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    allowed = directives(r.headers["content-security-policy"])["script-src"].split()
    assert scripts and "'unsafe-inline'" not in allowed and r.headers["x-content-type-options"] == "nosniff"
    assert sorted(allowed) == sorted(["'self'", *("'sha256-%s'" % base64.b64encode(
        hashlib.sha256(s.encode()).digest()).decode() for s in scripts)])


# ----- backprop-lab serve --------------------------------------------------------------------------
def serve(monkeypatch, capsys, *argv):
    """Run ``serve`` with uvicorn.run replaced: (exit code, the app's Settings or None, stdout, stderr)."""
    ran = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    code = cli.main(["serve", *argv])
    out = capsys.readouterr()
    return code, ran["app"].state.settings if ran else None, out.out, out.err


def test_serve_on_all_interfaces_prints_a_link_with_a_fresh_token(monkeypatch, capsys):
    monkeypatch.delenv("BACKPROP_LAB_TOKEN", raising=False)
    code, settings, out, _ = serve(monkeypatch, capsys, "--host", "0.0.0.0", "--port", "8123")
    assert code == 0 and settings.bind_host == "0.0.0.0" and len(settings.token) == 48
    assert f"http://127.0.0.1:8123/?token={settings.token}" in out and "0.0.0.0:8123" not in out
    assert serve(monkeypatch, capsys, "--host", "0.0.0.0")[1].token != settings.token


def test_serve_token_and_allowed_hosts_from_the_options_and_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("BACKPROP_LAB_TOKEN", "from-env-123")
    code, settings, out, _ = serve(monkeypatch, capsys, "--host", "0.0.0.0", "--allow-host", "Lab.School.example",
                                   "--allow-host", "10.0.0.9", "--token", "given-456")
    assert code == 0 and settings.token == "given-456"
    assert settings.allowed_hosts == ("lab.school.example", "10.0.0.9")
    assert out.index("http://lab.school.example:8000/?token=given-456") < out.index("http://10.0.0.9:8000/")
    code, settings, out, _ = serve(monkeypatch, capsys)
    assert (code, settings.token) == (0, "from-env-123") and "http://127.0.0.1:8000/?token=from-env-123" in out
    monkeypatch.delenv("BACKPROP_LAB_TOKEN")
    code, settings, out, _ = serve(monkeypatch, capsys)
    assert settings.token is None and out.startswith("Backprop Lab is running at http://127.0.0.1:8000 ")


@pytest.mark.parametrize("argv, message", [(["--token", "two words"], "letters, digits"),
                                           (["--allow-host", "http://lab.example/"], "--allow-host")])
def test_serve_refuses_bad_security_options(monkeypatch, capsys, argv, message):
    code, settings, _, err = serve(monkeypatch, capsys, "--host", "0.0.0.0", *argv)
    assert code == 2 and settings is None and message in err
