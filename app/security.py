"""Who may talk to the server: checks on every request and WebSocket handshake, before any route runs.

* Host, against DNS rebinding: a page at evil.example can make its own name resolve to 127.0.0.1, and
  the browser then lets that page read this server's answers. Its requests still say ``Host:
  evil.example``, so a Host that is not one of the server's own names gets 403: localhost, the
  loopback addresses, the bind address (on 0.0.0.0: the address the request arrived at, as the ASGI
  server reports it) and ``--allow-host`` names. Ports do not matter; no Host at all (never a browser) passes.
* Origin, against cross-site requests and WebSocket hijacking: any page may send this server a
  "simple" POST (a form, or fetch with text/plain) or open a WebSocket to it; the browser only hides
  the answer. So a POST, PUT, PATCH or DELETE whose Origin (or, without one, Referer) names another
  site gets 403 before anything changes, and so does a handshake from another Origin (Starlette's
  CORS middleware never sees WebSockets). Requests with neither header (curl, scripts) pass.
* Access token, for a server other machines can reach: with a token set (always on a non-loopback
  bind) every request needs it: ``?token=`` in a link (answered with an HttpOnly SameSite=Strict
  cookie and a redirect to the URL without it), that cookie, or ``Authorization: token <t>``.
  Otherwise 401: JSON under /api, a short page elsewhere, a refused handshake.
* On every answer a Content-Security-Policy (scripts only from this server and none inline,
  connections only to it; /docs also allows its own inline scripts by hash), so injected markup can
  neither run nor send data away, and ``X-Content-Type-Options: nosniff``, so no answer (an echoed
  upload, JSON) is ever taken for a script or a page.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from .hosts import WILDCARDS, allowed_host, canonical, checked_token, host_of, is_loopback

COOKIE = "backprop_lab_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WANTED = frozenset({b"host", b"origin", b"referer", b"authorization", b"cookie", b"sec-fetch-site"})
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
       "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
NOSNIFF = (b"x-content-type-options", b"nosniff")
HEADERS = ((b"content-security-policy", CSP.encode()), NOSNIFF)
DOCS = frozenset({"/docs", "/docs/oauth2-redirect"})     # fastapi's Swagger pages: one inline script each
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
NEEDS_LINK = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backprop Lab</title></head>
<body><h1>Backprop Lab</h1><p>{reason} Open the link the teacher printed when starting the server
(it ends in <code>?token=</code>&hellip;).</p></body></html>"""
REFRESH = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url={url}"><title>Backprop Lab</title></head>
<body><p><a href="{url}">Open Backprop Lab</a></p></body></html>"""


class Policy:
    """The server's own names and its token, from Settings (checked when the app is built)."""

    def __init__(self, settings):
        bind = settings.bind_host.strip()
        hosts = {allowed_host(h) for h in settings.allowed_hosts}
        if bind not in WILDCARDS:
            hosts.add(allowed_host(bind))
        self.hosts = frozenset(hosts)
        self.token = None if settings.token is None else checked_token(settings.token).encode()
        if self.token is None and not (bind not in WILDCARDS and is_loopback(bind)):
            raise ValueError(f"bind address {bind or '(all)'!r} lets other machines reach the server: "
                             "give it an access token (Settings(token=...), --token)")
        self._verdicts: dict[tuple, object] = {}

    def own(self, name: str | None, server: str | None) -> bool:
        """True if ``name`` (canonical) is this server's: loopback, bind address or an allowed host."""
        return name is not None and (name in self.hosts or name == server or is_loopback(name))

    def _remembered(self, check, raw: bytes, server):
        """``check(raw, server)``, remembered: a browser sends the same headers request after request
        (parsing addresses anew cost ~40 µs a request, a fifth of a whole /step)."""
        key = (check, raw, server)
        try:
            return self._verdicts[key]
        except KeyError:
            if len(self._verdicts) > 512:
                self._verdicts.clear()
            verdict = self._verdicts[key] = check(raw, canonical(str(server)) if server is not None else None)
            return verdict

    def own_host_header(self, raw: bytes, server) -> bool:
        """The Host check for a Host header and the server's address as the ASGI server reports it."""
        return self._remembered(self._own_host, raw, server)

    def foreign(self, origin: bytes, server) -> str | None:
        """Why an Origin or Referer value is another site's; None if it is one of this server's pages."""
        return self._remembered(self._foreign, origin, server)

    def _own_host(self, raw: bytes, server: str | None) -> bool:
        """The Host check itself (uncached)."""
        return self.own(host_of(raw.decode("latin-1")), server)

    def _foreign(self, origin: bytes, server: str | None) -> str | None:
        """The Origin check itself (uncached)."""
        text = origin.decode("latin-1").strip()
        try:
            parts = urlsplit(text)
        except ValueError:
            return f"{text!r} is not a URL"
        if parts.scheme not in ("http", "https"):
            return f"{text!r} is not a page of this server"
        return None if self.own(host_of(parts.netloc), server) else f"{text} is another site"

    def valid(self, given: str | bytes | None) -> bool:
        """True if ``given`` is the access token (compared in constant time)."""
        if given is None or self.token is None:
            return False
        if isinstance(given, str):
            given = given.encode("utf-8", "surrogatepass")
        return secrets.compare_digest(given, self.token)


