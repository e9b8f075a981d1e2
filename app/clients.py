"""Who a request comes from: a random client id in a cookie, so a client sees only its own sessions.

The cookie is set on the page (GET /) and on the first session a client creates. It is not a
password: a session's 128-bit id stays the capability to use it. It only keeps ``GET /api/sessions``
from listing other people's session ids, and lets a page find its own sessions again.
"""
from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response

COOKIE = "backprop_lab_client"
MAX_AGE = 30 * 24 * 3600        # a month: the same browser keeps finding its sessions


def client_id(connection: HTTPConnection) -> str | None:
    """The request's client id, or None (a script that keeps no cookies)."""
    value = connection.cookies.get(COOKIE)
    return value if value and len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def ensure_client(connection: HTTPConnection, response: Response) -> str:
    """The request's client id; a new one, set as a cookie on ``response``, if it had none."""
    existing = client_id(connection)
    if existing is not None:
        return existing
    new = secrets.token_hex(16)
    response.set_cookie(COOKIE, new, max_age=MAX_AGE, httponly=True, samesite="strict", path="/")
    return new
