"""MNIST "downloads on request": engine.datasets.mnist.download in a background thread, its progress
kept for ``GET /api/datasets/mnist/download``. The mirrors and the timeout come from Settings."""
from __future__ import annotations

import re
import threading

from engine.datasets import DownloadError, mnist

_FILE = re.compile(r"^\s*(\S+\.gz): (downloading|already present|done)")
_PERCENT = re.compile(r"^\s*(\S+\.gz): .*\((\d+)%\)")
TOTAL = sum(mnist.SIZES.values())


class MnistDownload:
    """One download at a time; ``status`` is idle, running, done or error (with DownloadError's sentence)."""

    def __init__(self, settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state = {"status": "idle", "fraction": 0.0, "message": None, "error": None, "files_done": []}

    def snapshot(self) -> dict:
        with self._lock:
            state = {**self._state, "files_done": list(self._state["files_done"])}
        return {**state, "available": mnist.is_available(), "files": list(mnist.FILES), "total_bytes": TOTAL}

    def start(self) -> dict:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return None
            self._state = {"status": "running", "fraction": 0.0, "message": "starting", "error": None,
                           "files_done": [], "current": None}
            self._thread = threading.Thread(target=self._run, name="mnist-download", daemon=True)
            self._thread.start()
        return self.snapshot()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            folder = mnist.download(mirrors=self.settings.mnist_mirrors, progress=self._progress,
                                    timeout=self.settings.mnist_timeout)
        except DownloadError as exc:
            self._finish("error", str(exc))
        except OSError as exc:             # e.g. the cache folder is not writable
            self._finish("error", str(exc))
        else:
            self._finish("done", None, f"MNIST is ready in {folder}")

    def _finish(self, status: str, error: str | None, message: str | None = None) -> None:
        with self._lock:
            self._state.update(status=status, error=error, message=message or error)
            if status == "done":
                self._state["fraction"] = 1.0

    def _progress(self, message: str) -> None:
        with self._lock:
            state = self._state
            state["message"] = message.strip()
            found = _FILE.match(message)
            if found and found.group(1) in mnist.SIZES:
                name, what = found.groups()
                state["current"] = name
                if what != "downloading" and name not in state["files_done"]:
                    state["files_done"].append(name)
            percent = _PERCENT.match(message)
            current = percent.group(1) if percent else None
            done = sum(mnist.SIZES[f] for f in state["files_done"])
            if current in mnist.SIZES and current not in state["files_done"]:
                done += mnist.SIZES[current] * int(percent.group(2)) / 100
            state["fraction"] = round(min(1.0, done / TOTAL), 4)
