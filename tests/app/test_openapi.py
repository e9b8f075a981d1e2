"""The OpenAPI document tells the truth (issue 12, item 14): each route lists every status it can
answer, the .npz export is application/octet-stream, the stepping routes have response models
that real answers satisfy, and the description documents the WebSocket protocol."""
from __future__ import annotations

import time

import pytest
from app_helpers import SMALL_NET, new_session, strict_json

from app.answer_schemas import EpochAnswer, HistoryAnswer, StepAnswer
from app.settings import Settings

pytestmark = pytest.mark.anyio
ANY = {"401", "403", "413"}         # the security checks and the body limit apply to every request
EXPECTED = {
    ("post", "/api/sessions"): {"201", "422", "503"},
    ("get", "/api/sessions/{session_id}"): {"200", "404"},
    ("patch", "/api/sessions/{session_id}"): {"200", "404", "422"},
    ("delete", "/api/sessions/{session_id}"): {"204", "404"},
    ("post", "/api/sessions/{session_id}/forward"): {"200", "404", "409", "422"},
    ("post", "/api/sessions/{session_id}/step"): {"200", "404", "409", "422"},
    ("post", "/api/sessions/{session_id}/epoch"): {"200", "404", "409", "422"},
    ("get", "/api/sessions/{session_id}/predict-grid"): {"200", "404", "409", "422"},
    ("get", "/api/sessions/{session_id}/export"): {"200", "404", "409", "422"},
    ("put", "/api/sessions/{session_id}/export"): {"200", "404", "422"},
    ("post", "/api/datasets/csv"): {"201", "422"},
    ("post", "/api/compare"): {"202", "422", "503"},
    ("get", "/api/compare/{job_id}"): {"200", "404"},
}


@pytest.fixture
async def document(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return strict_json(r)


async def test_every_route_lists_the_statuses_it_can_answer(document):
    for (method, path), codes in EXPECTED.items():
        listed = set(document["paths"][path][method]["responses"])
        assert codes | ANY <= listed, (method, path, sorted(listed))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert ANY <= set(responses), (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]["$ref"]
                    wanted = ("/ValidationErrors", "/HTTPValidationError") if code == "422" else ("/ErrorMessage",)
                    assert schema.endswith(wanted), (path, code)
    assert document["components"]["schemas"]["ErrorMessage"]["required"] == ["detail"]


async def test_the_npz_export_is_documented_as_octet_stream(document, client):
    answer = document["paths"]["/api/sessions/{session_id}/export"]["get"]["responses"]["200"]
    assert answer["content"]["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    assert "application/json" in answer["content"]
    sid = (await new_session(client))["id"]
    r = await client.get(f"/api/sessions/{sid}/export?format=npz")
    assert r.headers["content-type"] == "application/octet-stream"
    body = document["paths"]["/api/sessions/{session_id}/export"]["put"]["requestBody"]["content"]
    assert {"application/json", "application/octet-stream"} <= set(body)


async def test_the_stepping_routes_have_response_models(document):
    paths = document["paths"]
    for phase, model in (("forward", "StepAnswer"), ("backward", "StepAnswer"), ("update", "StepAnswer"),
                         ("step", "StepAnswer"), ("epoch", "EpochAnswer")):
        schema = paths[f"/api/sessions/{{session_id}}/{phase}"]["post"]["responses"]["200"]["content"]
        assert schema["application/json"]["schema"]["$ref"].endswith(model), phase
    history = paths["/api/sessions/{session_id}/history"]["get"]["responses"]["200"]["content"]
    assert history["application/json"]["schema"]["$ref"].endswith("HistoryAnswer")
    schemas = document["components"]["schemas"]
    layer = schemas["LayerEntry"]["properties"]
    assert {"index", "name", "activation", "W", "b", "z", "a", "mask", "delta", "dW", "db", "dW_applied",
            "db_applied", "slots", "W_updated", "b_updated"} <= set(layer)
    assert {"shape", "label", "values", "dtype", "scale", "nonfinite", "omitted", "summary"} <= \
        set(schemas["Tensor"]["properties"])
    assert {"indices", "x", "y", "y_pred"} <= set(schemas["Batch"]["properties"])
    assert {"step", "phase", "loss", "learning_rate", "state", "omitted", "hint", "batch", "layers"} <= \
        set(schemas["StepAnswer"]["properties"])


async def test_real_answers_satisfy_the_models(client):
    sid = (await new_session(client, optimizer={"name": "adam", "learning_rate": 0.01},
                             layers=[{"units": 8, "activation": "tanh", "dropout": 0.2},
                                     {"units": 2, "activation": "softmax"}]))["id"]
    base = f"/api/sessions/{sid}"
    for path in ("forward", "backward", "update", "step", "step?encoding=b64", "step?fields=W,a&layers=1"):
        r = await client.post(f"{base}/{path}")
        assert r.status_code == 200, (path, r.text)
        StepAnswer.model_validate(strict_json(r))
    r = await client.post(f"{base}/forward", json={"indices": [0, 3]})
    StepAnswer.model_validate(strict_json(r))
    await client.post(f"{base}/step")              # finishes that cycle
    epoch = strict_json(await client.post(f"{base}/epoch"))
    EpochAnswer.model_validate(epoch)
    assert "val_loss" in epoch and epoch["layers"][0]["slots"]
    HistoryAnswer.model_validate(strict_json(await client.get(f"{base}/history")))
    diverging = await new_session(client, dataset={"name": "plane", "n_samples": 200}, loss="mean_squared_error",
                                  layers=[{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}],
                                  optimizer={"name": "sgd", "learning_rate": 100})
    r = await client.post(f"/api/sessions/{diverging['id']}/epoch")
    answer = strict_json(r)
    assert answer["phase"] == "diverged"
    EpochAnswer.model_validate(answer)


@pytest.mark.parametrize("settings", [Settings(max_answer_bytes=200_000)])
async def test_an_answer_with_summaries_satisfies_the_model(client):
    wide = {**SMALL_NET, "batch_size": 64, "layers": [{"units": 256, "activation": "relu"},
                                                      {"units": 256, "activation": "relu"},
                                                      {"units": 2, "activation": "softmax"}]}
    sid = strict_json(await client.post("/api/sessions", json=wide))["id"]
    for query in ("", "?encoding=b64"):
        answer = strict_json(await client.post(f"/api/sessions/{sid}/step{query}"))
        assert answer["omitted"] and answer["hint"]
        StepAnswer.model_validate(answer)


async def test_the_description_documents_the_websocket_protocol(document):
    text = document["info"]["description"]
    for word in ("/ws/sessions/{session_id}", "?hold=1", '"command"', "play", "pause", "options", "frame",
                 "paused", '"type": "error"', "413", "max_json_bytes"):
        assert word in text, word


async def test_the_models_do_not_slow_the_step(client):
    """The routes send their bytes directly: response_model documents, it does not validate."""
    sid = (await new_session(client))["id"]
    started = time.monotonic()
    for _ in range(200):
        assert (await client.post(f"/api/sessions/{sid}/step?fields=W")).status_code == 200   # the documented route
    assert time.monotonic() - started < 10          # a generous guard; timing belongs in benchmarks
