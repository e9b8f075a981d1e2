"""Fast JSON answers: frames are rendered and dumped in a worker thread, never with NaN."""
from __future__ import annotations

import json
from typing import Annotated, Literal

import numpy as np
from fastapi import Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .errors import Unprocessable
from .frames import render


class RenderOptions:
    """What to send of a frame: encoding (json|b64), only some layers, only some fields."""

    def __init__(self, encoding: str = "json", layers: set[int] | None = None, fields: set[str] | None = None,
                 budget: int | None = None):
        self.encoding, self.layers, self.fields, self.budget = encoding, layers, fields, budget


ENCODINGS = ("json", "b64")
# The stepping routes' query parameters, declared once (their OpenAPI entries come from these).
Encoding = Annotated[Literal[ENCODINGS], Query(description="b64: float32 LE base64")]
Layers = Annotated[str | None, Query(description="Comma-separated layer indices l to send.")]
Fields = Annotated[str | None, Query(description="Comma-separated fields: W,b,z,a,delta,...")]


async def render_options(request: Request, encoding: Encoding = "json", layers: Layers = None,
                         fields: Fields = None) -> RenderOptions:
    """?encoding=json|b64 & layers=1,2 & fields=W,a,delta (an async dependency: no thread hop; the
    stepping routes also call it directly); a ``layers`` that is not comma-separated integers is a
    422 naming ``query.layers``. The answer's size budget is the app's ``max_answer_bytes``."""
    return RenderOptions(encoding, _ints(layers, "layers") if layers else None,
                         {f.strip() for f in fields.split(",") if f.strip()} if fields else None,
                         request.app.state.settings.max_answer_bytes)


def _ints(text: str, name: str) -> set[int]:
    try:
        return {int(p) for p in text.split(",") if p.strip()}
    except ValueError:
        raise Unprocessable(["query", name], f"comma-separated integers expected, got {text!r}") from None


def check_layers(layers: set[int], count: int) -> None:
    """422 naming ``query.layers`` when an index is not one of the network's layers 1..``count``."""
    missing = sorted(i for i in layers if not 1 <= i <= count)
    if missing:
        raise Unprocessable(["query", "layers"], f"no layer {', '.join(map(str, missing))}: "
                                                 f"valid layer indices are 1 to {count}")


try:        # optional: 10-15x faster than json for frames, and float32 printed as float32 (0.1, not
    import orjson  # 0.10000000149011612): /step on the default net spends most of its time printing floats
except ImportError:     # pragma: no cover - the stdlib path below gives the same JSON, slower
    orjson = None

RAW = orjson is not None      # render(..., raw=RAW): tensors keep their arrays for orjson to write
_OPTIONS = (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS) if orjson is not None else 0


def _fallback(obj):
    """What orjson (or json) cannot write by itself: other arrays, numpy scalars, sets."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(content) -> bytes:
    """Compact UTF-8 JSON; never NaN or infinity (tensors are guarded by ``encode``, numbers by
    ``finite``; orjson would write a stray one as null, json refuses it)."""
    if orjson is not None:
        return orjson.dumps(content, default=_fallback, option=_OPTIONS)
    return json.dumps(content, ensure_ascii=False, allow_nan=False, check_circular=False, default=_fallback,
                      separators=(",", ":")).encode("utf-8")


async def call_locked(session, method, *args):
    """``method(*args)`` under the session's lock, in a worker thread: its value (a snapshot, say)."""
    def locked():
        with session.locked():
            return method(*args)
    return await run_in_threadpool(locked)


async def run_outside(lock, method, *args) -> Response:
    """``method(*args)`` in a worker thread holding ``lock`` (not the session's: the session trains
    on meanwhile); its answer as JSON, rendered as ``run_locked`` renders."""
    def work() -> bytes:
        with lock:
            return dumps(render(method(*args), raw=RAW))
    return Response(await run_in_threadpool(work), media_type="application/json")


def json_bytes(content, status_code: int = 200) -> Response:
    return Response(dumps(content), status_code=status_code, media_type="application/json")


async def run_locked(session, method, *args, options: RenderOptions | None = None, status_code: int = 200,
                     inline: bool | None = None, plain: bool = False):
    """Call ``method`` under the session's lock; answer its frame as JSON.

    Work on a small network (``session.cheap``: well under a millisecond) runs right here on the event
    loop when the lock is free, which saves the thread hop; anything bigger, or a lock held by another
    request or by the player, goes to a worker thread so the loop never waits. ``plain``: the answer is
    JSON-ready already (plain ints, strings, None and floats each checked by ``finite``), so it is
    written without ``render``'s walk over every value (the history on xor after 170,000 steps, 4,000
    points a curve, under the lock, which the player waits for: 10.4 → 2.9 ms, measured with CI running)."""
    if options is not None and options.layers:
        check_layers(options.layers, len(session.model.dense_layers))

    def work() -> bytes:
        frame = method(*args)
        if plain:
            return dumps(frame)
        if options is None:
            return dumps(render(frame, raw=RAW))
        return dumps(render(frame, options.encoding, options.layers, options.fields, raw=RAW, budget=options.budget))

    def locked_work() -> bytes:
        with session.locked():
            return work()

    if (session.cheap if inline is None else inline) and session.lock.acquire(blocking=False):
        try:
            session.touch()
            body = work()
        finally:
            session.lock.release()
    else:
        body = await run_in_threadpool(locked_work)
    return Response(body, status_code=status_code, media_type="application/json")
