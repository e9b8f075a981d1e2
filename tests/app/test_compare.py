"""Learning-rate comparisons and the LR range test, in worker processes."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import SMALL_NET, strict_json, wait_done

pytestmark = pytest.mark.anyio


async def test_three_rates_start_from_the_same_loss_and_diverged_is_marked(client):
    body = {**SMALL_NET, "learning_rates": [0.01, 0.3, 100.0], "epochs": 3, "batch_size": 10,
            "layers": [{"units": 8, "activation": "relu"}, {"units": 2, "activation": "softmax"}]}
    started = await client.post("/api/compare", json=body)
    assert started.status_code == 202, started.text
    job = await wait_done(client, started.json()["id"])
    assert job["status"] == "done"
    runs = job["runs"]
    assert [r["learning_rate"] for r in runs] == [0.01, 0.3, 100.0]
    first_losses = {round(r["history"]["batch_loss"][0], 6) for r in runs}
    assert len(first_losses) == 1                          # same weights, same first batch
    assert len({r["initial"]["loss"] for r in runs}) == 1
    for run in runs[:2]:
        assert run["status"] == "done" and len(run["history"]["loss"]) == 3
        assert len(run["history"]["batch_loss"]) == 30 and len(run["history"]["val_acc"]) == 3
    assert runs[1]["history"]["loss"][-1] < runs[0]["history"]["loss"][-1]      # 0.3 learns faster
    assert runs[2]["status"] == "diverged"                 # lr 100 blows up; the others went on
    assert {"step", "layer", "quantity"} <= set(runs[2]["diverged"])
    assert len(runs[2]["history"]["batch_loss"]) < 30


async def test_range_test_suggests_a_rate(client):
    body = {**SMALL_NET, "mode": "range_test", "min_lr": 1e-4, "max_lr": 10.0, "batch_size": 2}
    started = await client.post("/api/compare", json=body)
    assert started.status_code == 202
    job = await wait_done(client, started.json()["id"])
    assert job["status"] == "done" and job["mode"] == "range_test"
    assert 1e-4 <= job["suggested_learning_rate"] <= 10.0
    history = job["runs"][0]["history"]
    rates = history["learning_rate"]
    assert rates[0] == pytest.approx(1e-4) and all(b > a for a, b in zip(rates, rates[1:]))
    assert len(history["smoothed_loss"]) == len(rates) == len(history["batch_loss"]) <= 300
    skip = max(1, len(rates) // 10)                              # the moving average's warm-up
    assert rates[int(np.argmin(history["smoothed_loss"][skip:])) + skip] / 10 == pytest.approx(
        job["suggested_learning_rate"])                          # fastai's "minimum / 10"
    assert set(job["suggestions"]) == {"minimum", "min_div_10", "steepest"}


async def test_cancel_and_bad_bodies(client):
    body = {**SMALL_NET, "learning_rates": [0.1, 0.2, 0.3], "epochs": 200, "batch_size": 1}
    started = strict_json(await client.post("/api/compare", json=body))
    cancelled = strict_json(await client.delete(f"/api/compare/{started['id']}"))
    assert cancelled["status"] in ("cancelling", "cancelled")
    job = await wait_done(client, started["id"], timeout=20)
    assert job["status"] == "cancelled"
    assert all(r["status"] == "cancelled" for r in job["runs"])
    for changes, loc in [({"learning_rates": []}, ["body", "learning_rates"]),
                         ({"learning_rates": [0.1] * 9}, ["body", "learning_rates"]),
                         ({"learning_rates": [0.1, 0]}, ["body", "learning_rates"]),
                         ({"learning_rates": [0.1], "epochs": 10_000}, ["body", "epochs"]),
                         ({"mode": "range_test", "min_lr": 1, "max_lr": 0.1}, ["body", "max_lr"])]:
        r = await client.post("/api/compare", json={**SMALL_NET, **changes})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (changes, r.text)


async def test_a_huge_rate_that_stays_finite_is_marked_diverged_with_its_reason(client):
    # tanh + softmax + cross-entropy at η = 30: the loss saturates at a large *finite* value (no NaN),
    # so only the loss criterion (smoothed batch loss > 4 × the first batch loss) can catch it.
    body = {**SMALL_NET, "learning_rates": [0.3, 30.0], "epochs": 3, "batch_size": 10}
    started = await client.post("/api/compare", json=body)
    assert started.status_code == 202, started.text
    job = await wait_done(client, started.json()["id"])
    calm, wild = job["runs"]
    assert calm["status"] == "done" and calm["diverged"] is None
    assert len(calm["history"]["batch_loss"]) == 30 and len(calm["history"]["loss"]) == 3
    assert wild["status"] == "diverged"
    losses = wild["history"]["batch_loss"]
    assert all(np.isfinite(losses)) and len(losses) < 30           # finite, and stopped early
    d = wild["diverged"]
    assert d["quantity"] == "loss" and d["step"] == len(losses) and "4 × the first batch loss" in d["reason"]
    beta, mean = 0.9, 0.0                                           # the criterion, recomputed
    for i, loss in enumerate(losses, 1):
        mean = beta * mean + (1 - beta) * loss
        smoothed = mean / (1 - beta ** i)
        assert (smoothed > 4 * losses[0]) == (i == len(losses))
    assert max(losses) > 4 * losses[0]


async def test_non_finite_divergence_says_why(client):
    body = {**SMALL_NET, "learning_rates": [100.0], "epochs": 1, "batch_size": 10, "loss": "mse",
            "layers": [{"units": 8, "activation": "relu"}, {"units": 2, "activation": "linear"}]}
    job = await wait_done(client, (await client.post("/api/compare", json=body)).json()["id"])
    run = job["runs"][0]
    assert run["status"] == "diverged" and run["diverged"]["reason"], run
