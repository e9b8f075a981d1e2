"""Property-based fuzzing of every operation of the app's own OpenAPI document (schemathesis):
valid and invalid inputs alike never get a 5xx, every JSON answer is strictly finite, and each
answer's status, content type and body are the ones the document lists.

Bounded: FUZZ_EXAMPLES examples per operation (default 12) in both generation modes, with a fixed
seed, on small limits so that everything it may build stays small. Each example that names a session
gets a fresh one (so the session routes are exercised on a real session, not only as 404s). No
traffic leaves the machine: the MNIST download is pointed at a closed port on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from app.main import create_app
from app.settings import Settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
LIMITS = Settings(max_layers=3, max_units=16, max_batch_size=64, max_epochs=2, max_learning_rates=2, max_grid=20,
                  max_points=200, max_range_test_steps=20, max_indices=64, compare_workers=1,
                  max_compare_jobs=100_000, max_sessions=100_000, max_total_params=10**9, max_csv_rows=500,
                  max_csv_bytes=100_000, max_json_bytes=100_000, max_upload_bytes=200_000,
                  mnist_mirrors=("http://127.0.0.1:9/",), mnist_timeout=1.0)
SESSION = {"dataset": {"name": "xor", "n_samples": 40, "seed": 0},
           "layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "softmax"}], "batch_size": 8}
APP = create_app(LIMITS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES,
                                deterministic=True)
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", autouse=True)
def stop_workers():
    yield
    APP.state.compare.shutdown()


def _post(path: str, body: dict) -> dict:
    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://127.0.0.1") as c:
            return await c.post(path, json=body)
    r = asyncio.run(send())
    assert r.status_code in (201, 202), r.text
    return r.json()


def _session_id() -> str:
    return _post("/api/sessions", SESSION)["id"]


def _job_id() -> str:
    if not hasattr(_job_id, "id"):
        _job_id.id = _post("/api/compare", {**SESSION, "learning_rates": [0.1], "epochs": 1})["id"]
    return _job_id.id


def _refuse(token):
    raise AssertionError(f"non-finite number {token} in a JSON answer")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error(case):
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = _session_id()
    if "job_id" in (case.path_parameters or {}):
        case.path_parameters["job_id"] = _job_id()
    response = case.call(base_url="http://127.0.0.1")
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])[0]
    if "json" in content_type:
        json.loads(response.text, parse_constant=_refuse)      # strictly finite JSON
    case.validate_response(response, checks=CHECKS)
