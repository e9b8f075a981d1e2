"""POST .../gradient-check: every activation × loss passes on a fresh session (< 1e-6), recomputed here by
an independent float64 forward; bad input is a 422 naming the field; the session is left as it was."""
from __future__ import annotations

import numpy as np
import pytest
from app_helpers import arr, new_session, strict_json

pytestmark = pytest.mark.anyio

F = {"linear": lambda z: z, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
     "relu": lambda z: np.maximum(z, 0), "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
     "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))), "softplus": lambda z: np.logaddexp(0, z),
     "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)}
EPS = 1e-7


def loss_of(name, y, q):
    """The batch-mean loss, written out (Keras 3: ε-clipped cross-entropies, 0/1 labels → ±1 for hinge)."""
    if name == "categorical_crossentropy":
        return np.mean(-np.sum(y * np.log(np.clip(q / q.sum(1, keepdims=True), EPS, 1 - EPS)), 1))
    if name == "binary_crossentropy":
        p = np.clip(q, EPS, 1 - EPS)
        return np.mean(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), 1))
    if name == "mean_squared_error":
        return np.mean((q - y) ** 2)
    if name == "mean_absolute_error":
        return np.mean(np.abs(q - y))
    s = 2 * y - 1
    margin = np.maximum(1 - s * q, 0)
    return np.mean(margin if name == "hinge" else margin ** 2)


def cost(Ws, bs, acts, x, y, loss):
    a = x
    for W, b, f in zip(Ws, bs, acts):
        a = F[f](a @ W.T + b)                    # z = a·Wᵀ + b (rows), W of shape (units of l+1, units of l)
    return loss_of(loss, y, a)


COMBOS = [(h, out, loss) for h in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus")
          for out, loss in (("softmax", "categorical_crossentropy"), ("softmax", "mean_squared_error"),
                            ("sigmoid", "binary_crossentropy"), ("tanh", "hinge"), ("linear", "squared_hinge"),
                            ("linear", "mean_absolute_error"))]


@pytest.mark.parametrize("hidden,out,loss", COMBOS)
async def test_every_activation_and_loss_pass_on_a_fresh_session(client, app, hidden, out, loss):
    layers = [{"units": 6, "activation": hidden}, {"units": 5, "activation": hidden}, {"units": 2, "activation": out}]
    sid = (await new_session(client, layers=layers, loss=loss, batch_size=8))["id"]
    before = strict_json(await client.get(f"/api/sessions/{sid}/export"))
    check = strict_json(await client.post(f"/api/sessions/{sid}/gradient-check", json={}))
    assert check["dtype"] == "float64" and check["h"] == 1e-5 and check["batch"]["which"] == "next"
    assert [e["index"] for e in check["layers"]] == [1, 2, 3]
    assert check["max_relative_error"] < 1e-6, check["layers"]
    # independently: the batch's rows, the exported weights (Keras layout → W = Kᵀ), our own forward
    session = app.state.store.get(sid)
    rows = np.array(check["batch"]["rows"])
    assert rows.size == 8
    x = session.data.x_train[rows].astype(np.float64)
    y = np.eye(2)[session.data.y_train[rows]]
    weights = [arr(w) for w in before["weights"]]
    Ws, bs = [k.T.copy() for k in weights[0::2]], weights[1::2]
    acts = [hidden, hidden, out]
    h = 1e-5
    for entry in check["layers"]:
        l, part = entry["index"], entry["W"]
        assert part["shape"] == [layers[l - 1]["units"], 2 if l == 1 else layers[l - 2]["units"]]
        assert part["checked"] == part["total"] == np.prod(part["shape"])
        for (i, j), analytic, numeric in list(zip(part["indices"], part["analytic"], part["numeric"]))[::3]:
            plus = [W.copy() for W in Ws]
            minus = [W.copy() for W in Ws]
            plus[l - 1][i, j] += h
            minus[l - 1][i, j] -= h
            ours = (cost(plus, bs, acts, x, y, loss) - cost(minus, bs, acts, x, y, loss)) / (2 * h)
            assert abs(ours - numeric) <= 1e-7 * max(1.0, abs(ours)), (l, i, j, ours, numeric)
            assert abs(ours - analytic) <= 1e-6 * max(abs(ours) + abs(analytic), 1e-4), (l, i, j, ours, analytic)
        for (i,), numeric in zip(entry["b"]["indices"], entry["b"]["numeric"]):
            plus, minus = [b.copy() for b in bs], [b.copy() for b in bs]
            plus[l - 1][i] += h
            minus[l - 1][i] -= h
            ours = (cost(Ws, plus, acts, x, y, loss) - cost(Ws, minus, acts, x, y, loss)) / (2 * h)
            assert abs(ours - numeric) <= 1e-7 * max(1.0, abs(ours))
    after = strict_json(await client.get(f"/api/sessions/{sid}/export"))
    assert after == before                     # weights, optimizer state, generators, timeline: untouched


