"""Sections 3-5: the server driven over HTTP and WebSocket, as the page drives it.

Starts a real uvicorn on 127.0.0.1 (a free port, one BLAS thread as ``backprop-lab serve`` uses),
then measures /step and WebSocket ``step`` latency, frame sizes, frames per second while playing,
the live view's cost to training throughput, and a 4-rate learning-rate comparison.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from benchmarks.common import ROOT, SHARED_MNIST, child_env, median, percentile

DEFAULT_NET = {"dataset": {"name": "xor"},
               "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"},
                          {"units": 2, "activation": "softmax"}]}


def mnist_net(max_train: int, batch: int = 32) -> dict:
    return {"dataset": {"name": "mnist", "max_train": max_train}, "batch_size": batch,
            "layers": [{"units": 128, "activation": "relu"}, {"units": 64, "activation": "relu"},
                       {"units": 10, "activation": "softmax"}],
            "optimizer": {"name": "sgd", "learning_rate": 0.05}}


class Server:
    """uvicorn app.main:create_app on 127.0.0.1:<free port>, stopped on exit."""

    def __init__(self, keep_coretype=False):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = child_env(1, keep_coretype)
        if SHARED_MNIST.is_dir():
            env["BACKPROP_LAB_DATA"] = str(SHARED_MNIST)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--ws", "websockets",
             "--ws-per-message-deflate", "false"],      # as ``backprop-lab serve`` runs it
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base, self.ws_base = f"http://127.0.0.1:{self.port}", f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The uvicorn process (the app runs in it: one worker)."""
        return self.proc.pid

    def __enter__(self):
        import httpx
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("uvicorn exited: " + self.proc.stderr.read().decode(errors="replace")[-2000:])
            try:
                httpx.get(self.base + "/api/options", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("uvicorn did not answer within 30 s")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _session(client, body) -> str:
    r = client.post("/api/sessions", json=body, timeout=120)
    r.raise_for_status()
    return r.json()["id"]


def http_steps(client, sid, n, params=None) -> dict:
    for _ in range(min(20, n)):
        client.post(f"/api/sessions/{sid}/step", params=params)
    times, sizes = [], []
    for _ in range(n):
        start = time.perf_counter()
        r = client.post(f"/api/sessions/{sid}/step", params=params)
        times.append(time.perf_counter() - start)
        r.raise_for_status()
        sizes.append(len(r.content))
    return {"n": n, "p50_ms": median(times) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "bytes": int(median(sizes))}


def raw_steps(server, sid, n, query="") -> dict:
    """POST /step from a bare HTTP/1.1 keep-alive socket: the server and the loopback without a
    client library's own cost (httpx adds about 0.5-1.5 ms per request on this machine)."""
    from benchmarks.step_latency import RawClient
    client = RawClient(server.port)
    path = f"/api/sessions/{sid}/step{query}"
    for _ in range(min(20, n)):
        client.post(path)
    times, sizes = [], []
    for _ in range(n):
        start = time.perf_counter()
        body = client.post(path)
        times.append(time.perf_counter() - start)
        sizes.append(len(body))
    client.sock.close()
    return {"n": n, "p50_ms": median(times) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "bytes": int(median(sizes))}


def ws_steps(server, sid, n, encoding="json") -> dict:
    from websockets.sync.client import connect
    times, sizes = [], []
    with connect(f"{server.ws_base}/ws/sessions/{sid}", max_size=None) as ws:
        if encoding != "json":
            ws.send(json.dumps({"command": "options", "encoding": encoding}))
            _wait(ws, "options")
        for i in range(n + min(20, n)):
            start = time.perf_counter()
            ws.send(json.dumps({"command": "step"}))
            data = _wait(ws, "step")
            if i >= min(20, n):
                times.append(time.perf_counter() - start)
                sizes.append(len(data if isinstance(data, bytes) else data.encode()))
    return {"n": n, "p50_ms": median(times) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "bytes": int(median(sizes))}


def _header(data) -> dict:
    """A message's JSON: a text message's whole, a binary ("bin") message's header (app/wire.py)."""
    if isinstance(data, bytes):
        return json.loads(data[4:4 + int.from_bytes(data[:4], "little")])
    return json.loads(data)


def _wait(ws, kind: str):
    while True:
        data = ws.recv(timeout=60)
        message = _header(data)
        if message.get("type") == kind:
            return data
        if message.get("type") == "error":
            raise RuntimeError(f"server error: {message}")


def play(server, client, sid, seconds, encoding="bin", rows=None) -> dict:
    """Play as fast as the server can while this client reads every frame it is sent (at the server's
    default rate, at most 20 frames a second); ``encoding``: "bin" is the page's, "b64" the older one;
    ``rows``: of the big layers, the rows of W and ∂W a frame carries (the page asks for 32 on MNIST)."""
    from websockets.sync.client import connect
    frames, sizes = 0, []
    with connect(f"{server.ws_base}/ws/sessions/{sid}", max_size=None) as ws:
        ws.send(json.dumps({"command": "options", "encoding": encoding, "rows": rows}))
        _wait(ws, "options")
        step0 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
        ws.send(json.dumps({"command": "play"}))
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            data = ws.recv(timeout=30)
            if _header(data).get("type") == "frame":
                frames += 1
                sizes.append(len(data if isinstance(data, bytes) else data.encode()))
        elapsed = time.perf_counter() - start
        ws.send(json.dumps({"command": "pause"}))
        _wait(ws, "paused")
    step1 = client.get(f"/api/sessions/{sid}").json()["state"]["step"]
    return {"seconds": elapsed, "frames": frames, "fps": frames / elapsed, "steps": step1 - step0,
            "steps_per_s": (step1 - step0) / elapsed, "bytes_per_frame": int(median(sizes)) if sizes else None}


def epoch_alone(client, sid, batch, n_train, epochs=1) -> dict:
    """POST /epoch: training with no client watching; samples per second over ``epochs`` whole
    epochs (several, so that this side of a pair lasts about as long as the playing side).

    An untimed /epoch first finishes the epoch that playing left half done, so the timed ones
    train all ``n_train`` rows (timing the rest of an epoch and dividing ``n_train`` by it
    inflated this number by a random amount)."""
    client.post(f"/api/sessions/{sid}/epoch", timeout=600).raise_for_status()
    start = time.perf_counter()
    for _ in range(epochs):
        client.post(f"/api/sessions/{sid}/epoch", timeout=600).raise_for_status()
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "epochs": epochs, "samples_per_s": epochs * n_train / elapsed}


