"""WS /ws/sessions/{id}: commands in, answers and (while playing) a stream of the newest frames out.

Client → server: {"command": "forward" | "backward" | "update" | "step" | "epoch" | "state" |
"play" (with "speed": steps per second, optional) | "pause" | "drawn" | "options" (with "encoding":
"json"|"b64"|"bin", "layers": [l, ...], "fields": [...], "big": n | null, "rows": n | null,
"max_fps": f | null, "ack": bool)}.
Frames while playing come at most ``max_fps`` a second (default 20; the player trains on between
them, building none). With "ack": true the client paces them: after each frame the next is built
only once the client sent {"command": "drawn"} (or after ACK_TIMEOUT s), so a page gets as many
frames as it can draw and the training builds none it would drop (the page asks for max_fps 40).
They leave out, of layers with more than ``big`` weights (default 10,000), what the page does not draw
live unless "fields" ask for it (frames.LEAN_DROP; the default is Settings.play_lean_weights, which
/api/options publishes as limits.play_lean_weights), and with b64 send tensors of more than ``big``
entries as int8 with a scale ("dtype": "int8q"). With "rows": n, such a layer's W after the update and
∂cost/∂W come as their first n rows only (the units the page draws), each with "rows_of", "norm" and
"max_abs" of the whole matrix (``frames.cut_rows``). Answers to the other commands are the HTTP
answers, whole, as is the last frame after a Pause.
With "bin" frames and command answers come as binary messages (``wire``: a JSON header, the tensors'
raw float32 bytes after it), as b64 otherwise; the other messages stay JSON text.
Connect with ``?hold=1`` to hold the session open as a page does: it is dropped
``Settings.release_after_seconds`` (20 s) after the last holding socket closed, unless one reconnects
(a reload does within a second). Server → client: {"type": <command>, "data": <the HTTP answer>},
{"type": "frame", "seq", "data": <the /step answer with state>} while playing, {"type": "playing"},
{"type": "paused", "reason", "state"}, or {"type": "error", "command", "status", "detail"}. On "pause"
the last frame before "paused" is always the session's current step (see ``player``).
A message that is not a JSON object with a known "command" (a binary frame, bad JSON, JSON nested
too deeply, a field of the wrong type) gets {"type": "error", "status": 422, ...} naming the field,
and the connection stays open.
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from ..errors import ApiError, clean
from ..frames import render, render_binary
from ..player import LatestFrame, Player
from ..responses import RAW, dumps
from ..wire import Binary, pack

router = APIRouter()
MANUAL = {"forward": "forward", "backward": "backward", "update": "update", "step": "step",
          "epoch": "run_epoch", "state": "public"}
MAX_FPS = 20.0      # frames per second while playing, at most (each costs the training a few ms)
ACK_TIMEOUT = 1.0   # s: with "ack", the longest wait for the client's "drawn" before the next frame
ACK_AHEAD = 2       # with "ack", frames sent and not yet drawn, at most
MAX_LIST = 4096     # entries of "layers" or "fields" in "options"
JSON_HELP = 'send a JSON object like {"command": "step"} as a text frame'


class Connection:
    """One socket on one session."""

    def __init__(self, websocket: WebSocket, session, store):
        self.ws, self.session, self.store = websocket, session, store
        self.settings = store.settings
        self.encoding, self.layers, self.fields, self.max_fps = "json", None, None, MAX_FPS
        self.big = self.settings.play_lean_weights   # weights of a layer above which play frames are lean
        self.rows: int | None = None                 # of a lean layer, the rows of W and ∂W a play frame has
        self.ack, self.drawn = False, asyncio.Event()   # "ack": frames paced by the client's "drawn"
        self.undrawn = 0                                 # frames sent, not yet reported drawn
        self.send_lock = asyncio.Lock()
        self.slot = LatestFrame(asyncio.get_running_loop(), render=self._render)
        self.player: Player | None = None
        self.sender: asyncio.Task | None = None

    async def send(self, message: dict) -> None:
        async with self.send_lock:
            await self.ws.send_text(dumps(message).decode("utf-8"))

    async def error(self, command, status: int, detail) -> None:
        await self.send(clean({"type": "error", "command": command, "status": status, "detail": detail}))

    def _lean(self) -> int | None:
        """The threshold above which a play frame's layers are lean (as ``_render`` leaves them)."""
        return self.big if self.fields is None else None

    def _render(self, message: dict) -> bytes:
        """A play frame as JSON bytes (the player thread calls it, without the session's lock)."""
        big = None if message.get("final") else self.big      # the last frame after Pause: whole
        return self._encode({k: v for k, v in message.items() if k != "data"}, message["data"], big, self.rows)

    def _encode(self, head: dict, frame: dict, big: int | None, rows: int | None = None) -> bytes:
        """``head`` with the rendered ``frame`` as "data": JSON bytes, or with "bin" a ``wire.Binary``."""
        budget = self.settings.max_answer_bytes
        if self.encoding == "bin":
            data, buffer = render_binary(frame, self.layers, self.fields, big=big, budget=budget, rows=rows)
            return Binary(pack(dumps({**head, "data": data}), buffer))
        data = render(frame, self.encoding, self.layers, self.fields, raw=RAW, big=big, budget=budget, rows=rows)
        return dumps({**head, "data": data})

    async def _write(self, message: bytes) -> None:
        """A rendered message: a binary frame if it is ``wire.Binary``, else JSON text."""
        async with self.send_lock:
            if isinstance(message, Binary):
                await self.ws.send_bytes(bytes(message))
            else:
                await self.ws.send_text(message.decode("utf-8"))

    async def _send_frames(self) -> None:
        """Send the newest frame each time one is ready; report when the player stops."""
        while True:
            await self.slot.event.wait()
            self.slot.event.clear()
            message = self.slot.take()
            if message is not None:
                started = time.monotonic()
                if not isinstance(message, bytes):      # a slot without ``render``
                    message = await run_in_threadpool(self._render, message)
                await self._write(message)
                if self.ack:        # paced by the client: the next frame once it drew this one
                    await self._drawn_or_timeout()
                if self.max_fps:    # the next frame no sooner than 1/max_fps after this one's start
                    await asyncio.sleep(max(0.0, 1.0 / self.max_fps - (time.monotonic() - started)))
            self.slot.want()
            if self.player is not None and self.player.finished.is_set() and self.slot.empty():
                await self._paused()

    async def _drawn_or_timeout(self) -> None:
        """With ACK_AHEAD frames sent and not yet drawn, wait for the client's {"command": "drawn"}
        (at most ACK_TIMEOUT s: a lost one never stalls). One frame ahead: the next one is built
        and on its way while the client draws this one."""
        self.undrawn += 1
        if self.undrawn < ACK_AHEAD:
            return
        try:
            await asyncio.wait_for(self.drawn.wait(), ACK_TIMEOUT)
        except asyncio.TimeoutError:
            self.undrawn = 0
        self.drawn.clear()

    async def _paused(self) -> None:
        player = self.player
        if player is not None:
            await player.join()
            state = await run_in_threadpool(self._state)
            await self.send({"type": "paused", "reason": player.reason, "state": state})
            self.player = None

    async def _settle(self) -> None:
        """If the player is stopping (or stopped), wait until the sender has reported it."""
        player = self.player
        if player is None or (player.running and not player.stop_event.is_set()):
            return
        await player.join()
        for _ in range(500):
            if self.player is not player:
                return
            await asyncio.sleep(0.01)

    def _state(self) -> dict:
        with self.session.locked():
            return self.session.state()

    async def run(self, hold: bool = False) -> None:
        """Serve the socket until it closes. ``hold``: this page holds the session, which the store
        drops ``release_after_seconds`` after the last holding page went away (unless one came back)."""
        self.sender = asyncio.create_task(self._send_frames())
        if hold:
            self.store.hold(self.session)
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is not None:
                    await self.handle(message["text"])
                else:
                    await self.error(None, 422, f"binary frames are not understood: {JSON_HELP}")
        except WebSocketDisconnect:
            pass
        finally:
            if self.player is not None:
                self.player.stop()
            self.sender.cancel()
            if hold:
                ticket = self.store.unhold(self.session)
                asyncio.get_running_loop().call_later(self.settings.release_after_seconds,
                                                      self.store.release_if_unheld, self.session, ticket)

    async def handle(self, text: str) -> None:
        """One command; a failure of its own (not the client's) is a 500 error message, never a
        dropped connection."""
        try:
            await self._handle(text)
        except (WebSocketDisconnect, asyncio.CancelledError):
            raise
        except Exception as exc:        # pragma: no cover - a bug: say so and keep the socket
            logging.getLogger(__name__).exception("WebSocket command failed")
            await self.error(None, 500, f"internal error: {type(exc).__name__}: {exc}")

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return await self.error(None, 422, f"not JSON: {JSON_HELP}")
        except RecursionError:
            return await self.error(None, 422, f"JSON nested too deeply: {JSON_HELP}")
        if not isinstance(message, dict) or "command" not in message:
            return await self.error(None, 422, JSON_HELP)
        command = message["command"]
        if not isinstance(command, str):
            return await self.error(None, 422, f"command must be a string: {JSON_HELP}")
        if command == "play":
            return await self.play(message.get("speed"))
        if command == "pause":
            if self.player is not None:
                self.player.stop()      # the sender sends its last frame, then "paused"
            else:
                await self.send({"type": "paused", "reason": "not playing", "state": self._state()})
            return
        if command == "options":
            return await self.options(message)
        if command == "drawn":          # the client drew a frame (with "ack": send the next)
            self.undrawn = max(0, self.undrawn - 1)
            self.drawn.set()
            return
        if command not in MANUAL:
            valid = ", ".join([*MANUAL, "play", "pause", "options", "drawn"])
            return await self.error(command, 422, f"unknown command; valid: {valid}")
        await self._settle()
        if self.player is not None:
            return await self.error(command, 409, "the session is playing; pause first")
        await self.manual(command, message)

    async def manual(self, command: str, message: dict) -> None:
        method = getattr(self.session, MANUAL[command])
        args = (message.get("indices"),) if command == "forward" else ()
        if args and args[0] is not None:
            indices = args[0]
            if isinstance(indices, list) and len(indices) > self.settings.max_indices:
                return await self.error(command, 422, [{"loc": ["body", "indices"], "type": "value_error", "msg":
                                        f"at most {self.settings.max_indices} rows, got {len(indices)}"}])

        def work():
            with self.session.locked():
                frame = method(*args)
            return self._encode({"type": command}, frame, None)
        try:
            message = await run_in_threadpool(work)
        except ApiError as exc:
            return await self.error(command, exc.status, exc.body()["detail"])
        await self._write(message)

    async def play(self, speed) -> None:
        limit = self.settings.max_play_speed
        if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))
                                  or not 0 < speed <= limit):
            return await self.error("play", 422, f"speed must be a number of steps per second in (0, {limit}]")
        await self._settle()
        if self.player is not None:
            self.player.speed = speed
        else:
            if self.session.phase == "diverged":
                return await self.error("play", 409, "the session diverged; reset it first")
            self.player = Player(self.session, self.slot, speed, alive=lambda: self.store.contains(self.session),
                                 lean=self._lean)
            self.player.start()
        await self.send({"type": "playing", "speed": speed})

    async def options(self, message: dict) -> None:
        encoding = message.get("encoding", self.encoding)
        if encoding not in ("json", "b64", "bin"):
            return await self.error("options", 422, "encoding must be json, b64 or bin")
        self.encoding = encoding
        if "layers" in message:
            layers = message["layers"]
            if layers is not None and not _list_of(layers, int):
                return await self.error("options", 422, "layers must be a list of layer indices (integers) or null")
            self.layers = None if layers is None else set(layers)
        if "fields" in message:
            fields = message["fields"]
            if fields is not None and not _list_of(fields, str):
                return await self.error("options", 422, "fields must be a list of field names (strings) or null")
            self.fields = None if fields is None else set(fields)
        if "big" in message:
            big = message["big"]
            if big is not None and (isinstance(big, bool) or not isinstance(big, int) or not 0 <= big <= 2**53):
                return await self.error("options", 422, "big must be a non-negative integer or null")
            self.big = big
        if "rows" in message:
            rows = message["rows"]
            if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 2**31):
                return await self.error("options", 422, "rows must be a positive integer or null")
            self.rows = rows
        if "max_fps" in message:
            fps = message["max_fps"]
            if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float))
                                    or not 0 < fps < math.inf):
                return await self.error("options", 422, "max_fps must be a positive number or null")
            self.max_fps = fps
        if "ack" in message:
            if not isinstance(message["ack"], bool):
                return await self.error("options", 422, "ack must be true or false")
            self.ack, self.undrawn = message["ack"], 0
            self.drawn.clear()
        await self.send(clean({"type": "options", "encoding": self.encoding, "ack": self.ack,
                               "layers": sorted(self.layers) if self.layers else None,
                               "fields": sorted(self.fields) if self.fields else None, "big": self.big,
                               "rows": self.rows, "max_fps": self.max_fps}))


def _list_of(value, kind) -> bool:
    """``value`` is a list of at most MAX_LIST items of ``kind`` (never a bool for int)."""
    return isinstance(value, list) and len(value) <= MAX_LIST and all(
        isinstance(v, kind) and not isinstance(v, bool) and (kind is not int or abs(v) < 2**31) for v in value)


@router.websocket("/ws/sessions/{session_id}")
async def session_socket(websocket: WebSocket, session_id: str) -> None:
    store = websocket.app.state.store
    session = store.peek(session_id)
    await websocket.accept()
    if session is None:
        await websocket.send_text(dumps({"type": "error", "status": 404,
                                         "detail": f"no session {session_id!r}"}).decode("utf-8"))
        await websocket.close(code=4404)
        return
    await Connection(websocket, session, store).run(hold=websocket.query_params.get("hold") == "1")