async def test_the_pending_batch_is_checked_and_the_cycle_goes_on_as_before(client, app):
    sid = (await new_session(client))["id"]
    forward = strict_json(await client.post(f"/api/sessions/{sid}/forward"))
    check = strict_json(await client.post(f"/api/sessions/{sid}/gradient-check",
                                          json={"layers": [2], "max_weights": 5, "h": 1e-6, "seed": 3}))
    assert check["batch"]["which"] == "pending" and check["batch"]["rows"] == forward["batch"]["indices"]
    assert [e["index"] for e in check["layers"]] == [2] and check["sampled"]
    assert check["layers"][0]["W"]["checked"] == 5 and check["layers"][0]["W"]["total"] == 64
    assert check["phase"] == "forward" and check["max_relative_error"] < 1e-6
    assert check["kinks"] == 0 and check["smooth_max_relative_error"] == check["max_relative_error"]   # tanh: no kinks
    assert check["layers"][0]["W"]["kink"] == [False] * 5
    backward = strict_json(await client.post(f"/api/sessions/{sid}/backward"))
    dW = arr(backward["layers"][1]["dW"])
    for (i, j), analytic in zip(check["layers"][0]["W"]["indices"], check["layers"][0]["W"]["analytic"]):
        assert analytic == pytest.approx(dW[i, j], rel=1e-4, abs=1e-7)   # float64 copy vs the float32 step


async def test_a_check_leaves_a_second_session_run_bit_for_bit_the_same(client):
    a = (await new_session(client))["id"]
    b = (await new_session(client))["id"]
    for _ in range(3):
        await client.post(f"/api/sessions/{a}/step")
        await client.post(f"/api/sessions/{a}/gradient-check")
        await client.post(f"/api/sessions/{b}/step")
    ea = strict_json(await client.get(f"/api/sessions/{a}/export"))
    eb = strict_json(await client.get(f"/api/sessions/{b}/export"))
    assert ea["weights"] == eb["weights"] and ea["state"] == eb["state"]
    check = strict_json(await client.post(f"/api/sessions/{a}/gradient-check"))
    assert check["batch"]["which"] == "last" and check["step"] == 3


@pytest.mark.parametrize("body,field", [({"max_weights": 0}, "max_weights"), ({"max_weights": 513}, "max_weights"),
                                        ({"h": 0.5}, "h"), ({"h": 1e-12}, "h"), ({"layers": [4]}, "layers"),
                                        ({"layers": []}, "layers"), ({"layers": [True]}, "layers"),
                                        ({"h": "1e-5"}, "h"), ({"extra": 1}, "extra")])
async def test_bad_bodies_are_422_naming_the_field(client, body, field):
    sid = (await new_session(client))["id"]
    response = await client.post(f"/api/sessions/{sid}/gradient-check", json=body)
    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"][0]["loc"])


async def test_too_much_work_is_422_naming_max_weights(client):
    sid = (await new_session(client, layers=[{"units": 512, "activation": "relu"}, {"units": 512, "activation": "relu"},
                                             {"units": 2, "activation": "softmax"}], batch_size=2048))["id"]
    response = await client.post(f"/api/sessions/{sid}/gradient-check", json={"max_weights": 512})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "max_weights"]


async def test_missing_and_diverged_sessions(client):
    assert (await client.post("/api/sessions/nope/gradient-check")).status_code == 404
    sid = (await new_session(client, optimizer={"name": "sgd", "learning_rate": 100.0},
                             layers=[{"units": 8, "activation": "relu"}, {"units": 2, "activation": "linear"}],
                             loss="mean_squared_error"))["id"]
    for _ in range(200):
        if strict_json(await client.post(f"/api/sessions/{sid}/step"))["phase"] == "diverged":
            break
    else:
        pytest.fail("did not diverge")
    response = await client.post(f"/api/sessions/{sid}/gradient-check")
    assert response.status_code == 409 and "diverged" in response.json()["detail"]
