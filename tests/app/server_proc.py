"""The app served by uvicorn in a subprocess, for tests that measure the server's peak memory."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
from app_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``backprop-lab``'s app (default Settings) in its own process on 127.0.0.1.

    ``peak_growth_mb(fn)`` resets the process's high-water mark of resident memory (Linux: VmHWM in
    /proc/PID/status, reset by writing 5 to clear_refs), runs ``fn`` and answers how far the peak
    rose above the resident size before it; elsewhere the RSS is sampled every 5 ms instead."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"], cwd=ROOT)
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20

    def _hwm_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def peak_growth_mb(self, fn):
        """(fn's result, MB the server's peak resident memory rose above its size before fn)."""
        before = self.rss_mb()
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
            exact = self._hwm_mb() is not None
        except OSError:
            exact = False
        peak, stop = [before], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], self.rss_mb())
                time.sleep(0.005)
        sampler = None if exact else threading.Thread(target=sample, daemon=True)
        if sampler:
            sampler.start()
        try:
            result = fn()
        finally:
            stop.set()
            if sampler:
                sampler.join()
        top = self._hwm_mb() if exact else peak[0]
        return result, max(0.0, top - before)


def raw_request(base: str, head: str, body_chunks, timeout: float = 60) -> tuple[int, bytes]:
    """Send ``head`` (request line and headers) and the body chunks from a thread while reading the
    answer (a server may answer, and close, before the body is all sent); (status, answer body)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)

    def sender():
        try:
            sock.sendall(head.encode("latin-1"))
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass            # the server answered and closed before the whole body arrived
    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data) < _length(data):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    finally:
        sock.close()
        thread.join(timeout=timeout)
    header, _, body = data.partition(b"\r\n\r\n")
    return int(header.split(b" ", 2)[1]), body


def _length(data: bytes) -> int:
    header, _, _ = data.partition(b"\r\n\r\n")
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(header) + 4 + int(value.strip())
    return 1 << 62
