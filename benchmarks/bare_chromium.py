"""Debian's Chromium, headless, driven through its DevTools protocol with nothing but ``Runtime``
(evaluate an expression): the page runs as in a student's browser, which no automation watches.

Playwright enables the ``Network`` domain on every page it opens, so Chromium sends it each
WebSocket frame the page receives, base64 in a JSON event: on MNIST (453 KB frames, 25 a second)
that is about 15 MB/s of events through the browser process and Playwright's driver (measured
2026-12-02: the browser process's main thread 4.3 ms a frame on MNIST against 0.9 on xor, and the
driver 0.11 of a core), CPU that a student's browser does not spend and that the training lost.
benchmarks/page_fps.py uses this by default (``--playwright`` for the old way).
"""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


class BareChromium:
    """One headless Chromium process (``launch``: its flags), its DevTools port read from the
    profile's DevToolsActivePort file; ``open(url)`` gives a Tab. Close it (or use ``with``)."""

    def __init__(self, launch: list[str], width: int = 1280, height: int = 900, timeout: float = 30):
        self.profile = Path(tempfile.mkdtemp(prefix="bare-chromium-"))
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", *launch, "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        port_file = self.profile / "DevToolsActivePort"
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def open(self, url: str) -> Tab:
        where = urllib.parse.quote(url, safe=":/")        # all of it: Chrome reads the whole query as the URL
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?{where}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as answer:
            target = json.load(answer)
        return Tab(self, target["id"], target["webSocketDebuggerUrl"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Tab:
    """A page: ``evaluate(expression)`` (promises awaited, the value returned as JSON data)."""

    def __init__(self, browser: BareChromium, target: str, ws_url: str):
        from websockets.sync.client import connect
        self.browser, self.target = browser, target
        self.ws = connect(ws_url, max_size=None, open_timeout=10)
        self.ids = itertools.count(1)

    def evaluate(self, expression: str):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": "Runtime.evaluate", "params": {
            "expression": expression, "awaitPromise": True, "returnByValue": True}}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == i:
                break
        result = message.get("result", {})
        if "exceptionDetails" in result or "error" in message:
            raise RuntimeError(f"{expression[:60]}: {result.get('exceptionDetails') or message.get('error')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} (at {self.evaluate('location.href')})")
            time.sleep(0.1)

    def close(self) -> None:
        self.ws.close()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.browser.port}/json/close/{self.target}", timeout=10).close()
        except OSError:
            pass
