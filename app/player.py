"""Playing a session: a thread steps it at a given speed and leaves only its newest frame for the socket.

The training loop never waits for the socket: each frame overwrites the single "latest" slot and
wakes the sender (an asyncio.Event set thread-safely); a slow client simply gets fewer frames.
A frame (copies of the step's tensors) is built only when the sender has asked for one (``wanted``:
it took the last one and sent it); the steps in between build nothing, so training runs at nearly
full speed and the frame sent is the newest state, not one that waited for the socket. The copies
are taken under the session's lock; the frame is encoded (the socket's ``render``) after it is released.

When asked to stop (Pause) after a quiet step, the player takes one more step, a full one, before it
stops: so the last frame it leaves shows the session's current step (z, a, δ, W as its forward pass
used it, ΔW and the updated W), never a step a few updates older than the step counter. That last
frame is marked ``"final": True``: the socket sends it whole (not lean), so after a Pause every panel
of even a big network shows its step, ΔW included.
"""
from __future__ import annotations

import asyncio
import threading
import time

from engine.activations import overflow_ignored

from .frames import builds_lean


class LatestFrame:
    """A one-frame mailbox from a thread to the event loop.

    ``render`` (optional, frame message → bytes) runs in the producing thread when a frame is put,
    after the session's lock is released: the sender then only writes the bytes to the socket. That
    costs the player one serialisation per frame sent (about a millisecond for MNIST at b64) but no
    GIL hand-offs with a second thread serialising while the player trains."""

    def __init__(self, loop: asyncio.AbstractEventLoop, render=None):
        self.loop, self.event, self.render = loop, asyncio.Event(), render
        self._lock, self._frame, self.produced = threading.Lock(), None, 0
        self._wanted = True

    def want(self) -> None:
        """The sender is ready for the next frame."""
        self._wanted = True

    def claim(self) -> bool:
        """True (once) if the sender wants a frame: the player builds the next one."""
        with self._lock:
            wanted, self._wanted = self._wanted, False
            return wanted

    def put(self, frame: dict) -> None:
        """Leave ``frame`` (rendered if ``render`` is set) as the newest one and wake the sender.
        Called by one producer (the player), never under the session's lock."""
        self.produced += 1
        message = {**frame, "seq": self.produced}
        if self.render is not None:
            message = self.render(message)
        with self._lock:
            self._frame = message
        self.loop.call_soon_threadsafe(self.event.set)

    def wake(self) -> None:
        """Wake the sender without a frame (e.g. the player stopped by itself)."""
        self.loop.call_soon_threadsafe(self.event.set)

    def empty(self) -> bool:
        with self._lock:
            return self._frame is None

    def take(self) -> dict | bytes | None:
        with self._lock:
            frame, self._frame = self._frame, None
            return frame


class Player:
    """Steps ``session`` ``speed`` times a second (as fast as it can if speed is None) until stopped."""

    def __init__(self, session, slot: LatestFrame, speed: float | None, alive=lambda: True,
                 lean=lambda: None):
        self.session, self.slot, self.speed, self.alive = session, slot, speed, alive
        self.lean = lean        # () → the socket's threshold now: bigger layers' frames are lean
        self.stop_event, self.reason = threading.Event(), None
        self.finished = threading.Event()     # set once the last frame is left and ``reason`` is final
        self.thread = threading.Thread(target=self._loop, name=f"play-{session.id[:8]}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def _loop(self) -> None:
        with overflow_ignored():      # once for the whole play, not per step (see Session._quiet)
            self._play()

    def _play(self) -> None:
        quiet = False       # whether the newest step built no frame
        last = None         # the newest full frame
        whole = True        # whether it is whole (not lean)
        try:
            while not self.stop_event.is_set():
                started = time.monotonic()
                if not self.alive():
                    self.reason = "session deleted"
                    break
                quiet = not self.slot.claim()
                big = self.lean()
                frame = self.session.play_step(full=not quiet, big=big)    # under the session's lock
                if not quiet or frame.get("phase") == "diverged":    # a divergence is always shown
                    last, whole = frame, not builds_lean(self.session.model, big)
                    self.slot.put({"type": "frame", "data": frame})   # copies: rendered without the lock
                if frame.get("phase") == "diverged":
                    self.reason = "diverged"
                    break
                if self.speed:
                    self.stop_event.wait(max(0.0, 1.0 / self.speed - (time.monotonic() - started)))
            if (quiet or not whole) and self.reason is None:
                self._final_step()
            elif last is not None and self.reason is None:      # the newest step was whole: again, final
                self.slot.put({"type": "frame", "data": last, "final": True})
        except Exception as exc:   # a 409 (e.g. diverged meanwhile) or anything else ends the play
            self.reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.reason = self.reason or "paused"
            self.finished.set()
            self.slot.wake()

    def _final_step(self) -> None:
        """Stopped after a quiet (or lean) step: one whole step, so the last frame is the current state."""
        frame = self.session.play_step(full=True)
        self.slot.put({"type": "frame", "data": frame, "final": True})
        if frame.get("phase") == "diverged":
            self.reason = "diverged"