def _headers(scope) -> dict[bytes, bytes]:
    """The request headers the checks read (cookies joined, as HTTP/2 may split them)."""
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key in WANTED:
            found[key] = found[key] + b"; " + value if key == b"cookie" and key in found else value
    return found


def _without_token(scope) -> str:
    """The request's own path and query minus ``token`` (where a link with ?token= redirects to)."""
    path = scope.get("raw_path") or scope["path"].encode()
    path = "/" + path.decode("latin-1").lstrip("/")        # never //host: a redirect stays on this server
    kept = [p for p in scope.get("query_string", b"").decode("latin-1").split("&")
            if p and unquote_plus(p.partition("=")[0]) != "token"]
    return path + ("?" + "&".join(kept) if kept else "")


def _presented(scope, headers: dict[bytes, bytes]) -> list:
    """The tokens a request carries: Authorization header, cookie, and last ``?token=`` (or None)."""
    given = []
    scheme, _, value = headers.get(b"authorization", b"").partition(b" ")
    if scheme.lower() in (b"token", b"bearer"):
        given.append(value.strip())
    if b"cookie" in headers:
        given.append(cookie_parser(headers[b"cookie"].decode("latin-1")).get(COOKIE))
    query = scope.get("query_string", b"")
    given.append(dict(parse_qsl(query.decode("latin-1"))).get("token") if b"token=" in query else None)
    return given


def _csp_with_hashes(body: bytes) -> bytes:
    """The policy with each inline script of ``body`` allowed by its SHA-256 (the /docs pages)."""
    hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(s).digest()).decode()
                      for s in INLINE_SCRIPT.findall(body))
    return CSP.replace("script-src 'self'", f"script-src 'self' {hashes}").encode()


def _wants_json(path: str) -> bool:
    """True for the API's paths (refused with JSON); the rest are pages (refused with a short page)."""
    return path.startswith("/api/") or path in ("/api", "/openapi.json")


