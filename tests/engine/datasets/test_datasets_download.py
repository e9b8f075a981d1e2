"""mnist.download against a real HTTP server on 127.0.0.1 serving the shared MNIST files."""
from __future__ import annotations

import http.server
import shutil
import socket
import threading

import pytest

from engine.datasets import mnist
from engine.datasets.mnist import DownloadError


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /good/<f> real bytes, /missing/<f> 404, /corrupt/<f> one byte flipped,
    /truncated/<f> full Content-Length but half the body, then the connection closes."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        """Serve one file according to the route prefix, and log the request."""
        route, _, name = self.path.strip("/").partition("/")
        self.server.log.append((route, name))
        body = self.server.files.get(name)
        if route == "missing" or body is None:
            self.send_error(404, "Not Found")
            return
        if route == "corrupt":
            body = body[:1000] + bytes([body[1000] ^ 0xFF]) + body[1001:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if route == "truncated" else body)
        self.close_connection = True

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def server(mnist_dir):
    """A threading HTTP server on 127.0.0.1, port 0; yields (base URL, request log)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files = {name: (mnist_dir / name).read_bytes() for name in mnist.FILES}
    httpd.log = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.log
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url():
    """A URL on a port that nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _only_final_files(dest):
    """The four file names and nothing else (no .part temp files) in dest."""
    return sorted(p.name for p in dest.iterdir()) == sorted(mnist.FILES)


def test_404_mirror_then_good_mirror(server, tmp_path):
    base, log = server
    log.clear()
    messages = []
    dest = tmp_path / "data"
    out = mnist.download(dest, mirrors=[f"{base}/missing/", f"{base}/good/"], progress=messages.append)
    assert out == dest and _only_final_files(dest)
    assert mnist.verify_checksums(dest) == {name: True for name in mnist.FILES}
    assert log == [(route, name) for name in mnist.FILES for route in ("missing", "good")]
    text = "\n".join(messages)
    assert "HTTP 404" in text and "trying the next mirror" in text
    assert "(100%)" in text and "9.9 MB" in text                    # progress in bytes and percent
    (x_train, y_train), _ = mnist.load_data(dest)
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]


def test_checksum_mismatch_then_good_mirror(server, tmp_path):
    base, log = server
    log.clear()
    messages = []
    dest = tmp_path / "data"
    mnist.download(dest, mirrors=[f"{base}/corrupt", f"{base}/good"], progress=messages.append)
    assert _only_final_files(dest)
    assert mnist.verify_checksums(dest) == {name: True for name in mnist.FILES}
    assert [r for r, _ in log] == ["corrupt", "good"] * 4
    assert sum("checksum mismatch" in m for m in messages) == 4


def test_every_mirror_fails_raises_one_clear_sentence(server, tmp_path, refused_url):
    base, log = server
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        mnist.download(dest, mirrors=[f"{base}/missing/", refused_url, f"{base}/truncated/"],
                       progress=None, timeout=5)
    msg = str(info.value)
    assert msg.count(". ") == 0 and msg.endswith(".") and "\n" not in msg    # one sentence
    assert "failed" in msg and "offline" in msg and str(dest) in msg and "BACKPROP_LAB_DATA" in msg
    assert all(name in msg for name in mnist.FILES)               # which files to put there by hand
    (u1, e1), (u2, e2), (u3, e3) = info.value.errors               # details per mirror, for logs
    assert "/missing/" in u1 and e1 == "HTTP 404 Not Found"
    assert u2.startswith(refused_url) and "connection failed" in e2
    assert "/truncated/" in u3 and e3 == "connection closed after 4956211 of 9912422 bytes"
    assert list(dest.iterdir()) == []                             # no final file, no temp file


def test_present_files_are_skipped_and_bad_ones_replaced(server, tmp_path, mnist_dir):
    base, log = server
    dest = tmp_path / "data"
    dest.mkdir()
    for name in mnist.FILES:
        shutil.copy(mnist_dir / name, dest / name)
    log.clear()
    messages = []
    mnist.download(dest, mirrors=[f"{base}/missing/"], progress=messages.append)
    assert log == [] and sum("already present" in m for m in messages) == 4

    (dest / mnist.TRAIN_LABELS).write_bytes(b"not the labels")
    mnist.download(dest, mirrors=[f"{base}/good/"], progress=None)
    assert log == [("good", mnist.TRAIN_LABELS)]
    assert mnist.verify_checksums(dest)[mnist.TRAIN_LABELS] and _only_final_files(dest)


def test_default_destination_is_the_cache_folder(server, monkeypatch, tmp_path):
    base, _ = server
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert not mnist.is_available()
    dest = mnist.download(mirrors=[f"{base}/good/"], progress=None)
    assert dest == tmp_path / "cache" / "backprop-lab" / "mnist"
    assert mnist.is_available() and mnist.find_dir() == dest
