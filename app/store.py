"""Sessions in memory: a cap on their number and total parameters, idle expiry, shared data sets."""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

from engine import datasets
from engine.datasets import MnistNotFoundError
from engine.errors import ConfigError

from .errors import NotFound, ServerFull, Unprocessable
from .schemas import SessionCreate, check_limits, optimizer_config
from .sessions import Session
from .settings import Settings


class DataCache:
    """The few most recent data sets, shared read-only by the sessions that use them (MNIST is big)."""

    def __init__(self, size: int = 4):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def load(self, spec: dict):
        key = json.dumps(spec, sort_keys=True, default=str)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        options = {k: v for k, v in spec.items() if k != "name"}
        try:
            data = datasets.load(spec["name"], **options)
        except MnistNotFoundError as exc:
            raise Unprocessable(["body", "dataset", "name"], f"MNIST is not available here. {exc}") from None
        except (ValueError, TypeError) as exc:
            raise Unprocessable(["body", "dataset"], str(exc)) from None
        for arr in (data.x_train, data.y_train, data.x_test, data.y_test):
            arr.flags.writeable = False
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data


def engine_config(body: SessionCreate) -> dict:
    """The plain config the engine builds from (the optimizer's hyperparameters resolved)."""
    config = body.model_dump(include={"dataset", "layers", "loss", "kernel_initializer",
                                      "bias_initializer", "batch_size", "seed", "regularization"})
    config["optimizer"] = optimizer_config(body.optimizer)
    return config


def _build_error(exc: ValueError, config: dict) -> Unprocessable:
    """422 for an engine ValueError: at the parameter a ConfigError names (−1 = the output layer)."""
    if isinstance(exc, ConfigError):
        path = [len(config["layers"]) + p if isinstance(p, int) and p < 0 else p for p in exc.param]
        return Unprocessable(["body", *path], str(exc))
    return Unprocessable(["body"], str(exc))


class SessionStore:
    """Thread-safe table id → Session."""

    def __init__(self, settings: Settings, uploads=None):
        self.settings = settings
        self.data = DataCache()
        self.uploads = uploads
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def total_params(self) -> int:
        return sum(s.n_params for s in list(self._sessions.values()))

    def expire(self, now: float | None = None) -> list[str]:
        """Drop sessions idle for longer than the limit (never one that is busy)."""
        now = time.monotonic() if now is None else now
        limit = self.settings.idle_expiry_seconds
        with self._lock:
            old = [sid for sid, s in self._sessions.items()
                   if now - s.last_used > limit and not s.lock.locked() and not s.holders]
            for sid in old:
                self._sessions.pop(sid).deleted.set()
        return old

    def build(self, body: SessionCreate, weights=None) -> Session:
        """A new Session from a validated body (not yet stored); 422 naming the field on bad input."""
        check_limits(body, self.settings)
        config = engine_config(body)
        data = self.load_data(config["dataset"])
        try:
            session = Session(config, data, weights=weights)
        except ValueError as exc:
            raise _build_error(exc, config) from None
        session.timeline_budget = session.timeline.budget = self.settings.timeline_bytes
        return session

    def load_data(self, spec: dict):
        """The data set of ``spec``: an uploaded CSV by its upload_id, any other from the shared cache."""
        if spec["name"] == "csv":
            if self.uploads is None or "upload_id" not in spec:
                raise Unprocessable(["body", "dataset", "upload_id"], "upload the CSV file first "
                                    "(POST /api/datasets/csv) and give its upload_id")
            return self.uploads.dataset(spec)
        return self.data.load(spec)

    def full_message(self) -> str:
        s = self.settings
        return (f"The server holds its maximum of {s.max_sessions} training sessions (one per open page). "
                "Close Backprop Lab tabs you no longer use (a closed page gives its session back within "
                f"{s.release_after_seconds:g} s), then press Reset to try again. A teacher can raise the cap: "
                "backprop-lab serve --max-sessions N.")

    def add(self, session: Session) -> Session:
        """Store ``session``; 503 when the server holds too many sessions or parameters."""
        self.expire()
        s = self.settings
        if session.n_params > s.max_total_params:
            raise Unprocessable(["body", "layers"], f"the network has {session.n_params:,} parameters; "
                                f"the limit is {s.max_total_params:,}")
        with self._lock:
            if len(self._sessions) >= s.max_sessions:
                raise ServerFull(self.full_message())
            if self.total_params() + session.n_params > s.max_total_params:
                raise ServerFull(f"the server's sessions would exceed {s.max_total_params:,} weights in "
                                 "total. Close Backprop Lab tabs you no longer use, or build a smaller network; "
                                 "a teacher can raise the cap: backprop-lab serve --max-total-params N.")
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        session.last_used = time.monotonic()
        return session

    def replace(self, session_id: str, session: Session) -> None:
        """Put an imported ``session`` in the place of the one stored under ``session_id`` (its owner
        kept); 503 if its network would take the server past max_total_params."""
        limit = self.settings.max_total_params
        with self._lock:
            old = self._sessions.get(session_id)
            if old is None:
                raise NotFound(f"no session {session_id!r} (it may have expired)")
            others = sum(s.n_params for sid, s in self._sessions.items() if sid != session_id)
            if session.n_params > limit:
                raise Unprocessable(["body", "config", "layers"], f"the network has {session.n_params:,} "
                                    f"parameters; the limit is {limit:,}")
            if others + session.n_params > limit:
                raise ServerFull(f"the server's sessions would exceed {limit:,} weights in total. Close "
                                 "Backprop Lab tabs you no longer use, or import a smaller network; a teacher "
                                 "can raise the cap: backprop-lab serve --max-total-params N.")
            session.owner = old.owner
            session.timeline_budget = session.timeline.budget = self.settings.timeline_bytes
            self._sessions[session_id] = session
        old.deleted.set()

    def delete(self, session_id: str) -> None:
        """Drop a session; an epoch it is running stops at its next batch, a player at its next step."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        session.deleted.set()

    def hold(self, session: Session) -> None:
        """A page opened ``session`` (its WebSocket with ?hold=1): it is not released or expired."""
        with self._lock:
            session.holders += 1

    def unhold(self, session: Session) -> int:
        """A holding page went away; answers the release ticket to pass to ``release_if_unheld``."""
        with self._lock:
            session.holders -= 1
            session.released += 1
            return session.released

    def release_if_unheld(self, session: Session, ticket: int) -> bool:
        """Drop ``session`` if no page took it up again since ``unhold`` gave ``ticket`` (a reload
        reconnects well within the grace period; a closed page never does)."""
        with self._lock:
            if session.holders or session.released != ticket or self._sessions.get(session.id) is not session:
                return False
            del self._sessions[session.id]
        session.deleted.set()
        return True

    def owned_by(self, client: str | None) -> list[Session]:
        """The sessions ``client`` created (none for a client without an id)."""
        return [s for s in list(self._sessions.values()) if client is not None and s.owner == client]

    def contains(self, session: Session) -> bool:
        """Whether ``session`` is still the one stored under its id (not deleted or replaced)."""
        return self._sessions.get(session.id) is session

    def peek(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def all(self) -> list[Session]:
        return list(self._sessions.values())
