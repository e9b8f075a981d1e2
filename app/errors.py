"""The server's own errors and how each becomes an HTTP answer (404, 409, 413, 422, 503).

Every error body is valid, bounded JSON whatever the input was: what it echoes of the request
goes through ``clean`` (lone surrogates replaced, long strings, long lists and deep nesting cut)."""
from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .tensors import sanitize


class ApiError(Exception):
    """Base: ``status`` and a message; routes raise these, the handlers below answer them."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        return {"detail": self.message}


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    """A step out of order, or an action the session's state does not allow (409)."""

    status = 409


class ServerFull(ApiError):
    status = 503


class TooLarge(ApiError):
    """A request body over its limit (413); the message names the limit."""

    status = 413


class Unprocessable(ApiError):
    """Bad input (422), in FastAPI's shape: {"detail": [{"loc": [...], "msg": ..., "type": ...}]}."""

    status = 422

    def __init__(self, loc: list, message: str):
        super().__init__(message)
        self.loc = list(loc)

    def body(self) -> dict:
        """The field is named once, by "loc" (as in FastAPI's own 422s); "msg" says what is wrong."""
        return {"detail": [{"loc": self.loc, "msg": self.message, "type": "value_error"}]}


MAX_TEXT, MAX_ITEMS, MAX_DEPTH = 2000, 50, 6     # what an error echoes of the input, at most
SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as valid UTF-8 (a lone surrogate, which JSON allows but UTF-8 cannot hold, becomes
    U+FFFD), cut to MAX_TEXT characters."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = SURROGATE.sub("\ufffd", text)
    return text


def clean(value, depth: int = 0):
    """Plain JSON data to echo in an error: strings through ``clean_text``, at most MAX_ITEMS items
    of a list or object and MAX_DEPTH levels (deeper parts become "…"), other objects as text."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {clean_text(str(k)): clean(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…"] = f"{len(items) - MAX_ITEMS} more"
        return out
    if isinstance(value, (list, tuple)):
        out = [clean(v, depth + 1) for v in value[:MAX_ITEMS]]
        return out + [f"… {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else out
    return clean_text(str(value))


async def _handle(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(clean(exc.body()), status_code=exc.status)


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body, with non-finite numbers echoed from the request (``NaN``, ``Infinity``,
    which Python's JSON parser accepts) sent as null: the answer itself must be valid JSON."""
    errors = [clean(error) for error in exc.errors()]
    return JSONResponse({"detail": sanitize(jsonable_encoder(errors))}, status_code=422)


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's and FastAPI's own HTTP errors. A body FastAPI could not parse (its 400 "There was
    an error parsing the body": not UTF-8, or JSON nested too deeply for the parser) is a 422
    naming the body, like any other bad JSON."""
    cause = exc.__cause__
    if exc.status_code == 400 and cause is not None:
        if isinstance(cause, RecursionError):
            why = "JSON nested too deeply"
        elif isinstance(cause, UnicodeDecodeError):
            why = f"not UTF-8 text (byte {cause.start})"
        else:
            why = f"not readable as JSON ({type(cause).__name__})"
        return await _handle(request, Unprocessable(["body"], why))
    return JSONResponse({"detail": clean(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: a clear 500 (with the exception's type) instead of a bare crash page."""
    return JSONResponse({"detail": clean_text(f"internal error: {type(exc).__name__}: {exc}")}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _handle)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
