"""Bounded curves (app/curves.py): a run's batch losses thinned the same way whether they arrive a
few at a time or all at once, non-finite numbers as null, and the answer's copy of a run."""
from __future__ import annotations

import math

import pytest

from app import curves


@pytest.mark.parametrize("n, chunk", [(10, 3), (37, 1), (1000, 7), (8, 8)])
def test_streamed_and_whole_curves_thin_alike(n, chunk):
    values = [float(k) for k in range(n)]
    run = {"history": {"batch_loss": []}, "batch_loss_stride": 1, "steps": 0}
    for start in range(0, n, chunk):
        curves.extend(run, values[start:start + chunk], max_points=8)
    whole, stride = curves.thin(values, 8)
    assert run["history"]["batch_loss"] == whole and run["batch_loss_stride"] == stride and run["steps"] == n
    assert len(whole) <= 8 and whole == values[::stride]                  # step k kept when k % stride == 0
    assert stride == 1 or math.ceil(n / (stride // 2)) > 8                # the smallest power of 2 that fits


def test_an_answer_copies_a_run_with_nulls_and_fewer_points():
    run = {"status": "done", "batch_loss_stride": 2, "initial": {"loss": float("inf")},
           "history": {"batch_loss": [1.0, float("nan"), 0.5, 0.25, 0.125], "loss": [0.5]},
           "boundary": {"resolution": 2, "classes": 2, "cells": [0, 19, 9, 10]}}
    out = curves.public_run(run, points=3)
    assert out["history"]["batch_loss"] == [1.0, 0.5, 0.125] and out["batch_loss_stride"] == 4
    assert out["initial"] == {"loss": None} and out["history"]["loss"] == [0.5]
    assert curves.public_run(run)["history"]["batch_loss"] == [1.0, None, 0.5, 0.25, 0.125]
    out["boundary"]["cells"].append(1)
    assert run["boundary"]["cells"] == [0, 19, 9, 10]                    # a copy, not the job's list
