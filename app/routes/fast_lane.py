"""A fast lane for POST /api/sessions/{id}/step, /backward and /update: the same answers, less routing.

On the default 2-8-8-2 net FastAPI's route machinery (dependency solving, query validation) took
about 0.2 ms per request, as long as the whole engine step. These three routes have no body and at
most three query parameters, so they are matched first as plain Starlette routes that call the same
``run_locked`` with the same ``render_options``. The lane only takes a request whose query string
needs no validation beyond what ``render_options`` does itself: every parameter known, given once,
and ``encoding`` json or b64. Anything else (another method, a bad encoding, an unknown or repeated
parameter) falls through to the documented routes in ``sessions.py``, which answer (or 422) as before.
The store, the 404 for an unknown session, the 409 out of order and the 422 naming ``query.layers``
come from the same code as there, through the app's exception handlers.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.routing import Match, Route

from ..responses import render_options, run_locked

PHASES = ("step", "backward", "update")
QUERY = frozenset({"encoding", "layers", "fields"})
ENCODINGS = frozenset({"json", "b64"})


def plain_query(query_string: bytes) -> dict[str, str] | None:
    """The query's parameters if the lane may answer it (each known and given once, a valid
    encoding), else None. Parsed as Starlette parses ``request.query_params``."""
    if not query_string:
        return {}
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= QUERY or params.get("encoding", "json") not in ENCODINGS:
        return None
    return params


class LaneRoute(Route):
    """A POST route that matches only requests ``plain_query`` accepts (others go on to FastAPI's)."""

    def matches(self, scope) -> tuple[Match, dict]:
        if scope["type"] != "http" or scope["method"] != "POST":
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is not Match.FULL:
            return Match.NONE, {}
        params = plain_query(scope.get("query_string", b""))
        if params is None:
            return Match.NONE, {}
        return match, {**child, "lane_query": params}


def _endpoint(phase: str):
    async def answer(request: Request):
        query = request.scope["lane_query"]     # options first, then the session: FastAPI's order
        options = await render_options(request, query.get("encoding", "json"), query.get("layers"), query.get("fields"))
        session = request.app.state.store.get(request.path_params["session_id"])
        return await run_locked(session, getattr(session, phase), options=options)
    answer.__name__ = f"{phase}_lane"
    return answer


def lane_routes() -> list[LaneRoute]:
    """The lane's routes, made afresh for each app (create_app puts them before the documented ones)."""
    return [LaneRoute(f"/api/sessions/{{session_id}}/{phase}", _endpoint(phase), methods=["POST"],
                      include_in_schema=False) for phase in PHASES]
