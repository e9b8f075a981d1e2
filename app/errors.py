"""The server's own errors and how each becomes an HTTP answer (404, 409, 422, 503)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


class Unprocessable(ApiError):
    """Bad input (422), in FastAPI's shape: {"detail": [{"loc": [...], "msg": ..., "type": ...}]}."""

    status = 422

    def __init__(self, loc: list, message: str):
        super().__init__(message)
        self.loc = list(loc)

    def body(self) -> dict:
        """The field is named once, by "loc" (as in FastAPI's own 422s); "msg" says what is wrong."""
        return {"detail": [{"loc": self.loc, "msg": self.message, "type": "value_error"}]}


async def _handle(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body, with non-finite numbers echoed from the request (``NaN``, ``Infinity``,
    which Python's JSON parser accepts) sent as null: the answer itself must be valid JSON."""
    return JSONResponse({"detail": sanitize(jsonable_encoder(exc.errors()))}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: a clear 500 (with the exception's type) instead of a bare crash page."""
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _handle)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
