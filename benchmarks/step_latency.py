"""Measure the latency of POST /step on the default network against a real uvicorn on 127.0.0.1.

Not a test (pytest does not collect it): run ``python3 benchmarks/step_latency.py [n]`` and read p50/p90.
The network is the one the page starts with (GET /api/options "defaults": 2-8-8-2 tanh on the xor
set, batch 16); the server runs with one BLAS thread, as ``backprop-lab serve`` does. The main lines
time an httpx client, as ``python -m benchmarks`` does; the "raw socket" lines time the same requests
from a bare HTTP/1.1 keep-alive socket, i.e. the server and the loopback without httpx's own cost.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class RawClient:
    """POST over one keep-alive socket, reading exactly Content-Length bytes of answer (200 only).

    uvicorn closes a connection idle for 5 s (the httpx lines run in between): the request then goes
    again on a new connection instead of reading an empty socket forever."""

    def __init__(self, port: int):
        self.port = port
        self.sock = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        return chunk

    def post(self, path: str) -> bytes:
        try:
            return self._post(path)
        except (ConnectionResetError, BrokenPipeError):
            self.sock.close()
            self.sock = self._connect()
            return self._post(path)

    def _post(self, path: str) -> bytes:
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if status.split(b" ")[1:2] != [b"200"]:
            raise RuntimeError(f"POST {path}: {status.decode('latin-1')}")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += self._recv()
        return body


def timed(post, path: str, n: int) -> list[float]:
    for _ in range(50):
        post(path)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        post(path)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main(n: int = 500) -> None:
    port = free_port()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              cwd=root, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    net = client.get("/api/options").json()["defaults"]
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            sid = client.post("/api/sessions", json=net).json()["id"]
            raw = RawClient(port)
            for query in ("", "?encoding=b64"):
                name = query.split("=")[-1] or "json"
                for label, post in (("", lambda p: client.post(p).raise_for_status()), (" raw socket", raw.post)):
                    times = timed(post, f"/api/sessions/{sid}/step{query}", n)
                    print(f"/step {name:4s}{label}: p50 {statistics.median(times):.2f} ms, "
                          f"p90 {percentile(times, 0.9):.2f} ms, p99 {percentile(times, 0.99):.2f} ms")
            print(f"answer: {len(client.post(f'/api/sessions/{sid}/step').content)} bytes as JSON")
            epoch = []
            for _ in range(20):
                t0 = time.perf_counter()
                client.post(f"/api/sessions/{sid}/epoch")
                epoch.append((time.perf_counter() - t0) * 1000)
            print(f"/epoch ({net['dataset']['name']}, batch {net['batch_size']}): "
                  f"p50 {statistics.median(epoch):.2f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
