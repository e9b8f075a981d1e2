"""POST /step, /backward, /update: one documented route each (no route shadows them), whose query
is validated as documented (422 naming the field), with 404 for an unknown session and 409 out of
order; their PhaseRoute answers exactly as FastAPI's own handler of the same endpoint would."""
from __future__ import annotations

import httpx
import pytest
from app_helpers import new_session, strict_json
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, compile_path

from app import errors
from app.routes import sessions
from app.routes.sessions import PhaseRoute

pytestmark = pytest.mark.anyio
PHASES = ("backward", "update", "step")
MISSING = "0" * 32
LITERAL = {"type": "literal_error", "loc": ["query", "encoding"], "msg": "Input should be 'json' or 'b64'",
           "ctx": {"expected": "'json' or 'b64'"}}


def _matching(app, path: str, method: str = "POST") -> list:
    """Every route of the app, its included routers' too, whose path matches ``path`` for ``method``."""
    found = []
    for context in iter_route_contexts(app.routes):
        regex = compile_path(context.path_format or "")[0] if context.path_format else None
        methods = context.methods
        if isinstance(context.original_route, Mount):
            hit = path.startswith(context.original_route.path + "/")
        else:
            hit = regex is not None and regex.match(path) is not None
        if hit and (methods is None or method in methods):
            found.append(context.original_route)
    return found


async def test_each_phase_has_one_route_the_documented_one(app, document_paths):
    for phase in PHASES:
        found = _matching(app, f"/api/sessions/abc/{phase}")
        assert len(found) == 1, (phase, found)
        route = found[0]
        assert isinstance(route, PhaseRoute) and route.include_in_schema, phase
        assert route.path == f"/api/sessions/{{session_id}}/{phase}"
        assert "post" in document_paths[route.path]
    assert len(_matching(app, "/api/sessions/abc/forward")) == 1


@pytest.fixture
async def document_paths(client):
    return strict_json(await client.get("/openapi.json"))["paths"]


async def test_the_document_lists_the_query_parameters(document_paths):
    for phase in ("forward", *PHASES, "epoch"):
        parameters = {p["name"]: p for p in document_paths[f"/api/sessions/{{session_id}}/{phase}"]["post"]["parameters"]}
        assert list(parameters) == ["session_id", "encoding", "layers", "fields"], phase
        assert parameters["encoding"]["schema"]["enum"] == ["json", "b64"]
        assert parameters["encoding"]["schema"]["default"] == "json"
        assert all(parameters[name]["in"] == "query" and not parameters[name]["required"]
                   for name in ("encoding", "layers", "fields"))


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("query, given", [("?encoding=xml", "xml"), ("?encoding=", ""), ("?encoding=JSON", "JSON"),
                                          ("?encoding=b64&encoding=xml", "xml")])
async def test_a_bad_encoding_is_a_422_naming_it(client, phase, query, given):
    sid = (await new_session(client))["id"]
    for target in (sid, MISSING):           # the query is checked before the session
        r = await client.post(f"/api/sessions/{target}/{phase}{query}")
        assert r.status_code == 422, r.text
        assert strict_json(r)["detail"] == [{**LITERAL, "input": given}]


@pytest.mark.parametrize("phase", PHASES)
async def test_bad_layers_are_a_422_naming_them(client, phase):
    sid = (await new_session(client))["id"]
    r = await client.post(f"/api/sessions/{MISSING}/{phase}?layers=x")       # before the session
    assert r.status_code == 422
    assert strict_json(r)["detail"] == [{"loc": ["query", "layers"], "type": "value_error",
                                         "msg": "comma-separated integers expected, got 'x'"}]
    r = await client.post(f"/api/sessions/{sid}/{phase}?layers=0,4")        # before the phase's order
    assert r.status_code == 422
    assert strict_json(r)["detail"] == [{"loc": ["query", "layers"], "type": "value_error",
                                         "msg": "no layer 0, 4: valid layer indices are 1 to 3"}]


async def test_layers_and_fields_choose_what_is_sent(client):
    sid = (await new_session(client))["id"]
    full = strict_json(await client.post(f"/api/sessions/{sid}/step"))
    assert [e["index"] for e in full["layers"]] == [1, 2, 3] and {"W", "delta", "W_updated"} <= set(full["layers"][0])
    part = strict_json(await client.post(f"/api/sessions/{sid}/step?layers=2&fields=W,%20delta"))
    assert [e["index"] for e in part["layers"]] == [2]
    assert set(part["layers"][0]) == {"index", "name", "activation", "W", "delta"}
    for query in ("?layers=&fields=", "?layers=1,,2,3&encoding=json&other=1"):    # empty: everything
        answer = strict_json(await client.post(f"/api/sessions/{sid}/step{query}"))
        assert [e["index"] for e in answer["layers"]] == [1, 2, 3] and "W_updated" in answer["layers"][0]
    nothing = strict_json(await client.post(f"/api/sessions/{sid}/step?fields=nonsense"))   # unknown: filtered out
    assert all(set(e) == {"index", "name", "activation"} for e in nothing["layers"])
    b64 = strict_json(await client.post(f"/api/sessions/{sid}/step?encoding=b64&layers=1&fields=W"))
    assert b64["layers"][0]["W"]["dtype"] == "float32le" and isinstance(b64["layers"][0]["W"]["values"], str)


