"""MNIST "downloads on request": POST /api/datasets/mnist/download fetches the files in the background from
the mirrors in Settings (here a loopback HTTP server, never the internet) and GET reports progress."""
from __future__ import annotations

import asyncio
import http.server
import socket
import threading

import pytest
from app_helpers import strict_json

from app.settings import Settings
from engine.datasets import mnist

pytestmark = pytest.mark.anyio


class _Mirror(http.server.BaseHTTPRequestHandler):
    """/good/<file>: the real bytes; anything else 404."""

    def do_GET(self):
        route, _, name = self.path.strip("/").partition("/")
        body = self.server.files.get(name) if route == "good" else None
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mirror(mnist_dir):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    httpd.daemon_threads = True
    httpd.files = {name: (mnist_dir / name).read_bytes() for name in mnist.FILES}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _refused() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


async def _wait(client, timeout: float = 60.0) -> dict:
    for _ in range(int(timeout / 0.05)):
        state = strict_json(await client.get("/api/datasets/mnist/download"))
        if state["status"] in ("done", "error"):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the download did not finish: {state}")


@pytest.fixture
def settings(mirror):
    return Settings(mnist_mirrors=(f"{mirror}/missing/", f"{mirror}/good/"), mnist_timeout=10)


async def test_download_on_request_then_mnist_is_available(client):
    options = strict_json(await client.get("/api/options"))
    row = next(d for d in options["datasets"] if d["name"] == "mnist")
    assert row["available"] is False and "download" in row["reason"]
    assert strict_json(await client.get("/api/datasets/mnist/download"))["status"] == "idle"
    started = await client.post("/api/datasets/mnist/download")
    assert started.status_code == 202 and started.json()["status"] in ("running", "done")
    state = await _wait(client)
    assert state["status"] == "done" and state["fraction"] == 1.0 and state["available"] is True
    assert sorted(state["files_done"]) == sorted(mnist.FILES) and state["error"] is None
    assert mnist.verify_checksums() == {name: True for name in mnist.FILES}
    options = strict_json(await client.get("/api/options"))
    assert next(d for d in options["datasets"] if d["name"] == "mnist")["available"] is True
    body = {"dataset": {"name": "mnist", "max_train": 64, "max_test": 32},
            "layers": [{"units": 16, "activation": "relu"}, {"units": 10, "activation": "softmax"}], "batch_size": 32}
    created = await client.post("/api/sessions", json=body)
    assert created.status_code == 201, created.text
    step = strict_json(await client.post(f"/api/sessions/{created.json()['id']}/step?encoding=b64"))
    assert step["batch"]["x"]["shape"] == [32, 784]


@pytest.mark.parametrize("settings", [Settings(mnist_mirrors=(_refused(),), mnist_timeout=2)])
async def test_offline_download_reports_the_one_sentence_error(client, settings):
    await client.post("/api/datasets/mnist/download")
    state = await _wait(client)
    assert state["status"] == "error" and state["available"] is False
    error = state["error"]
    assert "failed" in error and "offline" in error and "\n" not in error and error.endswith(".")
    created = await client.post("/api/sessions", json={"dataset": {"name": "mnist"},
                                                        "layers": [{"units": 10, "activation": "softmax"}]})
    assert created.status_code == 422 and "not available" in created.text
