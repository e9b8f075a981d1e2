"""GET .../training-health: too large a learning rate taught, with the numbers and a rate to try."""
from __future__ import annotations

import pytest
from app_helpers import SMALL_NET, answered_while_held, new_session, strict_json

pytestmark = pytest.mark.anyio


async def test_a_healthy_run_has_no_warnings(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.05}))["id"]
    for _ in range(3):
        await client.post(f"/api/sessions/{sid}/epoch")
    report = strict_json(await client.get(f"/api/sessions/{sid}/training-health"))
    assert report["warnings"] == [] and report["suggested_learning_rate"] is None
    assert report["loss"]["window"] == 60 and report["learning_rate"] == 0.05


async def test_too_large_a_rate_is_named_with_numbers_and_a_smaller_one_suggested(client):
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 8.0}))["id"]
    for _ in range(8):
        await client.post(f"/api/sessions/{sid}/epoch")
    report = strict_json(await client.get(f"/api/sessions/{sid}/training-health"))
    kinds = {w["kind"] for w in report["warnings"]}
    assert kinds & {"rising", "oscillating", "saturated"}, report
    for w in report["warnings"]:
        assert any(ch.isdigit() for ch in w["message"])
    assert "oscillating" in kinds and "saturated" in kinds
    assert report["suggested_learning_rate"] is not None and report["suggested_learning_rate"] < 8.0
    quick = strict_json(await client.get(f"/api/sessions/{sid}/training-health", params={"suggest": "false"}))
    assert quick["suggested_learning_rate"] is None and quick["warnings"] == report["warnings"]
    assert SMALL_NET["layers"][0]["activation"] == "tanh"


@pytest.mark.parametrize("dead, warned", [(1, False), (3, True)])
def test_dead_units_are_a_warning_only_when_a_tenth_of_the_layer_is_dead(dead, warned):
    """One dead ReLU unit of 16 is no reason for a banner (nor for a smaller η); 3 of 16 are."""
    import numpy as np

    from app import training_health
    from app.schemas import SessionCreate
    from app.settings import Settings
    from app.store import SessionStore
    body = {**SMALL_NET, "layers": [{"units": 16, "activation": "relu"}, SMALL_NET["layers"][-1]]}
    session = SessionStore(Settings()).build(SessionCreate(**body))
    first = session.model.dense_layers[0]
    first.bias[:dead] = -1e4                  # z = w·x − 10⁴ < 0 for every sample: a = 0, dead
    report = training_health.report(session, suggest=False)
    layer = report["units"][0]
    x = session.data.x_train
    a = np.maximum(x @ first.kernel + first.bias, 0)       # recomputed: exactly these units are dead
    assert layer["dead"] == np.flatnonzero(np.all(a <= 0, axis=0)).tolist() == list(range(dead))
    assert [w["kind"] for w in report["warnings"] if w["kind"] == "dead"] == (["dead"] if warned else [])
    if warned:
        assert f"{dead} of 16 ReLU units of layer 2 are dead" in report["warnings"][0]["message"]


def test_a_batch_loss_that_zigzags_from_minibatch_noise_is_no_warning():
    """Late in training the batch loss is small and swings by more than its level only because each
    batch differs (MNIST at 97 %: 72 % of signs flipped, swing 90 %); the steps do not overshoot, so
    the banner must not tell the student to lower η. The same zigzag at η = 8 is a warning."""
    import numpy as np

    from app import training_health
    from app.schemas import SessionCreate
    from app.settings import Settings
    from app.store import SessionStore
    reports = {}
    for lr in (0.05, 8.0):
        session = SessionStore(Settings()).build(SessionCreate(**{**SMALL_NET, "optimizer": {"name": "sgd", "learning_rate": lr}}))
        for _ in range(8):
            session.run_epoch()
        zigzag = list(0.05 + 0.04 * (-1.0) ** np.arange(60))         # flips every step, swing 160 %
        session.history["batch_loss"][-60:] = zigzag
        reports[lr] = training_health.report(session, suggest=False)
        assert reports[lr]["loss"]["oscillating"], reports[lr]["loss"]
    calm, wild = reports[0.05], reports[8.0]
    assert calm["overshoot"]["swing"] < 0.1 and not calm["overshoot"]["overshooting"]
    assert "oscillating" not in {w["kind"] for w in calm["warnings"]}
    assert wild["overshoot"]["overshooting"]
    message = next(w["message"] for w in wild["warnings"] if w["kind"] == "oscillating")
    assert "100 fixed training samples over 16 steps" in message and "η = 8 is too large" in message
    costs = wild["overshoot"]["costs"]
    assert len(costs) == 17 and all(np.isfinite(costs))


async def test_the_report_is_worked_out_outside_the_sessions_lock_on_a_snapshot(client, monkeypatch):
    """While a report is being worked out (on MNIST: 45-55 ms, the overshoot test), the session goes
    on stepping; the report is of the step its snapshot was taken at, not of a later one."""
    from app.routes import views
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 0.05}))["id"]
    await client.post(f"/api/sessions/{sid}/epoch")
    before = strict_json(await client.get(f"/api/sessions/{sid}"))["state"]["step"]

    async def step():
        return strict_json(await client.post(f"/api/sessions/{sid}/step"))     # the lock is free

    report, stepped = await answered_while_held(client, monkeypatch, views, "report_on",
                                                f"/api/sessions/{sid}/training-health", step)
    answers = {"report": report}
    assert stepped["state"]["step"] == before + 1
    assert answers["report"]["step"] == before
    losses = strict_json(await client.get(f"/api/sessions/{sid}/history"))["history"]["batch_loss"][:before][-60:]
    loss = answers["report"]["loss"]          # the trend of the batch losses up to the snapshot's step
    quarter = len(losses) // 4
    assert loss["window"] == len(losses) == min(before, 60)
    assert loss["last"] == pytest.approx(sum(losses[-quarter:]) / quarter, rel=1e-12)


def test_rising_needs_a_trend_not_a_few_bad_batches():
    """The banner says "loss rising" for a loss that climbs step after step (ρ in the message), not
    for a quarter whose mean two bad batches doubled (seen on MNIST at η 0.05 in healthy training)."""
    import numpy as np

    from app import training_health
    from app.schemas import SessionCreate
    from app.settings import Settings
    from app.store import SessionStore
    session = SessionStore(Settings()).build(SessionCreate(**SMALL_NET))
    for _ in range(2):
        session.run_epoch()
    rng = np.random.default_rng(3)
    noise = 0.08 * np.exp(0.3 * rng.standard_normal(60))
    noise[[50, 56]] = [0.9, 0.95]
    session.history["batch_loss"][-60:] = list(noise)
    report = training_health.report(session, suggest=False)
    assert report["loss"]["last"] >= 1.5 * report["loss"]["first"]
    assert "rising" not in {w["kind"] for w in report["warnings"]}
    session.history["batch_loss"][-60:] = list(np.sort(noise))
    report = training_health.report(session, suggest=False)
    message = next(w["message"] for w in report["warnings"] if w["kind"] == "rising")
    assert "ρ = 1.00" in message and f"from {report['loss']['first']:.3g} to {report['loss']['last']:.3g}" in message
