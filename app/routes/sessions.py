"""/api/sessions: create, read, change, delete sessions, and step them one phase at a time."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from .. import session_io
from ..answer_schemas import COMMON, EpochAnswer, HistoryAnswer, StepAnswer, errors
from ..clients import client_id, ensure_client
from ..deps import get_settings, get_store
from ..errors import Unprocessable
from ..responses import (
    ENCODINGS,
    Encoding,
    Fields,
    Layers,
    RenderOptions,
    call_locked,
    json_bytes,
    render_options,
    run_locked,
    run_outside,
)
from ..schemas import (
    ForwardRequest,
    ResetRequest,
    SessionCreate,
    SessionPatch,
    SessionPatched,
    SessionPublic,
    check_hyperparameters,
    check_indices,
)
from ..settings import Settings
from ..store import SessionStore
from ..travel import describe_penalty

router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=errors(*COMMON))
STEPPING = errors(404, 409, 422)      # a phase: no session, out of order or diverged, bad ?layers=
Store = Annotated[SessionStore, Depends(get_store)]
Render = Annotated[RenderOptions, Depends(render_options)]


@router.post("", status_code=201, response_model=SessionPublic, responses=errors(422, 503))
async def create_session(request: Request, response: Response, store: Store,
                         body: Annotated[SessionCreate | None, Body()] = None) -> dict:
    """A new session; the input size comes from the data set. An empty body (or ``{}``) builds the
    default session that /api/options publishes as ``defaults`` (the page's own default). The
    session belongs to the caller's client cookie (set here if missing): ``GET /api/sessions`` lists
    only the caller's own sessions."""
    body = body if body is not None else SessionCreate()
    session = await run_in_threadpool(store.build, body)
    session.owner = ensure_client(request, response)
    store.add(session)
    return session.public()


@router.get("")
async def list_sessions(request: Request, store: Store) -> dict:
    """The caller's own sessions (by its client cookie), never anyone else's ids."""
    store.expire()
    return {"sessions": [{"id": s.id, "state": s.state(), "config": s.config}
                         for s in store.owned_by(client_id(request))]}


@router.get("/{session_id}", response_model=SessionPublic, responses=errors(404))
async def get_session(session_id: str, store: Store) -> dict:
    session = store.get(session_id)
    return await run_locked(session, session.public)


@router.patch("/{session_id}", response_model=SessionPatched, responses=errors(404, 422))
async def patch_session(session_id: str, body: SessionPatch, store: Store,
                        settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    """Change the optimizer (its learning rate, other hyperparameters, or another optimizer) and/or the
    batch size without touching the weights. The same optimizer keeps its state (momenta, averages,
    iteration count; slots it did not have start at their initial value); another optimizer starts
    with a fresh state. A new batch size applies from the next batch drawn (the epoch goes on).
    ``changes`` in the answer says what was kept, with a one-line ``message``."""
    if body.optimizer is None and body.batch_size is None and body.regularization is None:
        raise Unprocessable(["body"], "give optimizer, batch_size and/or regularization")
    if body.batch_size is not None and body.batch_size > settings.max_batch_size:
        raise Unprocessable(["body", "batch_size"], f"at most {settings.max_batch_size}, got {body.batch_size}")
    session = store.get(session_id)

    def change():
        changes: dict = {"weights": "kept"}
        if body.optimizer is not None:
            opt = body.optimizer
            name = opt.name or session.config["optimizer"]["name"]
            wanted = check_hyperparameters(name, opt.model_extra or {})
            if opt.name is not None:
                wanted["name"] = opt.name
            if opt.learning_rate is not None:
                wanted["learning_rate"] = opt.learning_rate
            changes["optimizer"] = session.set_optimizer(wanted)
        if body.batch_size is not None:
            changes["batch_size"] = session.set_batch_size(body.batch_size)
        if body.regularization is not None:
            changes["regularization"] = session.set_regularization(body.regularization.model_dump())
        changes["message"] = _patch_message(changes, session.model.step)
        return {**session.public(), "changes": changes}
    return await run_locked(session, change)


def _patch_message(changes: dict, step: int) -> str:
    parts = []
    opt = changes.get("optimizer")
    if opt and opt["state"] == "kept":
        kept = ", ".join([*opt["kept"], f"iteration count {opt['iterations']}"])
        fresh = f"; new slots start at their initial value: {', '.join(opt['started'])}" if opt["started"] else ""
        parts.append(f"{opt['optimizer']} keeps its state ({kept}){fresh}")
    elif opt:
        parts.append(f"the optimizer is now {opt['optimizer']}: its state starts afresh")
    if "batch_size" in changes:
        b = changes["batch_size"]
        parts.append(f"batch size {b['from']} → {b['to']} from the next batch")
    if "regularization" in changes:
        parts.append(f"the kernel penalty is {describe_penalty(changes['regularization']['to'])} from the next step")
    return f"The weights were kept, training goes on from step {step}; " + "; ".join(parts) + "."


@router.delete("/{session_id}", status_code=204, responses=errors(404))
async def delete_session(session_id: str, store: Store) -> Response:
    store.delete(session_id)
    return Response(status_code=204)


@router.post("/{session_id}/forward", response_model=StepAnswer, responses=STEPPING)
async def forward(session_id: str, store: Store, options: Render,
                  settings: Annotated[Settings, Depends(get_settings)],
                  body: Annotated[ForwardRequest | None, Body()] = None):
    """Forward pass on the epoch's next minibatch, or on chosen training rows (a one-off batch of at
    most max_indices rows)."""
    check_indices(body.indices if body else None, settings)
    session = store.get(session_id)
    return await run_locked(session, session.forward, body.indices if body else None, options=options)


class PhaseRoute(APIRoute):
    """POST /backward, /update and /step: FastAPI's documented route, called without its per-request
    dependency solving (on the default 2-8-8-2 net that took about 0.1 ms of a 0.7 ms request).

    Everything but the call is FastAPI's: the path, the match (404 for no route, 405 for another
    method), the OpenAPI entry (from the endpoint's signature) and the app's error handlers. The
    endpoint takes the path's ``session_id``, the request and the three query parameters, read here
    as FastAPI reads them: from ``request.query_params``, the last value of a repeated parameter,
    the endpoint's default when one is absent, unknown ones ignored. Only ``encoding`` needs
    validating: a request whose encoding is not json or b64 goes to FastAPI's own handler, whose
    422 names ``query.encoding``; ``layers`` is checked by ``render_options`` as on every route."""

    PARAMS = ("encoding", "layers", "fields")

    def __init__(self, path: str, endpoint, **kwargs):
        super().__init__(path, endpoint, **kwargs)
        d = self.dependant
        if ([p.name for p in d.path_params] != ["session_id"] or d.request_param_name != "request"
                or sorted(p.name for p in d.query_params) != sorted(self.PARAMS)
                or d.header_params or d.cookie_params or d.body_params or d.dependencies):
            raise TypeError(f"{endpoint.__name__}: a PhaseRoute endpoint takes session_id, request and "
                            f"the query parameters {', '.join(self.PARAMS)}, nothing else")

    def get_route_handler(self):
        fastapi_handler = super().get_route_handler()
        endpoint, names = self.endpoint, self.PARAMS

        async def handler(request: Request):
            query = request.query_params
            given = {name: query[name] for name in names if name in query}
            if given.get("encoding", "json") not in ENCODINGS:
                return await fastapi_handler(request)
            return await endpoint(session_id=request.path_params["session_id"], request=request, **given)
        return handler


def phase_route(name: str):
    """Register ``POST /{session_id}/<name>`` as a PhaseRoute answering a StepAnswer."""
    def register(endpoint):
        router.add_api_route(f"/{{session_id}}/{name}", endpoint, methods=["POST"], response_model=StepAnswer,
                             responses=STEPPING, route_class_override=PhaseRoute)
        return endpoint
    return register


async def _phase(request: Request, session_id: str, phase: str, encoding: str, layers: str | None,
                 fields: str | None) -> Response:
    options = await render_options(request, encoding, layers, fields)    # the query first, then the session
    session = request.app.state.store.get(session_id)
    return await run_locked(session, getattr(session, phase), options=options)


@phase_route("backward")
async def backward(session_id: str, request: Request, encoding: Encoding = "json", layers: Layers = None,
                   fields: Fields = None):
    return await _phase(request, session_id, "backward", encoding, layers, fields)


@phase_route("update")
async def update(session_id: str, request: Request, encoding: Encoding = "json", layers: Layers = None,
                 fields: Fields = None):
    return await _phase(request, session_id, "update", encoding, layers, fields)


@phase_route("step")
async def step(session_id: str, request: Request, encoding: Encoding = "json", layers: Layers = None,
               fields: Fields = None):
    return await _phase(request, session_id, "step", encoding, layers, fields)


@router.post("/{session_id}/epoch", response_model=EpochAnswer, responses=STEPPING)
async def epoch(session_id: str, store: Store, options: Render):
    """The rest of the epoch: its metrics, and its last minibatch (batch, z, a, δ, W before and after)."""
    session = store.get(session_id)
    return await run_locked(session, session.run_epoch, options=options, inline=False)


@router.get("/{session_id}/progress", responses=errors(404))
async def progress(session_id: str, store: Store) -> dict:
    """Where a running Epoch stands (answered at once, without waiting for it): ``action`` ("epoch"
    or null), ``seconds`` since it began, ``batch`` of ``steps_per_epoch``, ``step`` and ``epoch``."""
    return store.get(session_id).progress()


INLINE_POINTS = 4000     # a history thinned to at most this many values a curve is answered inline
HistoryPoints = Annotated[int | None, Query(ge=2, description="At most this many values a curve: every "
                                           "stride-th and the newest (batch_step, epoch_number); all if omitted")]


@router.get("/{session_id}/history", response_model=HistoryAnswer, responses=errors(404, 422))
async def history(session_id: str, store: Store, points: HistoryPoints = None):
    session = store.get(session_id)
    # thinned (the page's 4000 points): about a millisecond, answered on the event loop, so the
    # player never waits for a worker thread; whole curves can be megabytes: a worker thread
    return await run_locked(session, session.history_public, points, inline=points is not None and
                            points <= INLINE_POINTS, plain=True)


@router.get("/{session_id}/predict-grid", responses=errors(404, 409, 422))
async def predict_grid(session_id: str, store: Store, settings: Annotated[Settings, Depends(get_settings)],
                       resolution: Annotated[int, Query(ge=2)] = 50,
                       encoding: Literal["json", "b64"] = Query("json", description="b64: float32 LE base64")):
    """On a 2-D data set: the network's output over a resolution × resolution grid (rows at x2)."""
    if resolution > settings.max_grid:
        raise Unprocessable(["query", "resolution"], f"at most {settings.max_grid}, got {resolution}")
    session = store.get(session_id)
    # on the event loop when small (no thread hop, and the player never waits for a worker thread)
    return await run_locked(session, session_io.predict_grid, session, resolution, encoding,
                            inline=session.cheap_grid(resolution * resolution))


@router.get("/{session_id}/data", responses=errors(404, 409, 422))
async def data_points(session_id: str, store: Store, settings: Annotated[Settings, Depends(get_settings)],
                      limit: Annotated[int, Query(ge=1)] = 1000):
    """2-D sets: the train and test points (at most ``limit`` of each, spread evenly) with their labels."""
    if limit > settings.max_points:
        raise Unprocessable(["query", "limit"], f"at most {settings.max_points}, got {limit}")
    session = store.get(session_id)
    return await run_locked(session, session_io.data_points, session, limit, inline=False)


@router.get("/{session_id}/confusion", responses=errors(404, 409, 422))
async def confusion(session_id: str, store: Store, split: Literal["test", "train"] = "test"):
    """Classification: the confusion matrix (rows true class, columns predicted) over a whole split, of
    the weights when asked (worked out on a copy, outside the session's lock: a playing session trains on)."""
    session = store.get(session_id)
    snap = await call_locked(session, session_io.confusion_snapshot, session, split)
    return await run_outside(session.report_lock, session_io.confusion_of, snap)


@router.post("/{session_id}/reset", response_model=SessionPublic, responses=errors(404, 422))
async def reset(session_id: str, store: Store, body: Annotated[ResetRequest | None, Body()] = None):
    """Start again from the same initial weights, or from new ones (weights: "new", optional seed)."""
    session = store.get(session_id)
    body = body or ResetRequest()

    def work():
        session.reset(body.weights, body.seed)
        return session.public()
    return await run_locked(session, work)


@router.get("/{session_id}/export", responses={
    200: {"description": "format=json: the export as JSON; format=npz: an .npz file (numpy's savez).",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    **errors(404, 409, 422)})
async def export(session_id: str, store: Store, format: Literal["json", "npz"] = "json"):
    """The session's config and weights (Keras layout) as JSON, or as an .npz file."""
    session = store.get(session_id)
    if format == "json":
        return await run_locked(session, session_io.export_json, session, inline=False)

    def work():
        with session.locked():
            return session_io.export_npz(session)
    return Response(await run_in_threadpool(work), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="session-{session_id[:8]}.npz"'})


@router.put("/{session_id}/export", response_model=SessionPublic, responses=errors(404, 422), openapi_extra={
    "requestBody": {"required": True, "description": "An export: JSON (GET .../export) or .npz (?format=npz), "
                    "at most max_upload_bytes.",
                    "content": {"application/json": {"schema": {"type": "object"}},
                                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def import_session(session_id: str, request: Request, store: Store):
    """Replace the session by an export (JSON, or .npz with Content-Type application/octet-stream)."""
    store.get(session_id)
    raw = await request.body()          # at most max_upload_bytes (413 past it: app.body_limit)
    if request.headers.get("content-type", "").startswith("application/json"):
        parsed = session_io.parse_json(_json(raw))
    else:
        parsed = session_io.parse_npz(raw, store.settings.max_upload_bytes)
    session = await run_in_threadpool(_rebuild, store, *parsed, session_id)
    store.replace(session_id, session)
    return json_bytes(session.public())


def _rebuild(store: SessionStore, config: dict, weights, state: dict, arrays: dict, session_id: str):
    """The imported session: built from the export's config, with its weights and training state."""
    from pydantic import ValidationError

    from .. import npz_import, session_state
    from ..sessions import Session
    try:
        body = SessionCreate.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Unprocessable(["body", "config", *first["loc"]], first["msg"]) from None
    probe = store.build(body)
    if isinstance(weights, npz_import.NpzMembers):      # .npz: each member read now, its header checked first
        members = weights
        weights = npz_import.weights(members, probe.model)
        arrays = npz_import.state_arrays(members, probe.model, probe.data.n_train)
    session_io.check_weights(weights, probe.model)
    session = Session(probe.config, probe.data, weights=weights, session_id=session_id)
    session.timeline_budget = store.settings.timeline_bytes      # (the imported timeline is held to it)
    session_state.restore(session, state, arrays)
    return session


def _json(raw: bytes):
    import json
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Unprocessable(["body"], f"not JSON: {exc}") from None
    except RecursionError:
        raise Unprocessable(["body"], "not JSON: nested too deeply") from None