def compare(client, body, rates, poll=0.1) -> float:
    """Wall seconds of one comparison job, polled as the page polls it (the page: every 0.4 s)."""
    start = time.perf_counter()
    r = client.post("/api/compare", json={**body, "learning_rates": rates, "epochs": 1}, timeout=120)
    r.raise_for_status()
    job = r.json()["id"]
    while True:
        snap = client.get(f"/api/compare/{job}").json()
        if snap["status"] in ("done", "diverged", "cancelled", "error"):
            if snap["status"] == "error":
                raise RuntimeError(f"comparison failed: {snap}")
            return time.perf_counter() - start
        time.sleep(poll)


def run(quick: bool, keep_coretype=False) -> dict:
    import httpx
    n_http = 100 if quick else 400
    mnist_train = 10000 if quick else 60000
    play_s = 3.0 if quick else 6.0
    out = {"mnist_max_train": mnist_train, "mnist_dir": str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None}
    with Server(keep_coretype) as server, httpx.Client(base_url=server.base, timeout=60) as client:
        # 3. latency and frame sizes
        sid = _session(client, DEFAULT_NET)
        out["step_default_json"] = http_steps(client, sid, n_http)
        out["step_default_b64"] = http_steps(client, sid, n_http, {"encoding": "b64"})
        out["step_default_raw_json"] = raw_steps(server, sid, n_http)
        out["step_default_raw_b64"] = raw_steps(server, sid, n_http, "?encoding=b64")
        out["ws_step_default"] = ws_steps(server, sid, n_http)
        msid = _session(client, mnist_net(mnist_train))
        out["step_mnist_json"] = http_steps(client, msid, max(20, n_http // 4))
        out["step_mnist_b64"] = http_steps(client, msid, max(20, n_http // 4), {"encoding": "b64"})
        out["ws_step_mnist_b64"] = ws_steps(server, msid, max(20, n_http // 4), "b64")
        out["ws_step_mnist_bin"] = ws_steps(server, msid, max(20, n_http // 4), "bin")
        out["play_mnist_b64"] = play(server, client, msid, play_s, "b64")
        out["play_mnist_bin"] = play(server, client, msid, play_s, "bin")
        out["play_mnist_rows"] = play(server, client, msid, play_s, "bin", rows=32)
        print(f"  server: /step p50 {out['step_default_json']['p50_ms']:.2f} ms, MNIST play "
              f"{out['play_mnist_bin']['fps']:.1f} frames/s", file=sys.stderr, flush=True)
        # 4. live-view overhead: throughput while a client streams frames / throughput alone (in the
        #    page's encoding, "bin")
        batch = 32
        pairs = []                                     # interleaved: alone, watched, alone, watched ...
        for _ in range(1 if quick else 5):            # 5 pairs: one pair swings ±20 % on a shared host
            alone = epoch_alone(client, msid, batch, mnist_train, 1 if quick else 3)
            watched = play(server, client, msid, play_s)
            pairs.append((watched["steps_per_s"] * batch / alone["samples_per_s"], alone, watched))
        ratio, alone, watched = sorted(pairs, key=lambda p: p[0])[len(pairs) // 2]     # the median pair
        out["live_view"] = {"encoding": "bin", "epoch_alone": alone, "playing": watched, "throughput_ratio": ratio,
                            "ratios": [p[0] for p in pairs]}
        # 5. learning-rate comparison: 4 rates in the worker pool vs one run alone, × 4
        # Warm-up: both workers start and load the data. Each measured job gets its own seed, so no job
        # reuses another's initial weights or their metrics (a worker caches those per config).
        body = mnist_net(mnist_train)
        compare(client, body, [0.05, 0.05])
        one, fours = [], []
        for k in range(1 if quick else 2):           # interleaved: one rate, four rates, ...
            one.append(compare(client, {**body, "seed": 1 + k}, [0.05]))
            fours.append(compare(client, {**body, "seed": 100 + k}, [0.01, 0.03, 0.05, 0.1]))
        four = median(fours)
        out["compare"] = {"one_rate_s": median(one), "four_rates_s": four, "one_runs": one, "four_runs": fours,
                          "ratio_to_4x_one": four / (4 * median(one)), "cpus": os.cpu_count()}
        print(f"  server: compare 4 rates {four:.2f} s vs one {median(one):.2f} s", file=sys.stderr, flush=True)
    return out
