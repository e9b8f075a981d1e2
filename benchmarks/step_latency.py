"""Measure the latency of POST /step on a 2-8-8-2 net against a real uvicorn on 127.0.0.1.

Not a test (pytest does not collect it): run ``python tests/app/bench_step.py [n]`` and read p50/p90.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

NET = {"dataset": {"name": "xor", "seed": 0},
       "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"},
                  {"units": 2, "activation": "softmax"}],
       "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 16, "seed": 0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(n: int = 500) -> None:
    port = free_port()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=root)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    client.get("/api/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            sid = client.post("/api/sessions", json=NET).json()["id"]
            for query in ("", "?encoding=b64"):
                for _ in range(50):
                    client.post(f"/api/sessions/{sid}/step{query}")
                times = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = client.post(f"/api/sessions/{sid}/step{query}")
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                name = query.split("=")[-1] or "json"
                print(f"/step {name:4s}: p50 {statistics.median(times):.2f} ms, p90 {percentile(times, 0.9):.2f} ms, "
                      f"{len(r.content)} bytes")
            epoch = []
            for _ in range(20):
                t0 = time.perf_counter()
                client.post(f"/api/sessions/{sid}/epoch")
                epoch.append((time.perf_counter() - t0) * 1000)
            print(f"/epoch (xor, 250 train rows): p50 {statistics.median(epoch):.2f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
