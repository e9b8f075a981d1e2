"""Playing a session: the event loop's own thread steps it, a few milliseconds at a time, and leaves only
its newest frame for the socket.

The training never waits for the socket: each frame overwrites the single "latest" slot and wakes
the sender; a slow client simply gets fewer frames. A frame (copies of the step's tensors) is built
only when the sender has asked for one (``wanted``: it took the last one and sent it); the steps in
between build nothing, so training runs at nearly full speed and the frame sent is the newest
state, not one that waited for the socket. The copies are taken under the session's lock; the
frame is encoded (the socket's ``render``) after it is released.

Why in the event loop's thread, not a thread of its own: on a 2-vCPU machine every time the loop
took the GIL from a training thread (to send a frame, read the page's "drawn", run a timer) cost the
training about a millisecond and a half (the hand-off, and waking the other vCPU), and a frame
took about 7 of them: a bare client taking 32 frames a second slowed xor's training to 0.76 of its
speed with no live view (benchmarks/page_fps.py's "frames" column, 2026-12-02, an AVX-512 Xeon VM).
Here the player trains for ``CHUNK_S`` (or one step, at a set speed) and then gives the loop its
turn: the socket's work happens between two chunks, with no GIL hand-off at all. Other requests'
threads still take the GIL as before; the player never waits for the session's lock (a request
holding it is let finish: a worker thread waits for the lock to be free, and the player tries again).

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
    """A one-frame mailbox from the player to the socket's sender.

    ``render`` (optional, frame message → bytes) runs in the producer when a frame is put, after the
    session's lock is released: the sender then only writes the bytes to the socket."""

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
        self.wake()

    def wake(self) -> None:
        """Wake the sender (with a frame left, or when the player stopped by itself): at once from the
        loop's own thread, through the loop's self-pipe from any other."""
        try:
            here = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            here = False
        if here:
            self.event.set()
        else:
            self.loop.call_soon_threadsafe(self.event.set)

    def empty(self) -> bool:
        with self._lock:
            return self._frame is None

    def take(self) -> dict | bytes | None:
        with self._lock:
            frame, self._frame = self._frame, None
            return frame


CHUNK_S = 0.004   # s of training between two turns of the event loop (the socket, other requests)
# Loop iterations each turn: a frame's round trip (the page's "drawn" read by the socket's task,
# handed to the handler, the sender's pacing, the next frame wanted) is a chain of about six
# iterations, and with one iteration a turn each link waited a whole chunk (xor drew 23 frames/s,
# not 34: benchmarks/page_fps.py --quick, 2026-12-02).
TURNS = 6
BUSY = object()   # what a chunk returns when a request holds the session's lock


class Player:
    """Steps ``session`` ``speed`` times a second (as fast as it can if speed is None) until stopped,
    as a task of the running event loop: ``start`` it there, ``stop`` it from anywhere, ``await
    join()`` for the end (``reason`` is final once ``finished`` is set)."""

    def __init__(self, session, slot: LatestFrame, speed: float | None, alive=lambda: True,
                 lean=lambda: None):
        self.session, self.slot, self.speed, self.alive = session, slot, speed, alive
        self.lean = lean        # () → the socket's threshold now: bigger layers' frames are lean
        self.stop_event, self.reason = threading.Event(), None
        self.finished = threading.Event()     # set once the last frame is left and ``reason`` is final
        self.task: asyncio.Task | None = None
        self.quiet = False      # whether the newest step built no frame
        self.last = None        # the newest full frame
        self.whole = True       # whether it is whole (not lean)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"play-{self.session.id[:8]}")

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def join(self) -> None:
        """Until the play has ended (its last frame left); cancelling the caller leaves it running."""
        if self.task is not None:
            await asyncio.wait({self.task})

    async def _run(self) -> None:
        try:
            while True:
                wait = self._chunk()
                if wait is None:
                    break
                if wait is BUSY:                # a request holds the session's lock: wait in a thread
                    await asyncio.to_thread(self._lock_free)
                    continue
                await asyncio.sleep(wait)       # the loop's turn: frames out, "drawn" in, other requests
                for _ in range(TURNS - 1):
                    await asyncio.sleep(0)
            if self.reason is None:
                if self.quiet or not self.whole:
                    await self._final_step()
                elif self.last is not None:     # the newest step was whole: again, final
                    self.slot.put({"type": "frame", "data": self.last, "final": True})
        except Exception as exc:   # a 409 (e.g. diverged meanwhile) or anything else ends the play
            self.reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.reason = self.reason or "paused"
            self.finished.set()
            self.slot.wake()

    def _chunk(self) -> float | object | None:
        """Steps for up to CHUNK_S (one step at a set speed, and none after a frame: it goes out
        first); the seconds to wait before the next chunk, BUSY if a request holds the session's
        lock, or None once the play has ended."""
        end = time.monotonic() + CHUNK_S
        with overflow_ignored():      # per chunk, not per step (see Session._quiet)
            while not self.stop_event.is_set():
                started = time.monotonic()
                if not self.alive():
                    self.reason = "session deleted"
                    return None
                wanted = self.slot.claim()
                big = self.lean()
                frame = self.session.play_step(full=wanted, big=big, wait=False)    # under the session's lock
                if frame is None:                  # a request holds the lock: let it finish first
                    if wanted:
                        self.slot.want()
                    return BUSY
                self.quiet = not wanted
                if wanted or frame.get("phase") == "diverged":    # a divergence is always shown
                    self.last, self.whole = frame, not builds_lean(self.session.model, big)
                    self.slot.put({"type": "frame", "data": frame})   # copies: rendered without the lock
                if frame.get("phase") == "diverged":
                    self.reason = "diverged"
                    return None
                if self.speed:
                    return max(0.0, 1.0 / self.speed - (time.monotonic() - started))
                if wanted or time.monotonic() >= end:
                    return 0.0
        return None

    def _lock_free(self) -> None:
        """Until the session's lock is free (in a worker thread: the loop's thread never waits for it)."""
        with self.session.lock:
            pass

    async def _final_step(self) -> None:
        """Stopped after a quiet (or lean) step: one whole step, so the last frame is the current state."""
        while True:
            with overflow_ignored():
                frame = self.session.play_step(full=True, wait=False)
            if frame is not None:
                break
            await asyncio.to_thread(self._lock_free)
        self.slot.put({"type": "frame", "data": frame, "final": True})
        if frame.get("phase") == "diverged":
            self.reason = "diverged"