@pytest.mark.parametrize("phase", PHASES)
async def test_an_unknown_session_is_a_404(client, phase):
    for query in ("", "?encoding=b64&layers=1&fields=W"):
        r = await client.post(f"/api/sessions/{MISSING}/{phase}{query}")
        assert r.status_code == 404
        assert strict_json(r) == {"detail": f"no session '{MISSING}' (it may have expired)"}


async def test_phases_out_of_order_are_a_409(client):
    sid = (await new_session(client))["id"]
    base = f"/api/sessions/{sid}"
    backward = await client.post(f"{base}/backward")
    assert backward.status_code == 409 and strict_json(backward)["detail"].startswith(
        "backward: no forward pass to go back through")
    update = await client.post(f"{base}/update?encoding=b64")
    assert update.status_code == 409 and strict_json(update)["detail"].startswith("update: no gradients to apply")
    assert (await client.post(f"{base}/forward")).status_code == 200
    assert (await client.post(f"{base}/update")).status_code == 409          # backward first
    assert (await client.post(f"{base}/backward")).status_code == 200
    assert (await client.post(f"{base}/backward")).status_code == 409        # once per forward pass
    assert strict_json(await client.post(f"{base}/update"))["phase"] == "ready"


async def test_other_methods_are_a_405(client):
    sid = (await new_session(client))["id"]
    for phase in PHASES:
        for method in ("GET", "PUT", "DELETE"):
            r = await client.request(method, f"/api/sessions/{sid}/{phase}")
            assert r.status_code == 405 and r.headers["allow"] == "POST", (phase, method)


def _fastapi_twin(app) -> FastAPI:
    """The same three endpoints as plain APIRoutes (FastAPI solves their parameters), on ``app``'s
    sessions and settings, with the app's error handlers."""
    twin = FastAPI()
    twin.state = app.state
    errors.install(twin)
    for phase in PHASES:
        twin.add_api_route(f"/api/sessions/{{session_id}}/{phase}", getattr(sessions, phase), methods=["POST"])
    assert not any(isinstance(route, PhaseRoute) for route in twin.router.routes)
    return twin


@pytest.mark.parametrize("query", [
    "", "?encoding=b64", "?encoding=json", "?layers=2&fields=W,delta", "?encoding=b64&fields=z,a", "?layers=",
    "?fields=", "?fields=nonsense", "?layers=1,,3", "?encoding=%62%36%34", "?encoding=xml&encoding=b64",
    "?encoding=b64&encoding=xml", "?encoding=", "?encoding=xml", "?ENCODING=xml", "?layers=x", "?layers=9",
    "?layers=1&layers=x", "?other=1&encoding=b64", "?encoding", "?&&layers=1", "?encoding=b64%00"])
async def test_answers_are_fastapis_own(app, client, query):
    """Two sessions built alike, one stepped by the app (its PhaseRoutes), one by FastAPI's handler
    of the same endpoints: the same status and bytes for every phase, in and out of order."""
    twin = _fastapi_twin(app)
    ours, theirs = (await new_session(client))["id"], (await new_session(client))["id"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=twin), base_url="http://test") as fastapi:
        for phase in ("backward", "step", "forward", "update", "backward", "update", "step", "update"):
            if phase == "forward":                      # not a PhaseRoute: both through the app
                a = await client.post(f"/api/sessions/{ours}/forward")
                b = await client.post(f"/api/sessions/{theirs}/forward")
            else:
                a = await client.post(f"/api/sessions/{ours}/{phase}{query}")
                b = await fastapi.post(f"/api/sessions/{theirs}/{phase}{query}")
            assert a.status_code == b.status_code, (phase, a.text, b.text)
            assert a.headers["content-type"] == b.headers["content-type"]
            assert a.content.replace(ours.encode(), b"id") == b.content.replace(theirs.encode(), b"id"), phase
        a = await client.post(f"/api/sessions/{MISSING}/step{query}")
        b = await fastapi.post(f"/api/sessions/{MISSING}/step{query}")
        assert (a.status_code, a.content) == (b.status_code, b.content)


def test_a_phase_route_takes_no_other_parameters():
    async def with_body(session_id: str, request: sessions.Request, body: dict, encoding: str = "json",
                        layers: str | None = None, fields: str | None = None):
        pass

    async def without_fields(session_id: str, request: sessions.Request, encoding: str = "json",
                             layers: str | None = None):
        pass

    for endpoint in (with_body, without_fields):
        with pytest.raises(TypeError, match="PhaseRoute endpoint takes session_id, request"):
            PhaseRoute("/api/sessions/{session_id}/x", endpoint, methods=["POST"])
    assert isinstance(PhaseRoute("/api/sessions/{session_id}/x", sessions.step, methods=["POST"]), APIRoute)
