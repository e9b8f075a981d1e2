"""``render`` converts a frame's tensors together (one finiteness test for all of them): the JSON is
what encoding every tensor by itself gives, non-finite values included."""
from __future__ import annotations

import numpy as np
import pytest

from app.frames import render
from app.responses import dumps
from app.tensors import encode


def _one_by_one(frame: dict, encoding: str) -> bytes:
    """The frame with every tensor encoded by itself (what ``render`` gave before it batched them)."""
    def walk(value):
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
            return encode(value[0], value[1], encoding, raw=True)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return dumps(walk(frame))


@pytest.mark.parametrize("encoding", ["json", "b64"])
def test_batched_tensors_encode_as_one_by_one(encoding):
    rng = np.random.default_rng(0)
    frame = {"step": 3, "layers": [{"index": 1, "W": (rng.normal(size=(3, 2)).astype(np.float32), "W(1)"),
                                    "b": (rng.normal(size=3), "b(1)"), "none": (np.zeros((0, 2), np.float32), "e")}],
             "batch": {"indices": [4, 1], "x": (rng.normal(size=(2, 2)).astype(np.float32), "a(1)"),
                       "mask": (np.array([[True, False]]), "m"), "k": (np.arange(3), "k")}}
    assert dumps(render(frame, encoding, raw=True)) == _one_by_one(frame, encoding)
    frame["layers"][0]["W"][0][1, 0] = np.nan                       # one non-finite value: the guard
    frame["batch"]["x"][0][0, 1] = np.inf
    assert dumps(render(frame, encoding, raw=True)) == _one_by_one(frame, encoding)
    out = render(frame, encoding, raw=True)
    assert out["layers"][0]["W"]["nonfinite"] and out["batch"]["x"]["nonfinite"]
