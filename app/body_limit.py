"""Every request body has a size limit, enforced while it is read (413 naming the limit).

A pure ASGI middleware: a declared Content-Length over the limit is refused before anything is read;
otherwise the bytes are counted as the app reads them, and the read past the limit fails (the app
then never sees more than the limit, and its answer is replaced by the 413). The limit depends on
the route: an imported session (PUT /api/sessions/{id}/export) has ``max_upload_bytes``, an uploaded
CSV file (POST /api/datasets/csv) ``max_csv_bytes``, every other body (JSON) ``max_json_bytes``.
"""
from __future__ import annotations

import re

from starlette.exceptions import HTTPException

from .errors import TooLarge, clean
from .responses import dumps

IMPORT = re.compile(r"^/api/sessions/[^/]+/export/?$")
CSV = re.compile(r"^/api/datasets/csv/?$")


def limit_for(method: str, path: str, settings) -> tuple[int, str]:
    """(bytes, the Settings field) allowed for a body of ``method`` ``path``."""
    if method == "PUT" and IMPORT.match(path):
        return settings.max_upload_bytes, "max_upload_bytes"
    if method == "POST" and CSV.match(path):
        return settings.max_csv_bytes, "max_csv_bytes"
    return settings.max_json_bytes, "max_json_bytes"


def too_large(limit: int, field: str, size: int | None = None) -> TooLarge:
    said = f" of {size} bytes" if size is not None else ""
    return TooLarge(f"the request body{said} exceeds the limit of {limit} bytes ({field}); "
                    "send less, or ask the server's operator to raise the limit")


class _Overflow(HTTPException):
    """Raised by ``receive`` past the limit (FastAPI passes an HTTPException from the body through)."""

    def __init__(self, error: TooLarge):
        super().__init__(status_code=413, detail=error.message)
        self.error = error


class BodyLimitMiddleware:
    def __init__(self, app, settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, field = limit_for(scope["method"], scope["path"], self.settings)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _answer(send, too_large(limit, field, int(declared)))
        state = {"read": 0, "error": None, "started": False}

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["error"] = too_large(limit, field)
                    raise _Overflow(state["error"])
            return message

        async def guarded_send(message):
            if state["error"] is not None and not state["started"]:
                return          # the app's answer to the failed read: the 413 is sent instead
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _Overflow:
            pass
        if state["error"] is not None and not state["started"]:
            await _answer(send, state["error"])


async def _answer(send, error: TooLarge) -> None:
    body = dumps(clean(error.body()))
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
