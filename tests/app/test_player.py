"""The player's steps: quiet steps train exactly as /epoch does; frames are rendered by the producer."""
from __future__ import annotations

import asyncio

import numpy as np
from app_helpers import SMALL_NET

from app.main import create_app
from app.player import LatestFrame
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
