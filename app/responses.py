"""Fast JSON answers: frames are rendered and dumped in a worker thread, never with NaN."""
from __future__ import annotations

import json
from typing import Literal

from fastapi import Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .errors import Unprocessable
from .frames import render


class RenderOptions:
    """?encoding=json|b64 & layers=1,2 & fields=W,a,delta: what to send of a frame."""

    def __init__(self, encoding: Literal["json", "b64"] = Query("json", description="b64: float32 LE base64"),
                 layers: str | None = Query(None, description="Comma-separated layer indices l to send."),
                 fields: str | None = Query(None, description="Comma-separated fields: W,b,z,a,delta,...")):
        self.encoding = encoding
        self.layers = _ints(layers, "layers") if layers else None
        self.fields = {f.strip() for f in fields.split(",") if f.strip()} if fields else None


def _ints(text: str, name: str) -> set[int]:
    try:
        return {int(p) for p in text.split(",") if p.strip()}
    except ValueError:
        raise Unprocessable(["query", name], f"comma-separated integers expected, got {text!r}") from None


def dumps(content) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def json_bytes(content, status_code: int = 200) -> Response:
    return Response(dumps(content), status_code=status_code, media_type="application/json")


async def run_locked(session, method, *args, options: RenderOptions | None = None, status_code: int = 200):
    """Call ``method`` under the session's lock in a worker thread; answer its frame as JSON."""
    def work() -> bytes:
        with session.locked():
            frame = method(*args)
            if options is None:
                return dumps(render(frame))
            return dumps(render(frame, options.encoding, options.layers, options.fields))
    return Response(await run_in_threadpool(work), status_code=status_code, media_type="application/json")