def _refuse(status: int, detail: str, **headers) -> Response:
    """A refusal as JSON {"detail": ...}."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _needs_token(scope, reason: str) -> Response:
    """401: JSON for the API and the WebSocket, a short page saying where the link is for the rest."""
    if scope["type"] == "websocket" or _wants_json(scope["path"]):
        return _refuse(401, f"{reason} Send it as 'Authorization: token <token>', or open the link "
                       "with ?token= that the server printed.", **{"WWW-Authenticate": "token"})
    return HTMLResponse(NEEDS_LINK.format(reason=reason), status_code=401)


def _token_redirect(scope, headers: dict[bytes, bytes], token: str) -> Response:
    """The answer to a link with a valid ?token=: the cookie, and the same URL without the token. A
    302 redirect, but a navigation begun on another site (a course page) would not send the Strict
    cookie even after it, so that one gets a page of this server that refreshes to the URL."""
    target = _without_token(scope)
    if headers.get(b"sec-fetch-site") == b"cross-site":
        response = HTMLResponse(REFRESH.format(url=html.escape(target)))
    else:
        response = RedirectResponse(target, status_code=302)
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="strict",
                        secure=scope.get("scheme") == "https")
    return response


def _adding_headers(send):
    """``send`` adding the policy and nosniff headers to the answer."""
    async def wrapped(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *HEADERS]}
        await send(message)
    return wrapped


def _hashing(send):
    """``send`` holding a /docs answer until its body is whole, then adding the policy with the
    hashes of that page's inline scripts (and nosniff)."""
    start, chunks = {}, []

    async def hold(message):
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body" and start:
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(chunks)
                extra = ((b"content-security-policy", _csp_with_hashes(body)), NOSNIFF)
                await send({**start, "headers": [*start.get("headers", ()), *extra]})
                await send({"type": "http.response.body", "body": body})
        else:
            await send(message)
    return hold


async def _deny_socket(scope, receive, send, response: Response) -> None:
    """Refuse a WebSocket handshake before accepting it: ``response`` as its HTTP answer where the
    server can send one (uvicorn can), else a plain close (the client sees HTTP 403)."""
    websocket = WebSocket(scope, receive, send)
    await websocket.receive()                   # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(code=1008)


class SecurityMiddleware:
    """Pure ASGI middleware: the checks of this module on http and websocket scopes alike."""

    def __init__(self, app, policy: Policy):
        self.app, self.policy = app, policy

    async def __call__(self, scope, receive, send):
        """Refuse, redirect (a token link) or pass on, adding the headers to every HTTP answer."""
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        answer = self.check(scope)
        if scope["type"] == "websocket":
            if answer is None:
                return await self.app(scope, receive, send)
            return await _deny_socket(scope, receive, send, answer)
        if answer is not None:
            return await answer(scope, receive, _adding_headers(send))
        await self.app(scope, receive, _hashing(send) if scope["path"] in DOCS else _adding_headers(send))

    def check(self, scope) -> Response | None:
        """The answer refusing this request (or a token link's redirect); None to let it through."""
        headers = _headers(scope)
        server = scope.get("server")
        server = server[0] if server else None
        host = headers.get(b"host")
        if host is not None and not self.policy.own_host_header(host, server):
            return _refuse(403, f"Host {host.decode('latin-1')!r} is not a name of this server, so the "
                           "request is refused (a page using DNS rebinding would look like this); to reach "
                           "the server by that name, start it with --allow-host NAME")
        why = self._cross_site(scope, headers, server)
        if why is not None:
            return _refuse(403, why)
        return None if self.policy.token is None else self._token(scope, headers)

    def _cross_site(self, scope, headers: dict[bytes, bytes], server: str | None) -> str | None:
        """Why this handshake or state-changing request comes from another site's page, or None."""
        if scope["type"] == "websocket":
            sources = (b"origin",)
        elif scope["method"] in UNSAFE:
            sources = (b"origin", b"referer")
        else:
            return None
        for name in sources:
            if name in headers:
                why = self.policy.foreign(headers[name], server)
                what = "WebSocket" if scope["type"] == "websocket" else scope["method"]
                return why and (f"cross-site {what} refused: {name.decode().title()} {why}; this server "
                                "takes commands only from its own pages (or from clients sending no Origin)")
        return None

    def _token(self, scope, headers: dict[bytes, bytes]) -> Response | None:
        """401 without a valid token; the cookie and a redirect for a page link with ?token=."""
        given = _presented(scope, headers)
        link = given[-1]
        if not any(self.policy.valid(t) for t in given):
            reason = ("This link's access token is not this server's (was it restarted? It prints a new "
                      "link each time)." if link is not None else "This server needs its access token.")
            return _needs_token(scope, reason)
        if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and self.policy.valid(link)
                and not _wants_json(scope["path"])):
            return _token_redirect(scope, headers, link)
        return None
