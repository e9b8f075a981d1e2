"""The player's steps: quiet steps train exactly as /epoch does; frames are rendered by the producer."""
from __future__ import annotations

import asyncio
import threading

import numpy as np
from app_helpers import SMALL_NET

from app.main import create_app
from app.player import LatestFrame, Player
from app.schemas import SessionCreate


def _session():
    return create_app().state.store.build(SessionCreate(**SMALL_NET))


def test_quiet_play_steps_train_as_run_epoch_does():
    played, epoch = _session(), _session()
    steps = epoch.schedule.steps_per_epoch
    for k in range(steps):
        answer = played.play_step(full=k == steps // 2)      # one full step (a frame) in the middle
        assert answer["step"] == k + 1 and answer["phase"] == "ready"
    epoch.run_epoch()
    assert played.epoch == epoch.epoch == 1 and played.model.step == epoch.model.step == steps
    for a, b in zip(played.model.get_weights(), epoch.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert played.history["batch_loss"] == epoch.history["batch_loss"]
    assert played.history["loss"] == epoch.history["loss"]
    assert not played.lock.locked()


def test_latest_frame_renders_in_the_producer_and_keeps_the_newest():
    loop = asyncio.new_event_loop()
    try:
        rendered = []
        slot = LatestFrame(loop, render=lambda m: rendered.append(m["seq"]) or repr(m).encode())
        assert slot.claim() and not slot.claim()      # wanted once, until the sender wants again
        slot.put({"type": "frame", "data": {"step": 1}})
        slot.put({"type": "frame", "data": {"step": 2}})
        assert rendered == [1, 2]
        frame = slot.take()
        assert isinstance(frame, bytes) and b"'seq': 2" in frame and b"'step': 2" in frame
        assert slot.empty() and slot.take() is None
        slot.want()
        assert slot.claim()
    finally:
        loop.close()


DIVERGING = {**SMALL_NET, "dataset": {"name": "plane", "n_samples": 200}, "loss": "mean_squared_error",
             "layers": [{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
             "optimizer": {"name": "sgd", "learning_rate": 100}}


def _diverging(**changes):
    return create_app().state.store.build(SessionCreate(**{**DIVERGING, **changes}))


def _play_until_diverged(session, full: bool) -> None:
    for _ in range(500):
        if session.play_step(full=full)["phase"] == "diverged":
            return
    raise AssertionError("did not diverge in 500 steps")


def _overflowing_gradient(session):
    """Weights whose loss is finite but whose ∂cost/∂W(2) overflows float32 (a(2) ~ 1e20, δ ~ 1e19)."""
    w = session.model.get_weights()
    w[0][...], w[1][...], w[2][...], w[3][...] = 2e19, 0, 1e-2, 0
    session.model.set_weights(w)
    session.restart_timeline()
    return session


def test_quiet_steps_find_a_divergence_where_checked_steps_do():
    """Quiet play steps test finiteness at the next forward (as an Epoch does): the divergence
    they report is the step, layer and quantity where testing every step finds it, whether the
    loss blew up or only a gradient (then the quiet session has taken that update: one step on)."""
    cases = [(lambda s: s, {}), (lambda s: s, {"optimizer": {"name": "sgd", "learning_rate": 30}}),
             (lambda s: s, {"layers": [{"units": 8, "activation": "tanh"}, {"units": 1, "activation": "linear"}]}),
             (_overflowing_gradient, {})]
    for prepare, changes in cases:
        checked, quiet = prepare(_diverging(**changes)), prepare(_diverging(**changes))
        _play_until_diverged(checked, full=True)                 # every step full: tested as it goes
        _play_until_diverged(quiet, full=False)                  # quiet steps: tested at the next forward
        assert checked.diverged is not None and quiet.diverged == checked.diverged, changes
        assert quiet.timeline.branch.diverged == checked.diverged
        assert checked.model.step <= quiet.model.step <= checked.model.step + 1
    assert quiet.diverged["quantity"] == "∂cost/∂W(2)" and quiet.model.step == checked.model.step + 1


def test_lean_play_frames_copy_nothing_they_leave_out_and_pausing_gives_a_whole_one():
    """A play frame built with ``big`` has, for layers above it, no W before the update and no ΔW,
    Δb (never copied, as the socket's render would drop them) and the same W_updated, z, a, δ and
    ∂cost/∂W as a whole frame of the same step; a play whose newest frame was lean ends with one
    more whole step (the frame after Pause always has every panel)."""
    lean_s, whole_s = _session(), _session()      # spiral 2-8-8-2: W(1) 16, W(2) 64, W(3) 16 weights
    lean, whole = lean_s.play_step(full=True, big=20), whole_s.play_step(full=True)
    for a, b in zip(lean["layers"], whole["layers"]):
        big = a["index"] == 2
        assert ("W" in a, "dW_applied" in a, "db_applied" in a) == (not big,) * 3
        for key in ("W_updated", "z", "a", "delta", "dW", "db", "b_updated"):
            np.testing.assert_array_equal(a[key][0], b[key][0])
    frames = []

    async def play():
        slot = LatestFrame(asyncio.get_running_loop(), render=lambda m: frames.append(m) or b"")
        player = Player(lean_s, slot, speed=None, lean=lambda: 20)
        player.start()
        while len(frames) < 3:                    # every frame wanted: each step full, and lean
            slot.want()
            await asyncio.sleep(0.001)
        player.stop()
        await asyncio.wait_for(player.join(), 10)
        return player

    player = asyncio.run(play())
    last = frames[-1]
    assert last.get("final") and player.reason == "paused"
    assert all("dW_applied" in e and "W" in e for e in last["data"]["layers"])     # whole
    assert last["data"]["step"] == lean_s.model.step
    assert not any("dW_applied" in e for e in frames[0]["data"]["layers"] if e["index"] == 2)


def _playing(session, body, **player):
    """Run ``body(player, slot)`` (a coroutine function) while ``session`` plays in this loop."""
    async def run():
        slot = LatestFrame(asyncio.get_running_loop(), render=lambda m: b"")
        p = Player(session, slot, speed=None, **player)
        p.start()
        try:
            return await body(p, slot)
        finally:
            p.stop()
            await asyncio.wait_for(p.join(), 10)
    return asyncio.run(run())


def test_the_player_trains_in_the_loops_thread_and_gives_the_loop_its_turns():
    """No thread of its own (each GIL hand-off to the loop cost the training more than a
    millisecond: app/player.py): the steps run in the loop's thread, and a task of the same loop
    keeps running while it plays, seeing the training move on between two of its turns."""
    session = _session()
    threads, real = set(), session.play_step

    def play_step(*args, **kwargs):
        threads.add(threading.get_ident())
        return real(*args, **kwargs)
    session.play_step = play_step

    async def body(player, slot):
        seen = []
        while len(set(seen)) < 5:
            seen.append(session.model.step)      # read between two chunks
            await asyncio.sleep(0)
        return seen
    seen = _playing(session, body)
    assert threads == {threading.get_ident()}      # asyncio.run's loop runs in this thread
    assert seen == sorted(seen) and len(set(seen)) == 5 and seen[-1] > 0


def test_a_request_holding_the_session_lock_stops_the_training_not_the_loop():
    """While another request holds the session's lock the player waits for it in a worker thread:
    the loop goes on serving (a task of it runs), no step is taken meanwhile, and once the lock is
    released the training goes on."""
    session = _session()

    async def body(player, slot):
        while session.model.step < 3:
            await asyncio.sleep(0.001)
        with session.locked():                     # a request's lock, taken from the loop's thread
            held_at = session.model.step
            ticks = 0
            for _ in range(50):                    # the loop keeps running: this task does
                await asyncio.sleep(0.001)
                ticks += 1
            assert session.model.step == held_at   # and the player took no step under our lock
        while session.model.step < held_at + 3:    # released: it trains on
            await asyncio.sleep(0.001)
        assert player.running and not player.finished.is_set()
        return ticks
    assert _playing(session, body) == 50
    assert not session.lock.locked()
